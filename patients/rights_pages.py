"""Patients' rights as pages: export of a patient's data (by a manager, or by the patient in
the portal) and erasure (managers only). The work is done by `patients.export` and
`patients.erasure`; these views only check who asks and render the answer."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from patients.erasure import patient_erase
from patients.export import patient_export
from patients.models import Patient
from practice.audit.pages import manager_page
from practice.pages import redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import patient_page


def _sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The export as headed sections of rows, for people to read."""
    sections = []
    for label, rows in data["records"].items():
        model = apps.get_model(label)
        sections.append({"title": model._meta.verbose_name_plural, "label": label, "rows": rows})
    return sections


def export_response(request: PracticeRequest, patient: Patient) -> HttpResponse:
    """The export as JSON (`?format=json`, a download) or as a page."""
    data = patient_export(patient=patient)
    if request.GET.get("format") == "json":
        response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-export.json"'
        return response
    return render(
        request,
        "patients/export.html",
        {
            "patient": patient,
            "sections": _sections(data),
            "account": data["account"],
            "access_history": data["access_history"],
        },
    )


@manager_page
def patient_export_view(request: PracticeRequest, pk: int) -> HttpResponse:
    patient = Patient.objects.for_practice(request.practice).filter(pk=pk).first()
    if patient is None:
        raise Http404(_("No such patient."))
    return export_response(request, patient)


@patient_page
def portal_export(request: PracticeRequest) -> HttpResponse:
    """The signed-in patient's own data, and nobody else's."""
    patient = (
        Patient.objects.for_practice(request.practice)
        .filter(user=request.user)
        .order_by("id")
        .first()
    )
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    return export_response(request, patient)


@manager_page
@require_http_methods(["GET", "POST"])
def patient_erase_view(request: PracticeRequest, pk: int) -> HttpResponse:
    """Erase a patient's identity (managers only), after a confirmation page."""
    patient = Patient.objects.for_practice(request.practice).filter(pk=pk).first()
    if patient is None:
        raise Http404(_("No such patient."))
    error = ""
    if request.method == "POST":
        try:
            patient_erase(patient=patient, now=timezone.now())
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            target = reverse(
                "patients:patient-detail",
                kwargs={"practice_slug": request.practice.slug, "pk": patient.pk},
            )
            return redirect_with_notice(target, "erased")
    return render(
        request,
        "patients/patient_erase.html",
        {"patient": patient, "error": error},
        status=409 if error else 200,
    )
