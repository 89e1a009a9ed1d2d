"""Patients pages: the front desk's search, record, screening and clearance pages, and the
patient's own portal page and questionnaire.

Views are thin, like the API's: a form checks shapes, one service or selector decides, and a
service's ValidationError is shown next to the fields it names. Every lookup goes through
`patients_visible_to` or a `for_practice()` queryset of the practice in the URL, so another
practice's or another patient's row is a 404.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from patients.eligibility import r8_day_blocks
from patients.forms import (
    ClearanceForm,
    ConfirmScreeningForm,
    PatientForm,
    PatientSearchForm,
    PortalContactForm,
    ScreeningForm,
)
from patients.models import DoctorClearance, Patient, Screening
from patients.screening import Outcome, Status, Zone
from patients.selectors import (
    catalogue_for,
    patient_data_read,
    patient_screening_status,
    patient_search,
    patients_visible_to,
    screenings_of,
)
from patients.self_service import patient_contact_update
from patients.services import (
    AlreadyConfirmed,
    DuplicatePatient,
    ScreeningInvalid,
    clearance_add,
    patient_archive,
    patient_create,
    patient_update,
    screening_confirm,
    screening_preview,
    screening_record,
)
from practice.audit.pages import manager_page, render_entries
from practice.audit.selectors import patient_access_history
from practice.models import MassageType
from practice.pages import Notices, errors_to_form, form_status, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import desk_page, patient_page, staff_page

PAGE_SIZE = 25
NOTICES = Notices(
    {
        "saved": gettext_lazy("Saved."),
        "archived": gettext_lazy("The patient is archived."),
        "erased": gettext_lazy(
            "The patient's identity is erased; their records are kept until the retention ends."
        ),
        "screening-saved": gettext_lazy("Screening saved."),
        "screening-confirmed": gettext_lazy("Screening confirmed."),
        "already-confirmed": gettext_lazy("This screening is already confirmed."),
        "clearance-saved": gettext_lazy("Clearance recorded; the outcome was recomputed."),
        "contact-saved": gettext_lazy("Your contact details are saved."),
        "questionnaire-sent": gettext_lazy(
            "Thank you. The practice will go through your answers with you."
        ),
    }
)
ZONE_NAMES = dict(Zone.choices)


def _today(request: PracticeRequest) -> date:
    return timezone.localdate(timezone=request.practice.zone)


def _patient(request: PracticeRequest, pk: int) -> Patient:
    return get_object_or_404(patients_visible_to(membership=request.membership), pk=pk)


def _screening(patient: Patient, pk: int) -> Screening:
    return get_object_or_404(screenings_of(patient=patient), pk=pk)


render_page = NOTICES.render


def _to_record(request: PracticeRequest, pk: int, notice: str) -> HttpResponse:
    target = reverse(
        "patients:patient-detail", kwargs={"practice_slug": request.practice.slug, "pk": pk}
    )
    return redirect_with_notice(target, notice)


def outcome_context(outcome: Outcome, type_names: dict[str, str]) -> dict[str, Any]:
    """An outcome as the templates show it: status, what it blocks and why, with rule ids."""
    return {
        "status": outcome.status,
        "status_label": Status(outcome.status).label,
        "blocked_types": [type_names.get(code, code) for code in sorted(outcome.blocked_types)],
        "blocked_zones": [ZONE_NAMES.get(zone, zone) for zone in sorted(outcome.blocked_zones)],
        "reasons": outcome.reasons,
        "warnings": outcome.warnings,
        "findings": outcome.findings,
    }


def _type_names(request: PracticeRequest) -> dict[str, str]:
    return dict(MassageType.objects.for_practice(request.practice).values_list("code", "name"))


# --- Staff ------------------------------------------------------------------------------------


@staff_page
def patient_list(request: PracticeRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query, archived = "", False
    if form.is_valid():
        query, archived = form.cleaned_data["q"], form.cleaned_data["archived"]
    patients = patient_search(
        patients=patients_visible_to(membership=request.membership).filter(archived=archived),
        query=query,
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = {"q": query, **({"archived": "on"} if archived else {})}
    return render_page(
        request,
        "patients/patient_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "page_query": urlencode(keep),
        },
    )


@desk_page
@require_http_methods(["GET", "POST"])
def patient_new(request: PracticeRequest) -> HttpResponse:
    return _patient_form(request, patient=None)


@staff_page
@require_http_methods(["GET", "POST"])
def patient_edit(request: PracticeRequest, pk: int) -> HttpResponse:
    return _patient_form(request, patient=_patient(request, pk))


def _patient_form(request: PracticeRequest, patient: Patient | None) -> HttpResponse:
    options: dict[str, Any] = {"practice": request.practice}
    if patient is not None:
        options["instance"] = patient
    duplicates: list[Patient] = []
    if request.method != "POST":
        form = PatientForm(**options)
    else:
        form = PatientForm(
            request.POST, ask_duplicate="confirm_duplicate" in request.POST, **options
        )
        if form.is_valid():
            confirm = form.cleaned_data.get("confirm_duplicate", False)
            try:
                if patient is None:
                    saved = patient_create(
                        practice=request.practice,
                        confirm_duplicate=confirm,
                        **form.service_fields(),
                    )
                else:
                    saved = patient_update(
                        patient=patient, confirm_duplicate=confirm, **form.service_fields()
                    )
            except DuplicatePatient as exc:
                duplicates = exc.duplicates
                # Asked again with the question: "is this a different person?"
                form = PatientForm(request.POST, ask_duplicate=True, **options)
                form.is_valid()
                form.add_error(None, exc)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                return _to_record(request, saved.pk, "saved")
    return render_page(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "duplicates": duplicates},
        status=form_status(request, form),
    )


@staff_page
def patient_detail(request: PracticeRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    patient_data_read(patient, patient_id=patient.pk)
    type_names = _type_names(request)
    status = patient_screening_status(patient=patient, on=_today(request))
    screenings = [
        {"screening": screening, "outcome": outcome_context(screening.outcome, type_names)}
        for screening in screenings_of(patient=patient)
    ]
    return render_page(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "status": status,
            "current": outcome_context(status.outcome, type_names) if status.outcome else None,
            "day_blocks": r8_day_blocks(patient=patient, on=_today(request)),
            "screenings": screenings,
        },
    )


@manager_page
def patient_access(request: PracticeRequest, pk: int) -> HttpResponse:
    """Who read or changed this patient's data: the manager's view of the audit trail."""
    patient = _patient(request, pk)
    entries = patient_access_history(practice=request.practice, patient_id=patient.pk)
    return render_entries(request, "patients/patient_access.html", entries, {"patient": patient})


@staff_page
@require_http_methods(["GET", "POST"])
def patient_archive_view(request: PracticeRequest, pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    if request.method == "POST":
        patient_archive(patient=patient)
        return _to_record(request, pk, "archived")
    return render_page(request, "patients/patient_archive.html", {"patient": patient})


def _screening_errors(form: ScreeningForm, exc: ScreeningInvalid) -> None:
    """Answer errors next to their question, the rest (vitals, R7) next to their field."""
    form.add_item_errors(exc.item_errors)
    for name, errors in exc.message_dict.items():
        if name == "answers" and exc.item_errors:
            continue  # already shown next to each question
        form.add_error(name if name in form.fields else None, errors)


@staff_page
@require_http_methods(["GET", "POST"])
def screening_new(request: PracticeRequest, pk: int) -> HttpResponse:
    """The screening form. "Check" computes the outcome with `screening_preview` (the same
    validation and rules as saving) and writes nothing; "Save" records it."""
    patient = _patient(request, pk)
    catalogue = catalogue_for(practice=request.practice).order_by("position", "id")
    outcome = None
    if request.method != "POST":
        form = ScreeningForm(catalogue=catalogue)
    else:
        form = ScreeningForm(request.POST, catalogue=catalogue)
        if form.is_valid():
            try:
                if request.POST.get("action") == "save":
                    screening_record(
                        patient=patient, recorded_by=request.user, **form.service_kwargs()
                    )
                    return _to_record(request, pk, "screening-saved")
                outcome = outcome_context(
                    screening_preview(patient=patient, **form.service_kwargs()),
                    _type_names(request),
                )
            except ScreeningInvalid as exc:
                _screening_errors(form, exc)
    return render_page(
        request,
        "patients/screening_form.html",
        {"patient": patient, "form": form, "outcome": outcome},
        status=form_status(request, form),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def screening_confirm_view(request: PracticeRequest, pk: int, screening_pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    screening = _screening(patient, screening_pk)
    if not screening.awaiting_confirmation:
        raise Http404(_("This screening is not waiting for a confirmation."))
    # Bound on every POST, even an empty one: all the vitals are optional.
    form = ConfirmScreeningForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            screening_confirm(screening=screening, confirmed_by=request.user, **form.cleaned_data)
        except AlreadyConfirmed:
            return _to_record(request, pk, "already-confirmed")
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _to_record(request, pk, "screening-confirmed")
    return render_page(
        request,
        "patients/screening_confirm.html",
        {
            "patient": patient,
            "screening": screening,
            "outcome": outcome_context(screening.outcome, _type_names(request)),
            "form": form,
        },
        status=form_status(request, form),
    )


@staff_page
@require_http_methods(["GET", "POST"])
def clearance_new(request: PracticeRequest, pk: int, screening_pk: int) -> HttpResponse:
    patient = _patient(request, pk)
    screening = _screening(patient, screening_pk)
    blank = DoctorClearance(practice=request.practice, screening=screening)
    posted = request.method == "POST"
    form = ClearanceForm(
        request.POST if posted else None, request.FILES if posted else None, instance=blank
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            clearance_add(
                screening=screening,
                code=data["contraindication"].code,
                doctor_name=data["doctor_name"],
                issued_on=data["issued_on"],
                document=data.get("document") or None,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return _to_record(request, pk, "clearance-saved")
    return render_page(
        request,
        "patients/clearance_form.html",
        {"patient": patient, "screening": screening, "form": form},
        status=form_status(request, form),
    )


@staff_page
def clearance_document(request: PracticeRequest, pk: int) -> FileResponse:
    """A doctor's letter, to staff of its practice only: medical documents have no public
    media URL, so this login- and practice-checked view is the only way to them."""
    clearance = get_object_or_404(
        DoctorClearance.objects.for_practice(request.practice)
        .select_related("screening")
        .exclude(document=""),
        pk=pk,
    )
    try:
        document = clearance.document.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The document file is missing.")) from exc
    patient_data_read(clearance, patient_id=clearance.screening.patient_id)
    # Opened, so it has a name (only a file never saved has none).
    filename = PurePath(clearance.document.name or "").name
    return FileResponse(document, as_attachment=True, filename=filename)


# --- Patient portal ---------------------------------------------------------------------------


def _own_record(request: PracticeRequest) -> Patient | None:
    # A patient's own row(s) only, through the same visibility rule as the API.
    return (
        patients_visible_to(membership=request.membership)
        .filter(archived=False)
        .order_by("id")
        .first()
    )


@patient_page
def portal(request: PracticeRequest) -> HttpResponse:
    patient = _own_record(request)
    context: dict[str, Any] = {"patient": patient}
    if patient is not None:
        # The patient's own screenings are health data too: their reads are recorded alike.
        patient_data_read(patient, patient_id=patient.pk)
        status = patient_screening_status(patient=patient, on=_today(request))
        context.update(
            status=status,
            current=(
                outcome_context(status.outcome, _type_names(request)) if status.outcome else None
            ),
            screenings=screenings_of(patient=patient),
        )
    return render_page(request, "patients/portal.html", context)


@patient_page
@require_http_methods(["GET", "POST"])
def portal_contact(request: PracticeRequest) -> HttpResponse:
    """The patient's own phone, email and reminder consent, saved by `patient_contact_update`
    (the record's rules: consent by email needs an email, by SMS a phone, ...)."""
    patient = _own_record(request)
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    form = PortalContactForm(
        request.POST if request.method == "POST" else None,
        initial={
            "phone": patient.phone,
            "email": patient.email,
            "consent_email": patient.consent_email,
            "consent_sms": patient.consent_sms,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient_contact_update(patient=patient, today=_today(request), **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            target = reverse("patients:portal", kwargs={"practice_slug": request.practice.slug})
            return redirect_with_notice(target, "contact-saved")
    return render_page(
        request,
        "patients/portal_contact.html",
        {"patient": patient, "form": form},
        status=form_status(request, form),
    )


@patient_page
@require_http_methods(["GET", "POST"])
def portal_screening_new(request: PracticeRequest) -> HttpResponse:
    """The questionnaire a patient fills ahead of a course: stored as self-reported, it counts
    only once a staff member has confirmed it (R1)."""
    patient = _own_record(request)
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    catalogue = catalogue_for(practice=request.practice).order_by("position", "id")
    form = ScreeningForm(
        request.POST if request.method == "POST" else None,
        catalogue=catalogue,
        with_vitals=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            screening = screening_record(
                patient=patient,
                recorded_by=request.user,
                self_reported=True,
                **form.service_kwargs(),
            )
        except ScreeningInvalid as exc:
            _screening_errors(form, exc)
        else:
            target = reverse(
                "patients:portal-screening",
                kwargs={"practice_slug": request.practice.slug, "pk": screening.pk},
            )
            return redirect_with_notice(target, "questionnaire-sent")
    return render_page(
        request,
        "patients/portal_screening_form.html",
        {"patient": patient, "form": form},
        status=form_status(request, form),
    )


@patient_page
def portal_screening(request: PracticeRequest, pk: int) -> HttpResponse:
    patient = _own_record(request)
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    screening = _screening(patient, pk)
    return render_page(
        request,
        "patients/portal_screening.html",
        {
            "patient": patient,
            "screening": screening,
            "outcome": outcome_context(screening.outcome, _type_names(request)),
        },
    )
