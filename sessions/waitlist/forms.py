"""The waitlist entry form of the desk's page and the portal, for one session or a whole
course: shapes only (a day is a day, a type one of the practice's). The rules (the type
bookable online, the screening, the days ahead, a course's R9 and R10) are
`sessions.waitlist.entries.waitlist_entry_add`'s, whose errors the pages put next to these
fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from courses.models import DEFAULT_SESSIONS, MAX_SESSIONS, MIN_SESSIONS, Cadence
from patients.models import Patient
from practice.models import MassageType, Therapist, Weekday
from sessions.models import WaitlistEntryKind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class WaitlistEntryForm(forms.Form):
    """`patients`: the desk chooses among them; the portal passes None (the patient's own)."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), label=_("Patient"))
    # Not required: a form posted without it (an older page) waits for one session.
    kind = forms.ChoiceField(
        choices=WaitlistEntryKind.choices,
        initial=WaitlistEntryKind.SESSION,
        required=False,
        label=_("Waits for"),
        widget=forms.RadioSelect,
    )
    massage_type = forms.ModelChoiceField(
        queryset=MassageType.objects.none(), label=_("Massage type")
    )
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.none(),
        required=False,
        label=_("Therapist"),
        empty_label=_("Any therapist"),
    )
    # A course's shape: the service reads these only for a course and checks R9 and R10.
    sessions_count = forms.IntegerField(
        label=_("Number of sessions"),
        required=False,
        initial=DEFAULT_SESSIONS,
        widget=forms.NumberInput(attrs={"min": MIN_SESSIONS, "max": MAX_SESSIONS}),
        help_text=_("A course only: 10 to 15 (R9)."),
    )
    cadence = forms.ChoiceField(
        label=_("Cadence"),
        choices=Cadence.choices,
        initial=Cadence.EVERY_OTHER_DAY,
        required=False,
        help_text=_("A course only (R10)."),
    )
    first_day = forms.DateField(label=_("From"), widget=DATE_INPUT)
    last_day = forms.DateField(
        label=_("Until"),
        widget=DATE_INPUT,
        help_text=_("A course starts on one of these days; its sessions may run beyond."),
    )
    earliest = forms.TimeField(label=_("Not before"), required=False, widget=TIME_INPUT)
    latest = forms.TimeField(
        label=_("Ends by"),
        required=False,
        widget=TIME_INPUT,
        help_text=_("For a course: every session keeps to this time of day."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        label=_("Weekdays"),
        help_text=_("None ticked: any day. For a course: the days it may start on."),
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        patients: QuerySet[Patient] | None,
        massage_types: QuerySet[MassageType],
        therapists: QuerySet[Therapist],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if patients is None:
            del self.fields["patient"]
        else:
            patient_field = self.fields["patient"]
            assert isinstance(patient_field, forms.ModelChoiceField)
            patient_field.queryset = patients
        for name, queryset in (("massage_type", massage_types), ("therapist", therapists)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or WaitlistEntryKind.SESSION
