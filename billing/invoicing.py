"""Invoices and credit notes: drafting from charges, issuing with a gapless number.

Numbers run per practice and calendar year (in the practice's time zone) without gaps, as tax
law asks: issuing takes the year's `InvoiceCounter` row with SELECT … FOR UPDATE, so
concurrent issuers wait for each other, and a failed issue rolls its number back with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import (
    Charge,
    ChargeKind,
    ChargeStatus,
    DepositStatus,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from billing.money import LineAmounts, to_currency
from patients.models import Patient
from practice.models import User
from sessions.reminders.outbox import document_issued_remind


def _deposit_deductions(
    practice_id: int, charges: list[Charge], invoice: Invoice
) -> list[InvoiceLine]:
    """Lines taking off the deposits asked for the sessions being billed (`billing.deposits`):
    a session and its deposit bill its price once. A deposit released unpaid, or credited by
    hand (refunded after a cancellation), was not kept and is not taken off."""
    sessions = [c.session_id for c in charges if c.kind == ChargeKind.SESSION and c.session_id]
    if not sessions:
        return []
    deposit_lines = (
        InvoiceLine.objects.filter(
            practice_id=practice_id, invoice__deposit__session_id__in=sessions
        )
        .exclude(invoice__deposit__status=DepositStatus.RELEASED)
        .exclude(invoice__credit_notes__status=InvoiceStatus.ISSUED)
        .select_related("invoice")
        .order_by("id")
    )
    return [
        InvoiceLine(
            practice_id=practice_id,
            invoice=invoice,
            description=(
                _("Less the deposit, invoice %(number)s") % {"number": line.invoice.display_number}
            )[:200],
            net=-line.net,
            tax_rate=line.tax_rate,
            tax=-line.tax,
            gross=-line.gross,
        )
        for line in deposit_lines
    ]


def invoice_draft(*, patient: Patient, charges: Iterable[Charge]) -> Invoice:
    """A draft invoice with a line for each open charge of the patient, and one taking off
    each session's deposit; the charges are then invoiced (a charge is on one invoice only)."""
    with transaction.atomic():
        ids = [charge.pk for charge in charges]
        locked = list(
            Charge.objects.select_for_update()
            .filter(pk__in=ids, practice_id=patient.practice_id, patient=patient)
            .order_by("id")
        )
        if not locked or len(locked) != len(set(ids)):
            raise ValidationError(_("Choose charges of this patient."))
        if any(charge.status != ChargeStatus.OPEN for charge in locked):
            raise ValidationError(_("Only open charges can be invoiced (confirm a drafted fee)."))
        invoice = Invoice.objects.create(
            practice_id=patient.practice_id,
            patient=patient,
            currency=patient.practice.settings.currency,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                practice_id=patient.practice_id,
                invoice=invoice,
                charge=charge,
                description=charge.description,
                net=charge.net,
                tax_rate=charge.tax_rate,
                tax=charge.tax,
                gross=charge.gross,
            )
            for charge in locked
        )
        InvoiceLine.objects.bulk_create(_deposit_deductions(patient.practice_id, locked, invoice))
        Charge.objects.filter(pk__in=ids).update(status=ChargeStatus.INVOICED)
    return invoice


def invoice_for_period(*, patient: Patient, start: datetime, end: datetime) -> Invoice:
    """A draft invoice for the patient's open charges created in [start, end)."""
    charges = Charge.objects.for_practice(patient.practice_id).filter(
        patient=patient, status=ChargeStatus.OPEN, created_at__gte=start, created_at__lt=end
    )
    return invoice_draft(patient=patient, charges=charges)


def _next_number(practice_id: int, year: int) -> int:
    # The counter row may not exist yet: insert it if missing (a concurrent insert is
    # ignored), then lock it. Both issuers then queue on the same row.
    InvoiceCounter.objects.bulk_create(
        [InvoiceCounter(practice_id=practice_id, year=year)], ignore_conflicts=True
    )
    counter = InvoiceCounter.objects.select_for_update().get(practice_id=practice_id, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def invoice_issue(*, invoice: Invoice, by: User | None, now: datetime | None = None) -> Invoice:
    """Number and issue a draft: from then on it is never changed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != InvoiceStatus.DRAFT:
            raise ValidationError(_("This invoice is already issued."))
        totals = locked.lines.aggregate(net=Sum("net"), tax=Sum("tax"), gross=Sum("gross"))
        if totals["gross"] is None:
            raise ValidationError(_("An invoice needs at least one line."))
        year = timezone.localtime(now, locked.practice.zone).year
        locked.year = year
        locked.number = _next_number(locked.practice_id, year)
        locked.net, locked.tax, locked.gross = totals["net"], totals["tax"], totals["gross"]
        locked.status = InvoiceStatus.ISSUED
        locked.issued_at = now
        locked.issued_by = by
        locked.save()
        # R21, through the reminder outbox: committed with the invoice or not at all.
        _tell_the_patient(locked, now)
    return locked


def _tell_the_patient(invoice: Invoice, now: datetime) -> None:
    practice = invoice.practice
    with translation.override(practice.settings.language):
        kind = _("credit note") if invoice.kind == InvoiceKind.CREDIT_NOTE else _("invoice")
        title = f"{kind} {invoice.display_number}"
    portal = reverse("billing-portal:my-invoices", kwargs={"practice_slug": practice.slug})
    document_issued_remind(
        patient=invoice.patient,
        key=f"invoice:{invoice.pk}",
        title=title,
        amount=f"{to_currency(abs(invoice.gross), invoice.currency)} {invoice.currency}",
        url=f"{settings.SITE_URL.rstrip('/')}{portal}",
        # The PDF is rendered when the email is sent (`billing.pdf.invoice_attachment`).
        attachment=f"invoice:{invoice.pk}",
        now=now,
    )


def credited_total(invoice: Invoice) -> Decimal:
    """What credit notes already took off `invoice` (zero or negative)."""
    total = invoice.credit_notes.filter(status=InvoiceStatus.ISSUED).aggregate(s=Sum("gross"))["s"]
    return total or Decimal(0)


def credit_note_issue(
    *,
    invoice: Invoice,
    by: User | None,
    lines: Sequence[tuple[str, LineAmounts, Decimal]] | None = None,
    now: datetime | None = None,
) -> Invoice:
    """Correct an issued invoice: a credit note of its lines negated (all of it, when `lines`
    is None) or of the (description, amounts, tax rate) given, issued at once. An invoice
    is never credited beyond its total."""
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(_("Only an issued invoice can be credited."))
    if lines is None:
        lines = [
            (line.description, LineAmounts(line.net, line.tax, line.gross), line.tax_rate)
            for line in invoice.lines.all()
        ]
    with transaction.atomic():
        Invoice.objects.select_for_update().get(pk=invoice.pk)  # one correction at a time
        left = invoice.gross + credited_total(invoice)
        asked = sum((amounts.gross for _d, amounts, _r in lines), Decimal(0))
        if asked <= 0 or asked > left:
            raise ValidationError(
                _("At most %(left)s of this invoice is left to credit.") % {"left": left}
            )
        note = Invoice.objects.create(
            practice_id=invoice.practice_id,
            patient=invoice.patient,
            kind=InvoiceKind.CREDIT_NOTE,
            credits=invoice,
            currency=invoice.currency,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                practice_id=invoice.practice_id,
                invoice=note,
                description=description,
                net=-amounts.net,
                tax=-amounts.tax,
                gross=-amounts.gross,
                tax_rate=rate,
            )
            for description, amounts, rate in lines
        )
        return invoice_issue(invoice=note, by=by, now=now)
