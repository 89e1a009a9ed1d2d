"""Deposits for sessions booked online, where the practice asks for them.

The practice's policy (`BillingSettings.deposit`): no deposit (the default), a fixed amount (at
most the session's price), or a percentage of the price the session is booked at. When a
patient books a single session themselves in the portal or the app (`sessions.signals.
session_booked` with `online`; a course, a desk booking and a waitlist offer ask none), the
deposit's invoice is issued in the booking's transaction, and the booking is *held*: the
portal sends the patient on to pay it online and the API's answer names what is due, through
the registry sessions keeps for this (`sessions.booking.holds`, answered by
`deposit_payment_due`).

At `due_at` (the practice's `deposit_minutes` after booking, at the latest the session's start)
the sweep (`billing.tasks.release_unpaid_deposits`, every minute) decides each deposit once:
- paid in full (online or at the desk), or the patient came already: the booking is kept;
- unpaid: the booking is released. The session is cancelled by the practice through the
  sessions service (never a late cancellation, so no fee; the patient is told and the time
  goes to the waitlist) and the deposit invoice is credited, so nobody owes it. Money that
  arrives after that (a checkout finished late) is an overpayment, for the desk to refund.

The deposit counts toward the session: the invoice that bills the session takes the deposit's
lines off again (`billing.invoicing.invoice_draft`), so the two bill the price once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.invoicing import credit_note_issue, invoice_draft, invoice_issue
from billing.models import ChargeKind, Deposit, DepositKind, DepositStatus
from billing.money import percent_of
from billing.pricing import amounts_for, billing_settings, charge_create, session_price
from billing.selectors import invoice_outstanding
from sessions.booking.holds import PaymentDue
from sessions.booking.sessions import session_cancel
from sessions.models import Session, SessionStatus

# Most deposits one sweep decides; the next sweep takes the rest.
SWEEP_BATCH = 200


def deposit_ask(*, session: Session, now: datetime) -> Deposit | None:
    """The deposit the practice's policy asks of a single session booked online, its invoice
    issued; None when the policy asks none (or a percentage of a session without a price)."""
    if session.course_id is not None:
        return None
    policy = billing_settings(session.practice_id)
    if policy.deposit == DepositKind.NONE or policy.deposit_value <= 0:
        return None
    try:
        price, _amounts, rate = session_price(session)
    except ValidationError:
        price, rate = None, policy.tax_rate
    if policy.deposit == DepositKind.FIXED:
        amount = policy.deposit_value if price is None else min(policy.deposit_value, price.amount)
    elif price is not None:
        amount = percent_of(price.amount, policy.deposit_value, session.practice.settings.currency)
    else:
        return None  # a percentage of no price: the desk asks by hand if it must
    if amount <= 0:
        return None
    starts = timezone.localtime(session.starts_at, session.practice.zone)
    with translation.override(session.practice.settings.language):
        description = _("Deposit: %(type)s, %(minutes)d min, %(start)s") % {
            "type": session.massage_type.display_name,
            "minutes": session.minutes,
            "start": f"{starts:%Y-%m-%d %H:%M}",
        }
    charge = charge_create(
        patient=session.patient,
        kind=ChargeKind.DEPOSIT,
        description=description,
        amounts=amounts_for(session.practice, unit_price=amount, tax_rate=rate),
        tax_rate=rate,
        session=session,
    )
    invoice = invoice_issue(
        invoice=invoice_draft(patient=session.patient, charges=[charge]), by=None, now=now
    )
    return Deposit.objects.create(
        practice_id=session.practice_id,
        session=session,
        invoice=invoice,
        due_at=min(now + timedelta(minutes=policy.deposit_minutes), session.starts_at),
    )


def deposit_payment_due(session: Session) -> PaymentDue | None:
    """The hold source billing registers (`sessions.booking.holds`): what is left to pay of
    the session's deposit while it is due."""
    deposit = (
        Deposit.objects.filter(session_id=session.pk, status=DepositStatus.DUE)
        .select_related("invoice")
        .first()
    )
    if deposit is None:
        return None
    invoice = deposit.invoice
    left = invoice_outstanding(invoice)
    if left <= 0:
        return None
    return PaymentDue(
        reason="deposit",
        amount=left,
        currency=invoice.currency,
        due_at=deposit.due_at,
        invoice_id=invoice.pk,
        page_url=reverse(
            "billing-portal:deposit",
            kwargs={"practice_slug": session.practice.slug, "pk": session.pk},
        ),
        api_url=reverse("v1:invoice-pay-online", kwargs={"pk": invoice.pk}),
    )


def deposit_decide(*, deposit_id: int, now: datetime | None = None) -> str:
    """Keep or release the booking of a deposit that fell due (see the module); answers
    "kept", "released", or "" when there was nothing to decide. Safe to run twice, and
    concurrently: the deposit's row lock queues the second, which finds it decided."""
    now = now or timezone.now()
    with transaction.atomic():
        deposit = (
            Deposit.objects.select_for_update(of=("self",))
            .select_related("invoice", "practice__settings")
            .filter(pk=deposit_id, status=DepositStatus.DUE, due_at__lte=now)
            .first()
        )
        if deposit is None:
            return ""
        # The session's lock: a check-in at this moment waits, then finds it cancelled.
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("practice__settings", "patient", "therapist", "massage_type")
            .get(pk=deposit.session_id)
        )
        unpaid = invoice_outstanding(deposit.invoice) > 0
        if unpaid and session.status in (SessionStatus.BOOKED, SessionStatus.CANCELLED):
            if session.status == SessionStatus.BOOKED:
                with translation.override(deposit.practice.settings.language):
                    reason = _("The deposit was not paid in time.")
                session_cancel(session=session, by=None, reason=reason, now=now, hold_expired=True)
            credit_note_issue(invoice=deposit.invoice, by=None, now=now)
            deposit.status = DepositStatus.RELEASED
        else:
            deposit.status = DepositStatus.KEPT
        deposit.decided_at = now
        deposit.save(update_fields=["status", "decided_at"])
    return deposit.status


def deposits_decide_due(*, now: datetime | None = None) -> int:
    """`deposit_decide` for each deposit due by `now`, each in its own transaction. Returns
    how many were decided."""
    now = now or timezone.now()
    due = (
        Deposit.objects.filter(status=DepositStatus.DUE, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(1 for pk in list(due) if deposit_decide(deposit_id=pk, now=now))
