"""Forms of the patients pages. They check shapes only (a date is a date, a number a number);
every rule is decided by the model's validation and `patients.services`, whose errors the
views put back next to the fields (`errors_to_form`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from patients.models import Contraindication, DoctorClearance, Patient
from patients.screening import ZONED_KINDS, Zone
from patients.services import PATIENT_EDITABLE_FIELDS, AnswerInput
from practice.models import Practice, Role, User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class PatientForm(forms.ModelForm):
    """A patient's details. Validated by the model (phone format, consent needs a date, ...)
    and saved through `patient_create` / `patient_update`, which also look for duplicates."""

    # Wider than the column: the model normalises "+49 (151) 2345-6789" to E.164 before
    # checking the length, so the raw input may be longer than what is stored.
    phone = forms.CharField(
        label=capfirst(Patient._meta.get_field("phone").verbose_name),
        max_length=40,
        required=False,
    )
    emergency_contact_phone = forms.CharField(
        label=capfirst(Patient._meta.get_field("emergency_contact_phone").verbose_name),
        max_length=40,
        required=False,
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_EDITABLE_FIELDS)
        widgets = {
            "date_of_birth": DATE_INPUT,
            "consent_given_on": DATE_INPUT,
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(
        self, *args: Any, practice: Practice, ask_duplicate: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("instance", Patient(practice=practice))
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "tel"})
        self.fields["emergency_contact_phone"].widget.attrs["type"] = "tel"
        # Only this practice's patient accounts can be linked, never any user of the site.
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)  # the model's foreign key
        user_field.queryset = User.objects.filter(
            memberships__practice=practice, memberships__role=Role.PATIENT
        ).order_by("email")
        user_field.label = _("Portal account")
        user_field.help_text = _("The patient's login, if they use the portal.")
        if ask_duplicate:
            self.fields["confirm_duplicate"] = forms.BooleanField(
                label=_("This is a different person: save anyway"), required=False
            )

    def service_fields(self) -> dict[str, Any]:
        """What `patient_create` / `patient_update` take (PATIENT_EDITABLE)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


class PortalContactForm(forms.Form):
    """What a patient changes on their own record: how the practice reaches them, and whether
    it may send reminders. `patient_contact_update` dates the consent and validates."""

    phone = forms.CharField(
        label=capfirst(Patient._meta.get_field("phone").verbose_name),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email for reminders"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    consent_email = forms.BooleanField(label=_("Send me reminders by email"), required=False)
    consent_sms = forms.BooleanField(label=_("Send me reminders by SMS"), required=False)


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone or email"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    archived = forms.BooleanField(label=_("Archived patients"), required=False)


class QuestionsForm(forms.Form):
    """Yes/no questions from the contraindication catalogue (a zone for local items, a note
    where `item_notes`) and the vitals: shared by the screening form and the check-in."""

    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    systolic = forms.IntegerField(label=_("Systolic (mmHg)"), required=False)
    diastolic = forms.IntegerField(label=_("Diastolic (mmHg)"), required=False)
    pulse = forms.IntegerField(label=_("Pulse (per minute)"), required=False)

    VITALS = ("temperature", "systolic", "diastolic", "pulse")
    item_notes = True

    def __init__(
        self,
        *args: Any,
        items: Iterable[Contraindication],
        with_vitals: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        if not with_vitals:
            for name in self.VITALS:
                del self.fields[name]
        for item in self.items:
            # Explicit yes or no, never a preselected "no": an unanswered question must not
            # pass as a negative answer.
            self.fields[f"item_{item.code}"] = forms.ChoiceField(
                label=item.display_question, choices=YES_NO, widget=forms.RadioSelect
            )
            if item.kind in ZONED_KINDS:
                self.fields[f"zone_{item.code}"] = forms.ChoiceField(
                    label=_("Affected zone"),
                    choices=[("", _("— choose —")), *Zone.choices],
                    required=False,
                )
            if self.item_notes:
                self.fields[f"note_{item.code}"] = forms.CharField(
                    label=_("Note"), required=False, max_length=300
                )

    @property
    def vitals(self) -> list[forms.BoundField]:
        return [self[name] for name in self.VITALS if name in self.fields]

    @property
    def questions(self) -> list[dict[str, Any]]:
        """Each catalogue item with its bound fields, for the template."""
        return [
            {
                "item": item,
                "answer": self[f"item_{item.code}"],
                "zone": self._bound(f"zone_{item.code}"),
                "note": self._bound(f"note_{item.code}"),
            }
            for item in self.items
        ]

    def _bound(self, name: str) -> forms.BoundField | None:
        return self[name] if name in self.fields else None

    def answered(self, item: Contraindication) -> tuple[bool, str]:
        """Yes or no, and the zone, of one item (after validation)."""
        return (
            self.cleaned_data[f"item_{item.code}"] == "yes",
            self.cleaned_data.get(f"zone_{item.code}", ""),
        )


class ScreeningForm(QuestionsForm):
    """The practice's catalogue as questions, and for staff the vitals. `with_vitals=False`
    is the patient's own questionnaire."""

    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        catalogue: Iterable[Contraindication],
        with_vitals: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, items=catalogue, with_vitals=with_vitals, **kwargs)

    def answers(self) -> list[AnswerInput]:
        return [
            AnswerInput(
                code=item.code,
                yes=self.answered(item)[0],
                zone=self.answered(item)[1],
                note=self.cleaned_data[f"note_{item.code}"],
            )
            for item in self.items
        ]

    def service_kwargs(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.VITALS if name in self.fields}
        return {**data, "notes": self.cleaned_data["notes"], "answers": self.answers()}

    def add_item_errors(self, item_errors: dict[str, dict[str, list[str]]]) -> None:
        """Errors the service found in one answer, next to that answer's field."""
        for code, by_field in item_errors.items():
            for name, messages in by_field.items():
                prefix = {"zone": "zone", "note": "note"}.get(name, "item")
                field = f"{prefix}_{code}"
                self.add_error(field if field in self.fields else None, messages)


class ConfirmScreeningForm(forms.Form):
    """The vitals a staff member measures when confirming a self-reported screening."""

    temperature = ScreeningForm.base_fields["temperature"]
    systolic = ScreeningForm.base_fields["systolic"]
    diastolic = ScreeningForm.base_fields["diastolic"]
    pulse = ScreeningForm.base_fields["pulse"]


class ClearanceForm(forms.ModelForm):
    """A doctor's clearance for one answered item of a screening (R2, R6); the model says
    which items a clearance may lift and checks the date and the document's type."""

    class Meta:
        model = DoctorClearance
        fields = ["contraindication", "doctor_name", "issued_on", "document"]
        widgets = {"issued_on": DATE_INPUT}

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
        *,
        instance: DoctorClearance,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, files, instance=instance, **kwargs)
        answered_yes = instance.screening.answers.filter(yes=True).values("contraindication_id")
        field = self.fields["contraindication"]
        assert isinstance(field, forms.ModelChoiceField)  # the model's foreign key
        field.queryset = Contraindication.objects.filter(pk__in=answered_yes, clearable=True)
        field.label = _("Item the doctor clears")
        field.empty_label = _("— choose —")
        self.fields["document"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png"
