"""What a session or a course costs, and the charges that fix it.

Price history without a hook into booking: prices are rows of the catalogue's price list
(`practice.prices`) that are never changed, each valid from a moment, so "the price a session
was booked at" is the price in force at the session's `created_at`. Charging a session later,
or invoicing it a month on, still bills that price, and `sessions` needs to know nothing of
billing.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingSettings, Charge, ChargeKind, ChargeStatus
from billing.money import LineAmounts, line_amounts
from patients.models import Patient
from practice.models import Practice
from practice.prices import Price, price_at
from sessions.models import Session


def billing_settings(practice: Practice | int) -> BillingSettings:
    practice_id = practice if isinstance(practice, int) else practice.pk
    found, _created = BillingSettings.objects.get_or_create(practice_id=practice_id)
    return found


def currency_of(practice: Practice) -> str:
    return practice.settings.currency


def amounts_for(
    practice: Practice, *, unit_price: Decimal, quantity: int = 1, tax_rate: Decimal | None = None
) -> LineAmounts:
    """A price as net, tax and gross under the practice's settings (entered gross or net)."""
    policy = billing_settings(practice)
    return line_amounts(
        unit_price=unit_price,
        quantity=quantity,
        tax_rate=policy.tax_rate if tax_rate is None else tax_rate,
        gross_prices=policy.prices_include_tax,
        currency=currency_of(practice),
    )


def charge_create(
    *,
    patient: Patient,
    kind: str,
    description: str,
    amounts: LineAmounts,
    tax_rate: Decimal,
    session: Session | None = None,
    course_id: int | None = None,
    status: str = ChargeStatus.OPEN,
) -> Charge:
    charge = Charge(
        practice_id=patient.practice_id,
        patient=patient,
        session=session,
        course_id=course_id,
        kind=kind,
        description=description[:200],
        net=amounts.net,
        tax=amounts.tax,
        gross=amounts.gross,
        tax_rate=tax_rate,
        status=status,
    )
    charge.full_clean(validate_constraints=False)
    charge.save()
    return charge


def session_price(session: Session) -> tuple[Price, LineAmounts, Decimal]:
    """The session's price as booked; a ValidationError when the practice has none."""
    price = price_at(
        massage_type=session.massage_type, minutes=session.minutes, moment=session.created_at
    )
    if price is None:
        raise ValidationError(
            _("There is no price for %(minutes)d minutes of %(type)s.")
            % {"minutes": session.minutes, "type": session.massage_type.display_name}
        )
    rate = (
        billing_settings(session.practice_id).tax_rate if price.tax_rate is None else price.tax_rate
    )
    return price, amounts_for(session.practice, unit_price=price.amount, tax_rate=rate), rate


def session_charge(*, session: Session) -> Charge:
    """The charge for a session at the price it was booked at; charging it again returns
    the same charge. A session of a course sold as a package draws from the package."""
    existing = Charge.objects.filter(
        practice_id=session.practice_id, session=session, kind=ChargeKind.SESSION
    ).first()
    if existing is not None:
        return existing
    if session.course_id is not None and hasattr(session.course, "package"):
        raise ValidationError(_("This session is part of a paid course package."))
    _price, amounts, rate = session_price(session)
    description = _("%(type)s, %(minutes)d min, %(day)s") % {
        "type": session.massage_type.display_name,
        "minutes": session.minutes,
        "day": timezone.localtime(session.starts_at, session.practice.zone).date().isoformat(),
    }
    try:
        with transaction.atomic():
            return charge_create(
                patient=session.patient,
                kind=ChargeKind.SESSION,
                description=description,
                amounts=amounts,
                tax_rate=rate,
                session=session,
            )
    except IntegrityError:
        # A concurrent click charged it first (charge_once_per_session_kind).
        return Charge.objects.get(
            practice_id=session.practice_id, session=session, kind=ChargeKind.SESSION
        )
