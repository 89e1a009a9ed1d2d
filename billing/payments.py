"""Payments at the desk and refunds; the patient's balance is in `billing.selectors`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from billing.money import to_currency
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


def payment_refund(
    *,
    invoice: Invoice,
    amount: Decimal,
    method: str,
    by: User | None,
    reference: str = "",
    now: datetime | None = None,
) -> Payment:
    """Pay money back on an invoice: at most what was paid on it beyond what it still
    asks (after its credit notes)."""
    if to_currency(amount, invoice.currency) != amount or amount <= 0:
        raise ValidationError({"amount": _("Enter a positive amount in the invoice's currency.")})
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        overpaid = -invoice_outstanding(locked)
        if amount > overpaid:
            raise ValidationError(
                {"amount": _("At most %(over)s can be refunded.") % {"over": max(overpaid, 0)}}
            )
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


def refund_overpayment(*, invoice: Invoice, method: str, by: User | None) -> Payment | None:
    """Refund whatever was paid on `invoice` beyond what it asks now, if anything."""
    overpaid = -invoice_outstanding(invoice)
    if overpaid <= 0:
        return None
    return payment_refund(invoice=invoice, amount=overpaid, method=method, by=by)
