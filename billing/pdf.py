"""An invoice or credit note as a PDF with the practice's letterhead (WeasyPrint).

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0). The PDF
is rendered on demand from the issued row, which never changes, so it need not be stored.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML

from billing.models import Invoice, InvoiceStatus
from billing.pricing import billing_settings
from billing.selectors import invoice_outstanding
from sessions.reminders.channels import Attachment

PDF_MIMETYPE = "application/pdf"


def invoice_pdf(invoice: Invoice) -> bytes:
    practice = invoice.practice
    with timezone.override(practice.zone), translation.override(practice.settings.language):
        html = render_to_string(
            "billing/invoice_pdf.html",
            {
                "invoice": invoice,
                "lines": invoice.lines.all(),
                "practice": practice,
                "practice_settings": practice.settings,
                "letterhead": billing_settings(practice).letterhead,
                "patient": invoice.patient,
                "outstanding": invoice_outstanding(invoice),
                "payments": invoice.payments.order_by("received_at"),
            },
        )
    return HTML(string=html).write_pdf()


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.display_number or 'draft'}.pdf"


def invoice_attachment(key: str) -> Attachment | None:
    """The issued invoice `key` (its id) as the PDF its email carries: the file source that
    `billing.apps` registers for "invoice:<id>" (`sessions.reminders.attachments`)."""
    invoice = (
        Invoice.objects.filter(pk=int(key), status=InvoiceStatus.ISSUED)
        .select_related("practice__settings", "patient", "credits")
        .first()
        if key.isdigit()
        else None
    )
    if invoice is None:
        return None
    return Attachment(pdf_filename(invoice), invoice_pdf(invoice), PDF_MIMETYPE)
