"""Sessions: one massage appointment, alone or as part of a course.

R19 lives in the database: exclusion constraints forbid two active sessions of one therapist,
one room or one patient at once. The services check first only to answer with a friendly 409.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from practice.db import PostgresOnlyExclusionConstraint
from practice.models import PracticeOwned

# A session never lasts longer than this; with the largest buffer (120 min) a row's time span
# is at most MAX_SPAN, which lets overlap queries bound `starts_at` from below and use the
# (practice, therapist, starts_at) index instead of scanning years of history.
MAX_SESSION_MINUTES = 240
MAX_SPAN = timedelta(minutes=MAX_SESSION_MINUTES + 120)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class SessionStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Rows in these states no longer hold their time: the slot may be booked again (R19).
FREEING_STATUSES = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
ACTIVE = ~Q(status__in=FREEING_STATUSES)


class Session(PracticeOwned):
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("course"),
    )
    sequence = models.PositiveSmallIntegerField(
        _("number in course"), null=True, blank=True, help_text=_("1 for a course's first.")
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="sessions"
    )
    therapist = models.ForeignKey(
        "practice.Therapist", on_delete=models.PROTECT, related_name="sessions"
    )
    room = models.ForeignKey(
        "practice.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    massage_type = models.ForeignKey(
        "practice.MassageType", on_delete=models.PROTECT, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # The end plus the practice's buffer at booking time (R23), stored so that the exclusion
    # constraint enforces the buffer too; changing the setting later leaves booked rows alone.
    blocks_until = models.DateTimeField(_("room ready at"))
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.BOOKED
    )
    # Bumped on every reschedule, so a reminder prepared for an older time can tell it is stale.
    schedule_version = models.PositiveIntegerField(_("schedule version"), default=1)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    late_cancellation = models.BooleanField(
        _("late cancellation"), default=False, help_text=_("Cancelled inside the notice period.")
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(
                fields=["practice", "therapist", "starts_at"], name="session_therapist_idx"
            ),
            models.Index(fields=["practice", "patient", "starts_at"], name="session_patient_idx"),
            models.Index(fields=["practice", "room", "starts_at"], name="session_room_idx"),
            models.Index(fields=["practice", "starts_at"], name="session_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
            # A course position is held by one active row; a missed one may be rebooked (R13).
            models.UniqueConstraint(
                fields=["practice", "course", "sequence"],
                condition=ACTIVE & Q(course__isnull=False),
                name="session_one_active_per_course_position",
            ),
            models.CheckConstraint(
                condition=Q(blocks_until__gte=F("ends_at")), name="session_buffer_not_negative"
            ),
            # R19 + R23: the half-open range [start, end + buffer) lets a session begin exactly
            # when the previous one's room preparation ends.
            PostgresOnlyExclusionConstraint(
                name="session_therapist_no_overlap",
                expressions=[
                    (
                        TsTzRange("starts_at", "blocks_until", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                    ("practice", RangeOperators.EQUAL),
                    ("therapist", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
            PostgresOnlyExclusionConstraint(
                name="session_room_no_overlap",
                expressions=[
                    (
                        TsTzRange("starts_at", "blocks_until", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                    ("practice", RangeOperators.EQUAL),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=ACTIVE & Q(room__isnull=False),
            ),
            # The buffer is for preparing the room; the patient only must not be in two at once.
            PostgresOnlyExclusionConstraint(
                name="session_patient_no_overlap",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("practice", RangeOperators.EQUAL),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.therapist} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_active(self) -> bool:
        return self.status not in FREEING_STATUSES

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at:
            if self.ends_at <= self.starts_at:
                raise ValidationError({"ends_at": _("The end must be after the start.")})
            if self.ends_at - self.starts_at > timedelta(minutes=MAX_SESSION_MINUTES):
                raise ValidationError(
                    {
                        "ends_at": _("A session lasts at most %(n)d minutes.")
                        % {"n": MAX_SESSION_MINUTES}
                    }
                )
