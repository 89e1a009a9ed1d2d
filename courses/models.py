"""Courses: 10 to 15 sessions of one massage type with one therapist (R9, R10)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from practice.models import PracticeOwned

# R9: a course is 10 to 15 sessions, 10 unless chosen otherwise.
MIN_SESSIONS = 10
MAX_SESSIONS = 15
DEFAULT_SESSIONS = 10


class Cadence(models.TextChoices):
    DAILY = "daily", _("Daily")
    EVERY_OTHER_DAY = "every_other_day", _("Every other day")


# R10: days from one session to the next.
CADENCE_GAP_DAYS = {Cadence.DAILY: 1, Cadence.EVERY_OTHER_DAY: 2}


class CourseStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    INTERRUPTED = "interrupted", _("Interrupted")


class Course(PracticeOwned):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    therapist = models.ForeignKey(
        "practice.Therapist", on_delete=models.PROTECT, related_name="courses"
    )
    massage_type = models.ForeignKey(
        "practice.MassageType", on_delete=models.PROTECT, related_name="courses"
    )
    room = models.ForeignKey(
        "practice.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    # R1: the screening that opened the course keeps it valid for the whole course, even past
    # the screening's own 30 days; the sessions' start check reads it from here.
    screening = models.ForeignKey(
        "patients.Screening",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("opening screening"),
    )
    sessions_count = models.PositiveSmallIntegerField(
        _("number of sessions"),
        default=DEFAULT_SESSIONS,
        validators=[MinValueValidator(MIN_SESSIONS), MaxValueValidator(MAX_SESSIONS)],
    )
    cadence = models.CharField(
        _("cadence"), max_length=20, choices=Cadence.choices, default=Cadence.EVERY_OTHER_DAY
    )
    start_date = models.DateField(_("start date"))
    preferred_time = models.TimeField(_("preferred start (local time)"))
    status = models.CharField(
        _("status"), max_length=16, choices=CourseStatus.choices, default=CourseStatus.PLANNED
    )
    # R8/R2: a check-in that stopped a session pauses the course until its next session
    # starts. A flag beside the lifecycle status rather than a status of its own: a paused
    # course is still planned or active, and R13 may still find it interrupted.
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=300, blank=True)
    # Warnings shown when the course was booked (e.g. R12), kept with the record.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    # Who overrode which rule, and why, is in the audit trail (`course_overrides_recorded`).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["practice", "patient", "start_date"], name="course_patient_idx"),
            models.Index(
                fields=["practice", "therapist", "start_date"], name="course_therapist_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_count__gte=MIN_SESSIONS, sessions_count__lte=MAX_SESSIONS),
                name="course_r9_ten_to_fifteen_sessions",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.massage_type} · {self.start_date:%Y-%m-%d}"

    @property
    def paused(self) -> bool:
        return self.paused_at is not None
