"""Late cancellation and no-show fees, drafted by the practice's policy.

A late cancel or a no-show (R13's "missed" session) drafts a fee: a `Charge` in DRAFT, so the
desk sees it and either lets it stand (it is invoiced like any charge) or waives it with a
reason. Who waived it, when and why stay on the charge.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingSettings, Charge, ChargeKind, ChargeStatus, FeeKind
from billing.money import percent_of
from billing.pricing import amounts_for, billing_settings, charge_create, session_price
from practice.models import User
from sessions.models import Session, SessionStatus


def fee_policy(policy: BillingSettings, session: Session) -> tuple[str, str, Decimal]:
    """(charge kind, fee kind, value) for a missed session under `policy`."""
    if session.status == SessionStatus.NO_SHOW:
        return ChargeKind.NO_SHOW_FEE, policy.no_show_fee, policy.no_show_fee_value
    return ChargeKind.LATE_CANCEL_FEE, policy.late_cancel_fee, policy.late_cancel_fee_value


def missed_session_fee_draft(*, session: Session) -> Charge | None:
    """The fee the practice's policy asks for a missed session (None: no fee, or none due
    because the session was drawn from a package and the policy is a percentage of nothing)."""
    if not session.is_missed:
        return None
    policy = billing_settings(session.practice_id)
    kind, fee_kind, value = fee_policy(policy, session)
    if fee_kind == FeeKind.NONE or value <= 0:
        return None
    if Charge.objects.filter(practice_id=session.practice_id, session=session, kind=kind).exists():
        return None
    currency = session.practice.settings.currency
    rate = policy.tax_rate
    if fee_kind == FeeKind.PERCENT:
        try:
            price, _amounts, rate = session_price(session)
        except ValidationError:
            return None  # No price, no percentage of it: the desk can still charge by hand.
        fee = percent_of(price.amount, value, currency)
    else:
        fee = value
    starts = timezone.localtime(session.starts_at, session.practice.zone)
    return charge_create(
        patient=session.patient,
        kind=kind,
        description=f"{ChargeKind(kind).label}: {starts:%Y-%m-%d %H:%M}",
        amounts=amounts_for(session.practice, unit_price=fee, tax_rate=rate),
        tax_rate=rate,
        session=session,
        status=ChargeStatus.DRAFT,
    )


def fee_waive(*, charge: Charge, by: User, reason: str, now: datetime | None = None) -> Charge:
    """The desk lets a drafted fee go; the reason is required and kept."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the fee is waived.")})
    if charge.kind not in (ChargeKind.LATE_CANCEL_FEE, ChargeKind.NO_SHOW_FEE):
        raise ValidationError(_("Only a cancellation or no-show fee can be waived."))
    with transaction.atomic():
        changed = Charge.objects.filter(
            pk=charge.pk, status__in=[ChargeStatus.DRAFT, ChargeStatus.OPEN]
        ).update(
            status=ChargeStatus.WAIVED,
            waived_by=by,
            waived_at=now or timezone.now(),
            waive_reason=reason[:300],
        )
        if not changed:
            raise ValidationError(_("This fee is already invoiced or waived."))
    charge.refresh_from_db()
    return charge


def fee_confirm(*, charge: Charge) -> Charge:
    """The desk lets a drafted fee stand: it is invoiced with the patient's next invoice."""
    changed = Charge.objects.filter(pk=charge.pk, status=ChargeStatus.DRAFT).update(
        status=ChargeStatus.OPEN
    )
    if not changed:
        raise ValidationError(_("Only a drafted fee can be confirmed."))
    charge.refresh_from_db()
    return charge
