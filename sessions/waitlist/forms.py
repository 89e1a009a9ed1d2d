"""The waitlist entry form of the desk's page and the portal: shapes only (a day is a day, a
type one of the practice's). The rules (the type bookable online, the screening, the days
ahead) are `sessions.booking.waitlist.waitlist_entry_add`'s, whose errors the pages put next to
these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from practice.models import MassageType, Therapist, Weekday

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class WaitlistEntryForm(forms.Form):
    """`patients`: the desk chooses among them; the portal passes None (the patient's own)."""

    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), label=_("Patient"))
    massage_type = forms.ModelChoiceField(
        queryset=MassageType.objects.none(), label=_("Massage type")
    )
    therapist = forms.ModelChoiceField(
        queryset=Therapist.objects.none(),
        required=False,
        label=_("Therapist"),
        empty_label=_("Any therapist"),
    )
    first_day = forms.DateField(label=_("From"), widget=DATE_INPUT)
    last_day = forms.DateField(label=_("Until"), widget=DATE_INPUT)
    earliest = forms.TimeField(label=_("Not before"), required=False, widget=TIME_INPUT)
    latest = forms.TimeField(label=_("Ends by"), required=False, widget=TIME_INPUT)
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        label=_("Weekdays"),
        help_text=_("None ticked: any day."),
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
