from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from patients.models import (
    Contraindication,
    ContraindicationOptOut,
    DoctorClearance,
    HighBloodPressure,
    Patient,
    Screening,
    ScreeningAnswer,
)
from patients.selectors import duplicates_of
from patients.services import PATIENT_EDITABLE_FIELDS, DuplicatePatient
from practice.admin import ManagedInline, PracticeScopedAdmin
from practice.admin_site import managed_practice_ids
from practice.models import Role, User


class PatientAdminForm(forms.ModelForm):
    confirm_duplicate = forms.BooleanField(
        label=_("Save even if this looks like an existing patient"), required=False
    )

    class Meta:
        model = Patient
        fields = ("practice", *PATIENT_EDITABLE_FIELDS, "archived")

    def _post_clean(self) -> None:
        # The model's checks, which also normalise the phone numbers: a private hook of
        # Django's model forms, which the stubs leave out.
        super()._post_clean()  # type: ignore[misc]
        if self.errors or self.cleaned_data.get("confirm_duplicate"):
            return
        duplicates = duplicates_of(patient=self.instance)
        if duplicates:
            self.add_error(None, DuplicatePatient(duplicates))


@admin.register(Patient)
class PatientAdmin(PracticeScopedAdmin):
    form = PatientAdminForm
    list_display = ("full_name", "date_of_birth", "phone", "email", "archived", "practice")
    list_filter = ("practice", "archived", "hypertensive", "chronic_plan")
    search_fields = ("given_name", "family_name", "phone", "email")
    list_select_related = ("practice",)
    readonly_fields = ("created_at", "updated_at")
    actions = ["archive"]
    fieldsets = (
        (None, {"fields": ("practice", "user", "archived", "confirm_duplicate")}),
        (_("Person"), {"fields": ("given_name", "family_name", "date_of_birth", "sex")}),
        (
            _("Contact"),
            {
                "fields": (
                    "phone",
                    "email",
                    ("consent_email", "consent_sms", "consent_given_on"),
                    ("emergency_contact_name", "emergency_contact_phone"),
                )
            },
        ),
        (
            _("Health"),
            {"fields": ("hypertensive", "chronic_plan", "allergic_to_honey", "allergies")},
        ),
        (_("Notes"), {"fields": ("notes", "created_at", "updated_at")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Archive, never delete: screenings and sessions keep their patient.
        return False

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "user" and not request.user.is_superuser:
            # Only the patient accounts of the manager's practices, not every user.
            kwargs["queryset"] = User.objects.filter(
                memberships__practice__in=managed_practice_ids(request),
                memberships__role=Role.PATIENT,
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.action(description=_("Archive the selected patients"))
    def archive(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        count = queryset.update(archived=True)
        self.message_user(
            request,
            ngettext("Archived %(count)d patient.", "Archived %(count)d patients.", count)
            % {"count": count},
        )


class AnswerInline(ManagedInline):
    model = ScreeningAnswer
    fields = ("contraindication", "yes", "zone", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ClearanceInline(ManagedInline):
    model = DoctorClearance
    fields = ("contraindication", "doctor_name", "issued_on", "document")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Screening)
class ScreeningAdmin(PracticeScopedAdmin):
    """Screenings are recorded through the API (the service computes the outcome); here they
    are read, and only the free notes can be corrected."""

    list_display = ("patient", "screened_on", "valid_until", "status", "recorded_by", "practice")
    list_filter = ("practice", "status", "self_reported")
    search_fields = ("patient__given_name", "patient__family_name")
    list_select_related = ("patient", "recorded_by", "practice")
    date_hierarchy = "screened_on"
    readonly_fields = (
        "practice",
        "patient",
        "screened_on",
        "valid_until",
        "recorded_at",
        "recorded_by",
        "temperature",
        "systolic",
        "diastolic",
        "pulse",
        "status",
        "outcome_summary",
        "self_reported",
        "confirmed_by",
        "confirmed_at",
    )
    fields = (*readonly_fields, "notes")
    inlines = [AnswerInline, ClearanceInline]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("findings (rule: message)"))
    def outcome_summary(self, screening: Screening) -> str:
        findings = screening.outcome.findings
        return "; ".join(f"{f.rule}: {f.text}" for f in findings) or "—"


@admin.register(HighBloodPressure)
class HighBloodPressureAdmin(PracticeScopedAdmin):
    """R8's day blocks, as the screening and check-in services kept them: read only, since a
    reading over the limit is a clinical fact, not a setting."""

    list_display = ("patient", "day", "measured_at", "systolic", "diastolic", "source", "practice")
    list_filter = ("practice", "source")
    search_fields = ("patient__given_name", "patient__family_name")
    list_select_related = ("patient", "practice")
    date_hierarchy = "day"

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Contraindication)
class ContraindicationAdmin(PracticeScopedAdmin):
    """The shared default catalogue (read-only for managers) and the practice's own items."""

    list_display = ("name", "code", "kind", "clearable", "position", "active", "practice")
    list_filter = ("kind", "active", "practice")
    search_fields = ("name", "code", "question")
    ordering = ("position", "id")
    actions = ["switch_off"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contraindication]:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(Q(practice=None) | Q(practice__in=managed_practice_ids(request)))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, Contraindication) and obj.practice_id is None:
            return request.user.is_superuser
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Answers point at items (PROTECT): switch them off instead.
        return False

    def get_form(
        self,
        request: HttpRequest,
        obj: Contraindication | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Contraindication]]:
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser and "practice" in form.base_fields:
            # Only a superuser edits the shared default; a manager adds to their practice.
            form.base_fields["practice"].required = True
        return form

    @admin.action(description=_("Switch the selected shared items off for my practice"))
    def switch_off(self, request: HttpRequest, queryset: QuerySet[Contraindication]) -> None:
        practices = managed_practice_ids(request)
        switched = 0
        # All the selected items or none: an action is not inside the admin's own transaction.
        with transaction.atomic():
            for item in queryset:
                for practice_id in practices:
                    opt_out = ContraindicationOptOut(practice_id=practice_id, contraindication=item)
                    try:
                        opt_out.full_clean()
                    except ValidationError as exc:
                        self.message_user(request, f"{item}: {exc.messages[0]}", messages.WARNING)
                        continue
                    opt_out.save()
                    switched += 1
        if switched:
            self.message_user(request, _("Switched off %(count)d item(s).") % {"count": switched})


@admin.register(ContraindicationOptOut)
class ContraindicationOptOutAdmin(PracticeScopedAdmin):
    """Shared items a practice does not ask about; delete a row to ask again."""

    list_display = ("contraindication", "practice", "created_at")
    list_select_related = ("contraindication", "practice")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "contraindication":
            kwargs["queryset"] = Contraindication.objects.filter(practice=None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
