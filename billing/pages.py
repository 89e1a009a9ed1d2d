"""The desk's billing pages: a patient's account, payments and refunds, fees, course packages,
PDFs.

Managers and the front desk handle money; therapists see none of it (the session page's
billing panel is empty for them). Every row is looked up in the request's practice, so another
practice's is a 404. The session page shows `session_panel` through its panel hook
(`settings.SESSION_PAGE_PANELS`, loaded by htmx): sessions never imports billing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from billing.fees import fee_confirm, fee_waive
from billing.invoicing import credit_note_issue, invoice_draft, invoice_issue
from billing.models import (
    DESK_PAYMENT_METHODS,
    Charge,
    ChargeStatus,
    CoursePackage,
    Invoice,
    Payment,
    PaymentMethod,
)
from billing.packages import package_sell, package_usage
from billing.payments import online_refund, payment_record, payment_refund, refundable
from billing.pdf import PDF_MIMETYPE, invoice_pdf, pdf_filename
from billing.pricing import session_charge
from billing.selectors import (
    charges_waiting,
    invoices_of,
    outstanding_by_invoice,
    patient_balance,
)
from courses.models import Course, CourseStatus
from patients.models import Patient
from practice.models import Role
from practice.pages import Notices, errors_to_form, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import practice_page, staff_page
from sessions.models import Session

billing_page = practice_page(Role.MANAGER, Role.FRONT_DESK)

NOTICES = Notices(
    {
        "paid": _("The payment is recorded."),
        "refunded": _("The refund is recorded."),
        "waived": _("The fee is waived."),
        "confirmed": _("The fee stands and will be invoiced."),
        "invoiced": _("The invoice is issued."),
        "credited": _("The credit note is issued."),
        "sold": _("The course is sold as a package and invoiced."),
    }
)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.001"), decimal_places=3)
    method = forms.ChoiceField(label=_("Method"), choices=DESK_PAYMENT_METHODS)
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)


class OnlineRefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.001"), decimal_places=3)


class DeskRefundForm(PaymentForm):
    """Money paid back by hand (cash, a transfer): the same fields as a payment."""


class WaiveForm(forms.Form):
    reason = forms.CharField(label=_("Reason for waiving"), max_length=300)


class PackageForm(forms.Form):
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"), min_value=0, max_value=100, decimal_places=2, initial=0
    )


def _patient(request: PracticeRequest, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.for_practice(request.practice), pk=pk)


def _refund_forms(invoice: Invoice, overpaid: Decimal) -> dict[str, Any]:
    """What the desk may pay back on an overpaid invoice: each online payment through the
    provider (up to what is left of it), or by hand."""
    online = [
        (payment, left)
        for payment in invoice.payments.filter(
            method=PaymentMethod.ONLINE, amount__gt=0, refund_of__isnull=True
        )
        if (left := refundable(payment)) > 0
    ]
    return {
        "invoice": invoice,
        "overpaid": overpaid,
        "online": [
            (
                payment,
                left,
                OnlineRefundForm(
                    prefix=f"refund-{payment.pk}", initial={"amount": min(left, overpaid)}
                ),
            )
            for payment, left in online
        ],
        "desk_form": DeskRefundForm(prefix=f"refund-desk-{invoice.pk}"),
    }


def _account_context(request: PracticeRequest, patient: Patient) -> dict[str, Any]:
    sold = CoursePackage.objects.for_practice(request.practice).filter(patient=patient)
    outstanding = outstanding_by_invoice(patient)
    return {
        "patient": patient,
        "balance": patient_balance(patient),
        "open_invoices": [
            (invoice, due, PaymentForm(prefix=f"pay-{invoice.pk}", initial={"amount": due}))
            for invoice, due in outstanding
            if due > 0
        ],
        "overpaid_invoices": [
            _refund_forms(invoice, -due) for invoice, due in outstanding if due < 0
        ],
        "charges": charges_waiting(patient),
        "invoices": invoices_of(request.practice, patient=patient).filter(status="issued"),
        "packages": [(package, package_usage(package)) for package in sold],
        "courses_to_sell": Course.objects.for_practice(request.practice)
        .filter(patient=patient, status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE])
        .exclude(pk__in=sold.values("course_id"))
        .select_related("massage_type"),
        "package_form": PackageForm(),
        "waive_form": WaiveForm(),
        "currency": request.practice.settings.currency,
    }


def _account(
    request: PracticeRequest, patient: Patient, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {**_account_context(request, patient), **extra}
    return NOTICES.render(request, "billing/account.html", context, status=status)


def _back_to_account(patient: Patient, request: PracticeRequest, notice: str) -> HttpResponse:
    url = reverse(
        "billing:account", kwargs={"practice_slug": request.practice.slug, "pk": patient.pk}
    )
    return redirect_with_notice(url, notice)


@billing_page
def account(request: PracticeRequest, pk: int) -> HttpResponse:
    return _account(request, _patient(request, pk))


@staff_page
def session_panel(request: PracticeRequest, pk: int) -> HttpResponse:
    """What the patient of a session owes, for the session page (an htmx fragment)."""
    if request.membership.role == Role.THERAPIST:
        return HttpResponse("")
    session = get_object_or_404(
        Session.objects.for_practice(request.practice).select_related("patient"), pk=pk
    )
    return render(
        request,
        "billing/_session_panel.html",
        {
            "session": session,
            "patient": session.patient,
            "balance": patient_balance(session.patient),
            "currency": request.practice.settings.currency,
            "chargeable": session.course_id is None
            or not CoursePackage.objects.filter(course_id=session.course_id).exists(),
        },
    )


def _submitted(
    request: PracticeRequest,
    patient: Patient,
    form: forms.Form,
    write: Callable[[dict[str, Any]], object],
    *,
    notice: str,
    shown_as: str,
) -> HttpResponse:
    """A desk form sent to one service (`write`, given the cleaned data): back to the account
    with `notice`, or the account again (400) with the form, as `shown_as`, naming what the
    form or the service refused."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _back_to_account(patient, request, notice)
    return _account(request, patient, status=400, **{shown_as: form})


@billing_page
@require_POST
def payment_take(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.for_practice(request.practice), pk=pk)
    return _submitted(
        request,
        invoice.patient,
        PaymentForm(request.POST, prefix=f"pay-{invoice.pk}"),
        lambda data: payment_record(invoice=invoice, by=request.user, **data),
        notice="paid",
        shown_as="payment_form",
    )


@billing_page
@require_POST
def online_refund_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Give back (part of) a payment taken online, through the provider that took it."""
    payment = get_object_or_404(
        Payment.objects.for_practice(request.practice).select_related("patient", "invoice"),
        pk=pk,
    )
    return _submitted(
        request,
        payment.patient,
        OnlineRefundForm(request.POST, prefix=f"refund-{payment.pk}"),
        lambda data: online_refund(payment=payment, amount=data["amount"], by=request.user),
        notice="refunded",
        shown_as="refund_form",
    )


@billing_page
@require_POST
def desk_refund_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Record money the desk paid back by hand on an overpaid invoice."""
    invoice = get_object_or_404(Invoice.objects.for_practice(request.practice), pk=pk)
    return _submitted(
        request,
        invoice.patient,
        DeskRefundForm(request.POST, prefix=f"refund-desk-{invoice.pk}"),
        lambda data: payment_refund(invoice=invoice, by=request.user, **data),
        notice="refunded",
        shown_as="refund_form",
    )


@billing_page
@require_POST
def fee_waive_view(request: PracticeRequest, pk: int) -> HttpResponse:
    charge = get_object_or_404(Charge.objects.for_practice(request.practice), pk=pk)
    return _submitted(
        request,
        charge.patient,
        WaiveForm(request.POST),
        lambda data: fee_waive(charge=charge, by=request.user, reason=data["reason"]),
        notice="waived",
        shown_as="waive_form",
    )


@billing_page
@require_POST
def fee_confirm_view(request: PracticeRequest, pk: int) -> HttpResponse:
    charge = get_object_or_404(Charge.objects.for_practice(request.practice), pk=pk)
    try:
        fee_confirm(charge=charge)
    except ValidationError as exc:
        return _account(request, charge.patient, status=400, errors=exc.messages)
    return _back_to_account(charge.patient, request, "confirmed")


@billing_page
@require_POST
def invoice_open_charges(request: PracticeRequest, pk: int) -> HttpResponse:
    """Invoice everything open on the patient's account at once (an invoice per period)."""
    patient = _patient(request, pk)
    charges = Charge.objects.for_practice(request.practice).filter(
        patient=patient, status=ChargeStatus.OPEN
    )
    try:
        invoice_issue(invoice=invoice_draft(patient=patient, charges=charges), by=request.user)
    except ValidationError as exc:
        return _account(request, patient, status=400, errors=exc.messages)
    return _back_to_account(patient, request, "invoiced")


@billing_page
@require_POST
def session_charge_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Charge a session and invoice it at once (an invoice per session)."""
    session = get_object_or_404(Session.objects.for_practice(request.practice), pk=pk)
    try:
        charge = session_charge(session=session)
        if charge.status == ChargeStatus.OPEN:
            invoice_issue(
                invoice=invoice_draft(patient=session.patient, charges=[charge]), by=request.user
            )
    except ValidationError as exc:
        return _account(request, session.patient, status=400, errors=exc.messages)
    return _back_to_account(session.patient, request, "invoiced")


@billing_page
@require_POST
def package_sell_view(request: PracticeRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(
        Course.objects.for_practice(request.practice).select_related("patient", "massage_type"),
        pk=pk,
    )
    return _submitted(
        request,
        course.patient,
        PackageForm(request.POST),
        lambda data: package_sell(
            course=course, by=request.user, discount_percent=data["discount_percent"]
        ),
        notice="sold",
        shown_as="package_form",
    )


@billing_page
@require_POST
def credit_note_view(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.for_practice(request.practice), pk=pk)
    try:
        credit_note_issue(invoice=invoice, by=request.user)
    except ValidationError as exc:
        return _account(request, invoice.patient, status=400, errors=exc.messages)
    return _back_to_account(invoice.patient, request, "credited")


def pdf_response(invoice: Invoice) -> HttpResponse:
    response = HttpResponse(invoice_pdf(invoice), content_type=PDF_MIMETYPE)
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


@billing_page
def invoice_pdf_view(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.for_practice(request.practice).filter(status="issued"), pk=pk
    )
    return pdf_response(invoice)
