"""Forms of the course pages. They check shapes only; the rules (R1 to R14) are decided by
`sessions.booking.courses` (`course_plan`, `course_book`, `course_cancel`), whose errors the
views show next to the fields they name."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from courses.models import DEFAULT_SESSIONS, MAX_SESSIONS, MIN_SESSIONS, Cadence
from courses.services import CourseRequest
from patients.models import Patient
from practice.calendar import year_error
from practice.models import MassageType, Practice, Room, Therapist


class CourseCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the course cancelled?"), max_length=300, required=False
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the patient"), max_length=100, required=False)


class CoursePlanForm(forms.Form):
    patient = forms.ModelChoiceField(
        label=_("Patient"), queryset=Patient.objects.none(), widget=forms.HiddenInput
    )
    massage_type = forms.ModelChoiceField(
        label=_("Massage type"), queryset=MassageType.objects.none()
    )
    therapist = forms.ModelChoiceField(label=_("Therapist"), queryset=Therapist.objects.none())
    # The R9 bounds are repeated on the input only as a typing aid; the service decides.
    sessions_count = forms.IntegerField(
        label=_("Number of sessions"),
        initial=DEFAULT_SESSIONS,
        widget=forms.NumberInput(attrs={"min": MIN_SESSIONS, "max": MAX_SESSIONS}),
        help_text=_("10 to 15 (R9)."),
    )
    cadence = forms.ChoiceField(
        label=_("Cadence"), choices=Cadence.choices, initial=Cadence.EVERY_OTHER_DAY
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    preferred_time = forms.TimeField(
        label=_("Preferred time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Local time in the practice; kept across daylight-saving changes (R24)."),
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        patient = self.fields["patient"]
        assert isinstance(patient, forms.ModelChoiceField)
        patient.queryset = Patient.objects.for_practice(practice).filter(archived=False)
        massage_type = self.fields["massage_type"]
        assert isinstance(massage_type, forms.ModelChoiceField)
        massage_type.queryset = MassageType.objects.for_practice(practice).filter(active=True)
        therapist = self.fields["therapist"]
        assert isinstance(therapist, forms.ModelChoiceField)
        therapist.queryset = Therapist.objects.for_practice(practice).filter(active=True)
        room = self.fields["room"]
        assert isinstance(room, forms.ModelChoiceField)
        room.queryset = Room.objects.for_practice(practice).filter(active=True)
        room.empty_label = _("No particular room")

    def clean_sessions_count(self) -> int:
        # Far outside R9 the service would refuse anyway; this only keeps huge numbers out.
        count = self.cleaned_data["sessions_count"]
        if not 0 < count < 100:
            raise ValidationError(
                _("A course has %(low)d to %(high)d sessions.")
                % {"low": MIN_SESSIONS, "high": MAX_SESSIONS}
            )
        return count

    def clean_start_date(self) -> date:
        day = self.cleaned_data["start_date"]
        year_error(day.year)
        return day

    def course_request(self) -> CourseRequest:
        data = self.cleaned_data
        return CourseRequest(
            practice=self.practice,
            patient=data["patient"],
            therapist=data["therapist"],
            massage_type=data["massage_type"],
            room=data.get("room"),
            start_date=data["start_date"],
            preferred_time=data["preferred_time"],
            sessions_count=data["sessions_count"],
            cadence=data["cadence"],
        )

    def as_hidden_values(self) -> dict[str, str]:
        """The cleaned request as the confirm form carries it."""
        data = self.cleaned_data
        preferred: time = data["preferred_time"]
        return {
            "patient": str(data["patient"].pk),
            "massage_type": str(data["massage_type"].pk),
            "therapist": str(data["therapist"].pk),
            "sessions_count": str(data["sessions_count"]),
            "cadence": str(data["cadence"]),
            "start_date": data["start_date"].isoformat(),
            "preferred_time": preferred.strftime("%H:%M"),
            "room": str(data["room"].pk) if data.get("room") else "",
        }


class StartsField(forms.Field):
    """The plan's session starts, as the plan page sent them (ISO times with their offset)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[datetime]:
        if not value:
            return []
        starts = []
        for text in value if isinstance(value, list | tuple) else [value]:
            try:
                moment = parse_datetime(str(text))
            except ValueError:
                moment = None
            if moment is None or timezone.is_naive(moment):
                raise ValidationError(_("The plan was garbled; plan the course again."))
            year_error(moment.year)
            starts.append(moment)
        return starts


class CourseBookForm(CoursePlanForm):
    """Confirming a plan: the request as planned (hidden), its session times, and the reason
    for overriding R12 when the plan asked for one."""

    starts = StartsField(required=True)
    override_reason = forms.CharField(
        label=_("Reason to keep this type (R12 override)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, ask_reason: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, form_field in self.fields.items():
            if name not in ("starts", "override_reason"):
                form_field.widget = forms.HiddenInput()
        if not ask_reason:
            self.fields["override_reason"].widget = forms.HiddenInput()
