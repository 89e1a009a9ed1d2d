"""The desk books a single session: from a free time clicked on the grid, a "Book" link of the
list view, or a rebook link after a day block (R8). First the patient (the patient search the
course planner uses), then the slot's form, prefilled from the link: therapist, local start,
type (only those the patient's screening allows that day, R2-R6, R8), length and an optional
room. "Start a course here" leads to course planning with the same slot instead.

The page adds no rule: `session_book` decides, and its ValidationError or Conflict is shown on
the form (400/409), never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from patients.eligibility import patient_may_book
from patients.models import Patient
from patients.selectors import patient_search, patients_visible_to
from practice.calendar import year_error
from practice.errors import Conflict
from practice.models import MassageType, Practice, Room, Therapist
from practice.pages import Notices, errors_to_form
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.booking.sessions import MIN_SESSION_MINUTES, session_book
from sessions.models import MAX_SESSION_MINUTES
from sessions.pages.course_forms import PatientSearchForm

PAGE_SIZE = 25
render_page = Notices({}).render
# What a link to this page may prefill; the patient's pick keeps them.
SLOT_PARAMETERS = ("therapist", "starts_at", "room", "massage_type", "view", "by")


class SingleSessionForm(forms.Form):
    therapist = forms.ModelChoiceField(label=_("Therapist"), queryset=Therapist.objects.none())
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        help_text=_("The practice's local time (R24)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    massage_type = forms.ModelChoiceField(
        label=_("Massage type"),
        queryset=MassageType.objects.none(),
        help_text=_("Only the types the patient's screening allows that day."),
    )
    minutes = forms.IntegerField(
        label=_("Minutes"),
        required=False,
        min_value=MIN_SESSION_MINUTES,
        max_value=MAX_SESSION_MINUTES,
        help_text=_("Empty: the type's usual length."),
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, practice: Practice, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice, self.patient = practice, patient
        therapist = self.fields["therapist"]
        assert isinstance(therapist, forms.ModelChoiceField)
        therapist.queryset = Therapist.objects.for_practice(practice).filter(active=True)
        room = self.fields["room"]
        assert isinstance(room, forms.ModelChoiceField)
        room.queryset = Room.objects.for_practice(practice).filter(active=True)
        room.empty_label = _("No particular room")
        self.types = MassageType.objects.for_practice(practice).filter(active=True)
        massage_type = self.fields["massage_type"]
        assert isinstance(massage_type, forms.ModelChoiceField)
        massage_type.queryset = self.types

    def limit_types_to(self, day: dt.date) -> None:
        """Offer only the types the patient's screening allows on `day` (R2-R6, R8): the
        service refuses the others anyway, with the rule's name."""
        field = self.fields["massage_type"]
        assert isinstance(field, forms.ModelChoiceField)
        allowed = [kind.pk for kind in self.types if _allowed(self.patient, kind, day)]
        field.queryset = self.types.filter(pk__in=allowed)

    def clean_starts_at(self) -> dt.datetime:
        # Read on the practice's wall clock (the page runs in its zone, R24); Django's field
        # already refuses a reading a daylight-saving change skips or repeats.
        moment: dt.datetime = self.cleaned_data["starts_at"]
        year_error(moment.year)
        return moment


def _allowed(patient: Patient, kind: MassageType, day: dt.date) -> bool:
    try:
        patient_may_book(patient=patient, massage_type=kind, on=day, by_patient=False)
    except ValidationError:
        return False
    return True


def _slot_query(request: PracticeRequest, **extra: object) -> str:
    kept = {name: request.GET.get(name) for name in SLOT_PARAMETERS}
    kept.update({name: str(value) for name, value in extra.items()})
    return urlencode({name: value for name, value in kept.items() if value})


def _patient(request: PracticeRequest) -> Patient | None:
    value = request.POST.get("patient") or request.GET.get("patient") or ""
    if not value.isdigit():
        return None
    return (
        patients_visible_to(membership=request.membership)
        .filter(archived=False, pk=int(value))
        .first()
    )


def _pick_patient(request: PracticeRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = patient_search(
        patients=patients_visible_to(membership=request.membership).filter(archived=False),
        query=query,
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "sessions/session_book_patient.html",
        {
            "form": form,
            "page": page,
            "slot_query": _slot_query(request),
            "page_query": _slot_query(request, q=query),
        },
    )


def _initial(request: PracticeRequest) -> dict[str, object]:
    return {name: request.GET.get(name) for name in SLOT_PARAMETERS[:4] if request.GET.get(name)}


def course_link(request: PracticeRequest, form: SingleSessionForm, patient: Patient) -> str:
    """Course planning for this patient, prefilled with the slot (R10 keeps its time)."""
    values: dict[str, object] = {"patient": patient.pk}
    therapist, starts = form["therapist"].value(), form["starts_at"].value()
    if therapist:
        values["therapist"] = therapist
    if isinstance(starts, str) and len(starts) >= 16:
        values["start_date"], values["preferred_time"] = starts[:10], starts[11:16]
    if room := form["room"].value():
        values["room"] = room
    target = reverse("courses:course-plan", kwargs={"practice_slug": request.practice.slug})
    return f"{target}?{urlencode(values)}"


def _calendar_after(request: PracticeRequest, starts_at: dt.datetime) -> str:
    day = starts_at.astimezone(request.practice.zone).date().isoformat()
    source = request.POST if request.method == "POST" else request.GET
    grid = source.get("view") in ("grid-day", "grid-week")
    name = "sessions:calendar-grid" if grid else "sessions:calendar"
    target = reverse(name, kwargs={"practice_slug": request.practice.slug})
    query = {"date": day, "notice": "booked"}
    if grid:
        query["view"] = source.get("view", "")
        if source.get("by"):
            query["by"] = source.get("by", "")
    return f"{target}?{urlencode(query)}"


@staff_page
@require_http_methods(["GET", "POST"])
def session_book_view(request: PracticeRequest) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        if request.method == "POST":
            # The patient is a hidden field: only a tampered or stale form gets here.
            response = _pick_patient(request)
            response.status_code = 400
            return response
        return _pick_patient(request)
    practice = request.practice
    status = 200
    if request.method == "POST":
        form = SingleSessionForm(request.POST, practice=practice, patient=patient)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = session_book(
                    practice=practice,
                    patient=patient,
                    therapist=data["therapist"],
                    massage_type=data["massage_type"],
                    starts_at=data["starts_at"],
                    minutes=data["minutes"],
                    room=data["room"],
                    booked_by=request.user,
                )
            except Conflict as exc:
                form.add_error(None, str(exc.detail))
                status = 409
            except ValidationError as exc:
                errors_to_form(form, exc)
                status = 400
            else:
                return redirect(_calendar_after(request, session.starts_at))
        else:
            status = 400
    else:
        form = SingleSessionForm(initial=_initial(request), practice=practice, patient=patient)
    day = _form_day(form, practice)
    form.limit_types_to(day)
    return render_page(
        request,
        "sessions/session_book.html",
        {
            "patient": patient,
            "form": form,
            "course_url": course_link(request, form, patient),
            "view": (request.POST if request.method == "POST" else request.GET).get("view", ""),
            "by": (request.POST if request.method == "POST" else request.GET).get("by", ""),
        },
        status=status,
    )


def _form_day(form: SingleSessionForm, practice: Practice) -> dt.date:
    """The local day the types are checked for: the chosen start's, else today."""
    value = form["starts_at"].value()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    return timezone.localdate(timezone=practice.zone)
