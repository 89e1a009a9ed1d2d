"""Reads: invoices, what is outstanding, a patient's balance. Reports build on these."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from django.db.models import QuerySet, Sum

from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from billing.money import to_currency
from patients.models import Patient
from practice.models import Practice


def _sum(rows: QuerySet, field: str) -> Decimal:
    return rows.aggregate(total=Sum(field))["total"] or Decimal(0)


def invoice_outstanding(invoice: Invoice) -> Decimal:
    """What is still to pay on an issued invoice: its total, less its credit notes and the
    payments on it (refunds add back). Negative: paid more than it asks now."""
    credited = _sum(invoice.credit_notes.filter(status=InvoiceStatus.ISSUED), "gross")
    paid = _sum(Payment.objects.filter(invoice=invoice), "amount")
    return to_currency(invoice.gross + credited - paid, invoice.currency)


class PatientBalance(NamedTuple):
    # Issued invoices and credit notes less payments: positive, the patient owes; negative,
    # the practice owes them (credit on account).
    invoiced: Decimal
    # Charges not yet on an invoice (open) and fees waiting for the desk (drafts).
    to_invoice: Decimal
    drafted_fees: Decimal


def patient_balance(patient: Patient) -> PatientBalance:
    issued = Invoice.objects.for_practice(patient.practice_id).filter(
        patient=patient, status=InvoiceStatus.ISSUED
    )
    payments = Payment.objects.for_practice(patient.practice_id).filter(patient=patient)
    charges = Charge.objects.for_practice(patient.practice_id).filter(patient=patient)
    return PatientBalance(
        invoiced=_sum(issued, "gross") - _sum(payments, "amount"),
        to_invoice=_sum(charges.filter(status=ChargeStatus.OPEN), "gross"),
        drafted_fees=_sum(charges.filter(status=ChargeStatus.DRAFT), "gross"),
    )


def invoices_of(practice: Practice | int, *, patient: Patient | None = None) -> QuerySet[Invoice]:
    """A practice's invoices and credit notes (one patient's when given), with what a list
    shows, without a query per row."""
    rows = (
        Invoice.objects.for_practice(practice)
        .select_related("patient", "credits")
        .annotate(
            paid=Sum("payments__amount", default=Decimal(0)),
        )
    )
    return rows.filter(patient=patient) if patient is not None else rows


def issued_invoices_of(patient: Patient) -> QuerySet[Invoice]:
    return invoices_of(patient.practice_id, patient=patient).filter(status=InvoiceStatus.ISSUED)


def outstanding_by_invoice(patient: Patient) -> list[tuple[Invoice, Decimal]]:
    """The patient's issued invoices (not credit notes), each with what is outstanding on it:
    negative when more was paid than it asks (after its credit notes)."""
    rows = issued_invoices_of(patient).filter(kind=InvoiceKind.INVOICE)
    return [(invoice, invoice_outstanding(invoice)) for invoice in rows]


def open_invoices_of(patient: Patient) -> list[tuple[Invoice, Decimal]]:
    """The patient's issued invoices with something still to pay, and how much."""
    return [(invoice, due) for invoice, due in outstanding_by_invoice(patient) if due > 0]


def charges_waiting(patient: Patient) -> QuerySet[Charge]:
    """Open charges and drafted fees of the patient, for the desk."""
    return (
        Charge.objects.for_practice(patient.practice_id)
        .filter(patient=patient, status__in=[ChargeStatus.OPEN, ChargeStatus.DRAFT])
        .select_related("session")
    )
