"""The desk's billing pages: a patient's account, payments, fees, course packages, PDFs.

Managers and the front desk handle money; therapists see none of it (the session page's
billing panel is empty for them). Every row is looked up in the request's practice, so another
practice's is a 404. The session page shows `session_panel` through its panel hook
(`settings.SESSION_PAGE_PANELS`, loaded by htmx): sessions never imports billing.
"""

from __future__ import annotations

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
from billing.models import DESK_PAYMENT_METHODS, Charge, ChargeStatus, CoursePackage, Invoice
from billing.packages import package_sell, package_usage
from billing.payments import payment_record
from billing.pdf import invoice_pdf, pdf_filename
from billing.pricing import session_charge
from billing.selectors import charges_waiting, invoices_of, open_invoices_of, patient_balance
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


class WaiveForm(forms.Form):
    reason = forms.CharField(label=_("Reason for waiving"), max_length=300)


class PackageForm(forms.Form):
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"), min_value=0, max_value=100, decimal_places=2, initial=0
    )


def _patient(request: PracticeRequest, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.for_practice(request.practice), pk=pk)


def _account_context(request: PracticeRequest, patient: Patient) -> dict[str, Any]:
    sold = CoursePackage.objects.for_practice(request.practice).filter(patient=patient)
    return {
        "patient": patient,
        "balance": patient_balance(patient),
        "open_invoices": [
            (invoice, due, PaymentForm(prefix=f"pay-{invoice.pk}", initial={"amount": due}))
            for invoice, due in open_invoices_of(patient)
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


@billing_page
@require_POST
def payment_take(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.for_practice(request.practice), pk=pk)
    form = PaymentForm(request.POST, prefix=f"pay-{invoice.pk}")
    if form.is_valid():
        try:
            payment_record(invoice=invoice, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _back_to_account(invoice.patient, request, "paid")
    return _account(request, invoice.patient, status=400, payment_errors=form.errors)


@billing_page
@require_POST
def fee_waive_view(request: PracticeRequest, pk: int) -> HttpResponse:
    charge = get_object_or_404(Charge.objects.for_practice(request.practice), pk=pk)
    form = WaiveForm(request.POST)
    if form.is_valid():
        try:
            fee_waive(charge=charge, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _back_to_account(charge.patient, request, "waived")
    return _account(request, charge.patient, status=400, waive_form=form)


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
    form = PackageForm(request.POST)
    if form.is_valid():
        try:
            package_sell(
                course=course,
                by=request.user,
                discount_percent=form.cleaned_data["discount_percent"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _back_to_account(course.patient, request, "sold")
    return _account(request, course.patient, status=400, package_form=form)


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
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    return response


@billing_page
def invoice_pdf_view(request: PracticeRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.for_practice(request.practice).filter(status="issued"), pk=pk
    )
    return pdf_response(invoice)
