from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from practice.models import PracticeOwned


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNSPECIFIED = "unspecified", _("Not stated")


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
