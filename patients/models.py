"""Patients, the contraindication catalogue and screenings (R1-R8).

The catalogue's shared default rows have no practice: they are reference data, like a
country list, loaded by a data migration and read together with the practice's own rows
(`Q(practice=None) | Q(practice=p)`), so no query ever joins two practices' rows. A practice
extends the catalogue with rows of its own and switches a shared item off with a
`ContraindicationOptOut` row.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.screening import (
    DIASTOLIC_RANGE,
    NOT_CLEARABLE,
    PULSE_RANGE,
    SYSTOLIC_RANGE,
    TEMPERATURE_RANGE,
    ZONED_KINDS,
    CatalogueItem,
    Kind,
    Outcome,
    Status,
    Zone,
)
from practice.catalogue import DEFAULT_MASSAGE_TYPES, translated, translations_field
from practice.models import MassageType, Membership, Practice, PracticeOwned, Role

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def phone_to_e164(raw: str) -> str:
    """An international number in E.164 ("+4915123456789"); ValidationError otherwise."""
    if not raw.strip():
        return ""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("Enter a phone number in international format, e.g. +49 151 23456789."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNSPECIFIED = "unspecified", _("Not stated")


def practice_today(row: PracticeOwned) -> date:
    """Today in the row's practice's time zone (R24): "in the future" means there."""
    if row.practice_id is None:
        return timezone.localdate()
    return timezone.localdate(timezone=row.practice.zone)


class Patient(PracticeOwned):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient_records",
        verbose_name=_("portal user"),
    )
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, default=Sex.UNSPECIFIED)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("Stored as E.164."))
    email = models.EmailField(_("email"), blank=True)
    consent_email = models.BooleanField(_("reminders by email"), default=False)
    consent_sms = models.BooleanField(_("reminders by SMS"), default=False)
    consent_given_on = models.DateField(_("consent given on"), null=True, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=20, blank=True
    )
    hypertensive = models.BooleanField(_("hypertensive"), default=False)
    chronic_plan = models.BooleanField(
        _("chronic / prevention plan"),
        default=False,
        help_text=_("Nudged toward 2–4 courses a year (R11)."),
    )
    allergic_to_honey = models.BooleanField(_("allergic to honey"), default=False)
    allergies = models.TextField(_("other allergies"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    # Erasure (patients.erasure): the identity is anonymised at once; the records the practice
    # must keep stay until the practice's retention has passed since this moment.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    # Part of the signed calendar-feed URL: raising it ends every feed URL handed out before
    # (a patient who shared or leaked theirs asks for a new one). Links older than the field
    # carry no version and count as 0, so existing subscriptions keep working.
    calendar_feed_version = models.PositiveIntegerField(_("calendar feed version"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "user"],
                condition=Q(user__isnull=False),
                name="patient_one_record_per_user_and_practice",
            )
        ]
        indexes = [
            models.Index(fields=["practice", "family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["practice", "phone"], name="patient_phone_idx"),
            models.Index("practice", Lower("email"), name="patient_email_idx"),
            models.Index(fields=["practice", "date_of_birth"], name="patient_birth_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # Normalised before the field checks, so "+49 (151) 2345-6789 0" fits max_length.
        errors: dict[str, list[ValidationError]] = {}
        for name in ("phone", "emergency_contact_phone"):
            try:
                setattr(self, name, phone_to_e164(getattr(self, name) or ""))
            except ValidationError as exc:
                errors[name] = [ValidationError(message) for message in exc.messages]
        self.email = (self.email or "").strip().lower()
        try:
            super().clean_fields(exclude=[*(exclude or ()), *errors])
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.date_of_birth and self.date_of_birth > practice_today(self):
            errors["date_of_birth"] = [_("The date of birth cannot be in the future.")]
        if (self.consent_email or self.consent_sms) and not self.consent_given_on:
            errors["consent_given_on"] = [_("Say when the patient consented to reminders.")]
        if self.consent_email and not self.email:
            errors["consent_email"] = [_("Reminders by email need an email address.")]
        if self.consent_sms and not self.phone:
            errors["consent_sms"] = [_("Reminders by SMS need a phone number.")]
        if self.user_id is not None and self.practice_id is not None:
            is_patient_member = Membership.objects.filter(
                practice_id=self.practice_id, user_id=self.user_id, role=Role.PATIENT
            ).exists()
            if not is_patient_member:
                errors["user"] = [_("The portal user must be a patient of this practice.")]
        if errors:
            raise ValidationError(errors)


class Contraindication(models.Model):
    """One item of the screening questionnaire: what a "yes" blocks, and under which rule.

    Shared default rows (practice empty) come from `patients.catalogue`; a practice's own rows
    extend the catalogue for that practice only.
    """

    practice = models.ForeignKey(
        Practice,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("practice"),
        help_text=_("Empty: part of the shared default catalogue."),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    question = models.CharField(_("question"), max_length=300)
    name_translations = translations_field(
        _("name in other languages"),
        _('By language code, e.g. {"ru": "…"}: what readers of it see.'),
    )
    question_translations = translations_field(
        _("question in other languages"),
        _('By language code, e.g. {"ru": "…"}: what patients reading it are asked.'),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    blocks_types = models.JSONField(
        _("blocks massage types"),
        default=list,
        blank=True,
        help_text=_('Codes of the massage types a yes blocks (R4), e.g. ["cupping"].'),
    )
    clearable = models.BooleanField(
        _("a doctor's clearance can lift it"),
        default=False,
        help_text=_("Never for oncology or fever (R2); always for an uncertain diagnosis (R6)."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contraindication")
        verbose_name_plural = _("contraindications")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(practice__isnull=True),
                name="contraindication_shared_code",
            ),
            models.UniqueConstraint(
                fields=["practice", "code"],
                condition=Q(practice__isnull=False),
                name="contraindication_code_per_practice",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`translated`)."""
        return translated(self.name, self.name_translations)

    @property
    def display_question(self) -> str:
        return translated(self.question, self.question_translations)

    @property
    def is_shared(self) -> bool:
        return self.practice_id is None

    def as_item(self) -> CatalogueItem:
        return CatalogueItem(
            code=self.code,
            name=self.name,
            kind=self.kind,
            blocks_types=frozenset(self.blocks_types or ()),
            clearable=self.clearable,
        )

    def _known_type_codes(self) -> set[str]:
        if self.practice_id is None:
            return {default.code for default in DEFAULT_MASSAGE_TYPES}
        return set(
            MassageType.objects.for_practice(self.practice_id).values_list("code", flat=True)
        )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[StrOrPromise]] = {}
        types = self.blocks_types
        if not isinstance(types, list) or not all(isinstance(code, str) for code in types):
            errors["blocks_types"] = [_("A list of massage type codes.")]
        elif unknown := sorted(set(types) - self._known_type_codes()):
            errors["blocks_types"] = [
                _("Unknown massage type(s): %(codes)s.") % {"codes": ", ".join(unknown)}
            ]
        if self.kind == Kind.NEEDS_DOCTOR and not self.clearable:
            errors["clearable"] = [_("An uncertain diagnosis is lifted by a doctor (R6).")]
        if self.clearable and self.kind not in (Kind.ABSOLUTE, Kind.NEEDS_DOCTOR):
            errors["clearable"] = [_("Only absolute and needs-doctor items can be lifted.")]
        if self.code in NOT_CLEARABLE and self.clearable:
            errors["clearable"] = [_("No clearance lifts oncology or fever (R2).")]
        if (
            self.practice_id is not None
            and self.code
            and Contraindication.objects.filter(practice=None, code=self.code).exists()
        ):
            errors["code"] = [_("The shared catalogue already has this code.")]
        if errors:
            raise ValidationError(errors)


class ContraindicationOptOut(PracticeOwned):
    """A practice does not ask about this shared item. Absolute items (R2) stay: switching
    them off would let a massage through that the rules forbid."""

    contraindication = models.ForeignKey(
        Contraindication,
        on_delete=models.CASCADE,
        related_name="opt_outs",
        limit_choices_to={"practice__isnull": True},
        verbose_name=_("shared item"),
    )
    created_at = models.DateTimeField(_("switched off"), auto_now_add=True)

    class Meta:
        verbose_name = _("switched-off shared item")
        verbose_name_plural = _("switched-off shared items")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "contraindication"], name="contraindication_opt_out_once"
            )
        ]

    def __str__(self) -> str:
        return str(self.contraindication)

    def clean(self) -> None:
        super().clean()
        item = self.contraindication if self.contraindication_id else None
        if item is None:
            return
        if not item.is_shared:
            raise ValidationError(
                {"contraindication": _("Switch your own items off with their active flag.")}
            )
        if item.kind == Kind.ABSOLUTE:
            raise ValidationError(
                {"contraindication": _("Absolute contraindications cannot be switched off (R2).")}
            )


class Screening(PracticeOwned):
    """A contraindication screening: answers, vitals and the computed outcome (R1-R8)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="screenings", verbose_name=_("patient")
    )
    screened_on = models.DateField(_("screened on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    temperature = models.DecimalField(
        _("temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(TEMPERATURE_RANGE[0]),
            MaxValueValidator(TEMPERATURE_RANGE[1]),
        ],
    )
    systolic = models.PositiveSmallIntegerField(
        _("systolic (mmHg)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(SYSTOLIC_RANGE[0]), MaxValueValidator(SYSTOLIC_RANGE[1])],
    )
    diastolic = models.PositiveSmallIntegerField(
        _("diastolic (mmHg)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(DIASTOLIC_RANGE[0]),
            MaxValueValidator(DIASTOLIC_RANGE[1]),
        ],
    )
    pulse = models.PositiveSmallIntegerField(
        _("pulse (per minute)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(PULSE_RANGE[0]), MaxValueValidator(PULSE_RANGE[1])],
    )
    notes = models.TextField(_("notes"), blank=True)
    valid_until = models.DateField(_("valid until"), help_text=_("Last day it is valid (R1)."))
    status = models.CharField(_("outcome"), max_length=20, choices=Status.choices)
    outcome_data = models.JSONField(_("outcome details"), default=dict, blank=True)
    # A questionnaire the patient filled in the portal counts for nothing (R1) until a staff
    # member has gone through it with them and measured the vitals: `screening_confirm`.
    self_reported = models.BooleanField(
        _("self-reported"),
        default=False,
        help_text=_("Filled in by the patient in the portal; valid only once confirmed."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        ordering = ["-screened_on", "-recorded_at", "-id"]
        indexes = [
            models.Index(
                fields=["practice", "patient", "-screened_on"], name="screening_latest_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("screened_on")),
                name="screening_valid_after_date",
            ),
            # Only a patient's own questionnaire waits for a confirmation.
            models.CheckConstraint(
                condition=Q(confirmed_at=None) | Q(self_reported=True),
                name="screening_confirmed_only_if_self_reported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.screened_on:%Y-%m-%d} {self.get_status_display()}"

    @property
    def outcome(self) -> Outcome:
        return Outcome.from_json(self.outcome_data)

    @property
    def awaiting_confirmation(self) -> bool:
        return self.self_reported and self.confirmed_at is None

    def is_valid_on(self, day: date) -> bool:
        if self.awaiting_confirmation:
            return False  # R1: a self-reported screening counts only once staff confirm it
        return self.screened_on <= day <= self.valid_until

    def clean(self) -> None:
        super().clean()
        if self.screened_on and self.screened_on > practice_today(self):
            raise ValidationError({"screened_on": _("A screening cannot be dated in the future.")})


class ScreeningAnswer(PracticeOwned):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="answers")
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    yes = models.BooleanField(_("yes"))
    zone = models.CharField(_("zone"), max_length=20, choices=Zone.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["contraindication__position", "contraindication_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "contraindication"], name="screening_answer_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contraindication}: {_('yes') if self.yes else _('no')}"

    def clean(self) -> None:
        super().clean()
        if not self.contraindication_id:
            return
        item = self.contraindication
        if item.practice_id not in (None, self.practice_id):
            raise ValidationError({"contraindication": _("This belongs to another practice.")})
        if self.zone and item.kind not in ZONED_KINDS:
            raise ValidationError({"zone": _("This item has no zone.")})
        if self.yes and item.kind == Kind.LOCAL and not self.zone:
            raise ValidationError({"zone": _("Say which zone is affected (R3).")})


def clearance_upload_to(instance: DoctorClearance, filename: str) -> str:
    # Per practice, so a hosted deployment can move or purge one practice's files.
    return f"clearances/{instance.practice_id}/{filename}"


class DoctorClearance(PracticeOwned):
    """A doctor's written clearance for one item: lifts R2 (not oncology or fever) or R6."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="clearances")
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    doctor_name = models.CharField(_("doctor"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    document = models.FileField(
        _("document"),
        upload_to=clearance_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["pdf", "jpg", "jpeg", "png"])],
        help_text=_("The doctor's letter: PDF or a photo (JPEG, PNG)."),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("doctor's clearance")
        verbose_name_plural = _("doctor's clearances")
        ordering = ["issued_on", "id"]

    def __str__(self) -> str:
        return f"{self.contraindication} · {self.doctor_name} · {self.issued_on:%Y-%m-%d}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[StrOrPromise]] = {}
        if self.contraindication_id:
            item = self.contraindication
            if item.practice_id not in (None, self.practice_id):
                errors["contraindication"] = [_("This belongs to another practice.")]
            elif not item.clearable:
                errors["contraindication"] = [
                    _("A doctor's clearance cannot lift “%(item)s” (R2).") % {"item": item.name}
                ]
        if self.issued_on and self.issued_on > practice_today(self):
            errors["issued_on"] = [_("The clearance cannot be dated in the future.")]
        if errors:
            raise ValidationError(errors)


class HighBloodPressure(PracticeOwned):
    """A systolic reading over the R8 limit, from a screening or a session's check-in: it
    blocks every session of the patient for the rest of its local day in the practice's time
    zone, whatever is measured later that day (`patients.selectors.r8_readings_on`). Written
    by the screening and check-in services, so the day block never depends on which session
    or screening the reading was taken for, nor on that one still standing."""

    class Source(models.TextChoices):
        SCREENING = "screening", _("screening")
        CHECK_IN = "check_in", _("check-in")

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    day = models.DateField(_("day"), help_text=_("The practice's local day it blocks (R8)."))
    measured_at = models.DateTimeField(_("measured at"))
    systolic = models.PositiveSmallIntegerField(
        _("systolic (mmHg)"),
        validators=[MinValueValidator(SYSTOLIC_RANGE[0]), MaxValueValidator(SYSTOLIC_RANGE[1])],
    )
    diastolic = models.PositiveSmallIntegerField(
        _("diastolic (mmHg)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(DIASTOLIC_RANGE[0]),
            MaxValueValidator(DIASTOLIC_RANGE[1]),
        ],
    )
    source = models.CharField(_("taken at"), max_length=12, choices=Source.choices)

    class Meta:
        verbose_name = _("high blood-pressure reading")
        verbose_name_plural = _("high blood-pressure readings")
        ordering = ["day", "measured_at", "id"]
        indexes = [models.Index(fields=["practice", "patient", "day"], name="high_bp_day_idx")]

    def __str__(self) -> str:
        return f"{self.patient} {self.day:%Y-%m-%d} {self.systolic} mmHg"
