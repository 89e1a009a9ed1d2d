"""Payments at the desk and refunds; the patient's balance is in `billing.selectors`.

A refund pays back at most what was paid on an invoice beyond what it asks now: a refund
returns money, it does not lower the claim, so the desk credits the invoice first (a credit
note) when the patient no longer owes it. Money taken online goes back the same way, through
the provider that took it (`online_refund`); the desk records cash and the like by hand
(`payment_refund`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OnlinePayment,
    Payment,
    PaymentMethod,
)
from billing.money import to_currency
from billing.providers import payment_provider
from billing.selectors import invoice_outstanding
from practice.models import User


def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    method: str,
    by: User | None,
    reference: str = "",
    now: datetime | None = None,
) -> Payment:
    """Money received for an issued invoice: in part (an instalment) or in full, never more
    than is outstanding."""
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose a payment method.")})
    if to_currency(amount, invoice.currency) != amount or amount <= 0:
        raise ValidationError({"amount": _("Enter a positive amount in the invoice's currency.")})
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.ISSUED or locked.kind != InvoiceKind.INVOICE:
            raise ValidationError(_("Payments are taken for issued invoices."))
        outstanding = invoice_outstanding(locked)
        if amount > outstanding:
            raise ValidationError(
                {"amount": _("Only %(due)s is outstanding.") % {"due": outstanding}}
            )
        return Payment.objects.create(
            practice_id=locked.practice_id,
            patient=locked.patient,
            invoice=locked,
            amount=amount,
            method=method,
            reference=reference[:200],
            received_by=by,
            received_at=now or timezone.now(),
        )


def _refund_amount_check(amount: Decimal, invoice: Invoice) -> None:
    if to_currency(amount, invoice.currency) != amount or amount <= 0:
        raise ValidationError({"amount": _("Enter a positive amount in the invoice's currency.")})


def _refund_within_overpayment(amount: Decimal, locked: Invoice) -> None:
    overpaid = -invoice_outstanding(locked)
    if amount > overpaid:
        raise ValidationError(
            {
                "amount": _(
                    "At most %(over)s can be refunded: what was paid beyond what the invoice "
                    "asks. Credit the invoice first if the patient no longer owes it."
                )
                % {"over": overpaid if overpaid > 0 else to_currency(Decimal(0), locked.currency)}
            }
        )


def payment_refund(
    *,
    invoice: Invoice,
    amount: Decimal,
    method: str,
    by: User | None,
    reference: str = "",
    now: datetime | None = None,
) -> Payment:
    """Pay money back on an invoice by hand (cash, a transfer): at most what was paid on it
    beyond what it still asks (after its credit notes). Money taken online goes back through
    the provider instead (`online_refund`)."""
    if method not in PaymentMethod.values or method == PaymentMethod.ONLINE:
        raise ValidationError({"method": _("Choose how the money is paid back.")})
    _refund_amount_check(amount, invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _refund_within_overpayment(amount, locked)
        return Payment.objects.create(
            practice_id=locked.practice_id,
            patient=locked.patient,
            invoice=locked,
            amount=-amount,
            method=method,
            reference=reference[:200],
            received_by=by,
            received_at=now or timezone.now(),
        )


def refundable(payment: Payment) -> Decimal:
    """What is left to refund of an online payment: what it took less its refunds."""
    refunded = payment.refunds.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return payment.amount + refunded


def is_refundable_online(payment: Payment) -> bool:
    return (
        payment.method == PaymentMethod.ONLINE
        and payment.amount > 0
        and payment.refund_of_id is None
    )


def refund_record(
    *,
    original: Payment,
    amount: Decimal,
    reference: str,
    by: User | None,
    now: datetime | None = None,
) -> Payment:
    """The row of a refund the provider made of `original`: a negative online payment named
    by the provider's refund id (recorded once: `payment_online_once`)."""
    return Payment.objects.create(
        practice_id=original.practice_id,
        patient_id=original.patient_id,
        invoice_id=original.invoice_id,
        amount=-amount,
        method=PaymentMethod.ONLINE,
        reference=reference,
        refund_of=original,
        received_by=by,
        received_at=now or timezone.now(),
    )


def online_refund(
    *, payment: Payment, amount: Decimal, by: User | None, now: datetime | None = None
) -> Payment:
    """Give back (part of) an online payment through the provider that took it: at most what
    is left of it (`refundable`) and what was paid on its invoice beyond what it asks."""
    invoice = payment.invoice
    if not is_refundable_online(payment) or invoice is None:
        raise ValidationError(_("Only a payment taken online is refunded through the provider."))
    _refund_amount_check(amount, invoice)
    with transaction.atomic():
        # The invoice's lock queues two refunds of one payment (two clicks, the desk and a
        # package's cancellation): the second sees the first's row and its limits.
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        left = to_currency(refundable(payment), locked.currency)
        if amount > left:
            raise ValidationError(
                {"amount": _("Only %(left)s of this payment is left to refund.") % {"left": left}}
            )
        _refund_within_overpayment(amount, locked)
        intent = OnlinePayment.objects.get(
            practice_id=payment.practice_id, invoice=locked, intent_id=payment.reference
        )
        refund = payment_provider(intent.provider).refund(
            intent_id=intent.intent_id,
            amount=amount,
            currency=locked.currency,
            # A retry of this very refund (same payment, same amount, same refunds before it)
            # is one refund at the provider.
            idempotency_key=f"refund-{payment.pk}-{left}-{amount}",
        )
        if refund.status in ("failed", "canceled"):
            raise ValidationError(_("The payment provider could not make the refund."))
        return refund_record(original=payment, amount=amount, reference=refund.id, by=by, now=now)


def refund_overpayment(*, invoice: Invoice, method: str, by: User | None) -> list[Payment]:
    """Refund whatever was paid on `invoice` beyond what it asks now, if anything: money taken
    online back through the provider (newest payment first), the rest by `method`, one of the
    desk's."""
    refunds: list[Payment] = []
    overpaid = -invoice_outstanding(invoice)
    online = invoice.payments.filter(
        method=PaymentMethod.ONLINE, amount__gt=0, refund_of__isnull=True
    ).order_by("-received_at", "-id")
    for payment in online:
        amount = min(overpaid, refundable(payment))
        if amount > 0:
            refunds.append(online_refund(payment=payment, amount=amount, by=by))
            overpaid -= amount
    if overpaid > 0:
        refunds.append(payment_refund(invoice=invoice, amount=overpaid, method=method, by=by))
    return refunds
