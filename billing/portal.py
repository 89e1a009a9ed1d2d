"""The patient portal's billing pages: my invoices, their PDFs, paying online, the deposit a
booking made online waits for.

A patient sees only their own invoices (`own_patient`: another's is a 404). Paying starts an
intent at the provider; with the fake provider the checkout page is ours, and "paying" there
makes the provider's signed webhook, handled by the same `webhook_receive` as the real
endpoint (signature check included).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.models import Deposit, Invoice, OnlinePayment, OnlinePaymentStatus
from billing.online import online_payment_start, webhook_receive
from billing.pages import pdf_response
from billing.providers import FakeProvider
from billing.selectors import invoice_outstanding, issued_invoices_of, patient_balance
from practice.pages import Notices, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import patient_page
from sessions.portal.access import own_patient

NOTICES = Notices(
    {
        "paid": _("Thank you: your payment is received."),
        "failed": _("The payment did not go through. Nothing was charged."),
    }
)


def _own_invoice(request: PracticeRequest, pk: int) -> Invoice:
    return get_object_or_404(issued_invoices_of(own_patient(request)), pk=pk)


@patient_page
def my_invoices(request: PracticeRequest) -> HttpResponse:
    patient = own_patient(request)
    invoices = [(invoice, invoice_outstanding(invoice)) for invoice in issued_invoices_of(patient)]
    return NOTICES.render(
        request,
        "billing/portal_invoices.html",
        {
            "invoices": invoices,
            "balance": patient_balance(patient),
            "currency": request.practice.settings.currency,
        },
    )


@patient_page
def my_invoice_pdf(request: PracticeRequest, pk: int) -> HttpResponse:
    return pdf_response(_own_invoice(request, pk))


@patient_page
@require_POST
def pay_online(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    try:
        payment = online_payment_start(invoice=invoice)
    except ValidationError:
        return redirect_with_notice(_invoices_url(request), "failed")
    return redirect(
        reverse(
            "billing-portal:checkout",
            kwargs={"practice_slug": request.practice.slug, "pk": payment.pk},
        )
    )


@patient_page
def deposit(request: PracticeRequest, pk: int) -> HttpResponse:
    """Where the portal sends a patient who just booked a session held for a deposit
    (`billing.deposits`): what is due and by when, and the button that pays it."""
    patient = own_patient(request)
    found = get_object_or_404(
        Deposit.objects.for_practice(request.practice)
        .filter(session__patient=patient)
        .select_related("invoice", "session__massage_type", "session__therapist"),
        session_id=pk,
    )
    return NOTICES.render(
        request,
        "billing/portal_deposit.html",
        {
            "deposit": found,
            "session": found.session,
            "due": invoice_outstanding(found.invoice),
            "session_url": reverse(
                "portal:session", kwargs={"practice_slug": request.practice.slug, "pk": pk}
            ),
        },
    )


def _own_payment(request: PracticeRequest, pk: int) -> OnlinePayment:
    patient = own_patient(request)
    return get_object_or_404(
        OnlinePayment.objects.for_practice(request.practice)
        .filter(invoice__patient=patient, provider=FakeProvider.name)
        .select_related("invoice"),
        pk=pk,
    )


@patient_page
@require_http_methods(["GET", "POST"])
def checkout(request: PracticeRequest, pk: int) -> HttpResponse:
    """The fake provider's checkout page (a real provider shows its own)."""
    payment = _own_payment(request, pk)
    if request.method == "POST" and payment.status == OnlinePaymentStatus.PENDING:
        payload, signature = FakeProvider().succeeded_event(payment)
        webhook_receive(provider=FakeProvider.name, payload=payload, signature=signature)
        return redirect_with_notice(_invoices_url(request), "paid")
    return NOTICES.render(request, "billing/portal_checkout.html", {"payment": payment})


def _invoices_url(request: PracticeRequest) -> str:
    return reverse("billing-portal:my-invoices", kwargs={"practice_slug": request.practice.slug})
