"""Sessions: one massage appointment, alone or as part of a course.

R19 lives in the database: exclusion constraints forbid two active sessions of one therapist,
one room or one patient at once. The services check first only to answer with a friendly 409.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from patients.screening import Finding
from practice.db import PostgresOnlyExclusionConstraint
from practice.models import PracticeOwned
from sessions.records.techniques import Direction, Pressure
from sessions.reminders.messages import ReminderKind
from sessions.waitlist_models import (  # noqa: F401  (registered with the app here)
    FreedSlot,
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)

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
# Sessions still to come: they hold their time.
HELD_STATUSES = (SessionStatus.BOOKED, SessionStatus.CHECKED_IN, SessionStatus.IN_PROGRESS)


def missed_filter(through: str = "") -> Q:
    """R13: the missed sessions, no-shows and late cancellations. A cancellation in time frees
    its place without a miss, and so does a medical one (never late). `through`: the relation
    from the model queried, e.g. "sessions__" from a course."""
    return Q(**{f"{through}status": SessionStatus.NO_SHOW}) | Q(
        **{f"{through}status": SessionStatus.CANCELLED, f"{through}late_cancellation": True}
    )


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
    # When the patient confirmed they will come, through the link in a reminder (R21); a move
    # clears it, since the patient confirmed the earlier time.
    confirmed_at = models.DateTimeField(_("confirmed by the patient"), null=True, blank=True)
    # A first visit the patient booked online on their own questionnaire: staff confirm it at
    # check-in, and until then R1 keeps the session from starting.
    self_report = models.ForeignKey(
        "patients.Screening",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked on the self-reported screening"),
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

    @property
    def is_missed(self) -> bool:
        """R13, as `missed_filter()` says it in SQL."""
        return self.status == SessionStatus.NO_SHOW or (
            self.status == SessionStatus.CANCELLED and self.late_cancellation
        )

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


def r13_positions(sessions: Iterable[Session]) -> list[tuple[int, bool]]:
    """(position in the course, still held?) of the sessions courses.rules' R13 run counts:
    the held and the missed ones. A cancellation in time is left out: it is no miss, and the
    patient's absences around it are no less in a row for it."""
    return [(s.sequence or 0, s.is_active) for s in sessions if s.is_active or s.is_missed]


class CheckIn(PracticeOwned):
    """What the patient said and what was measured on arrival (R7, R8), kept even when the
    answers stop the session."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="check_in")
    # The same-day questions, by catalogue item code:
    # {"fever": {"yes": false, "zone": ""}, "wound": {"yes": true, "zone": "lower_back"}, ...}.
    answers = models.JSONField(_("answers"), default=dict)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    systolic = models.PositiveSmallIntegerField(_("systolic (mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("diastolic (mmHg)"), null=True, blank=True)
    pulse = models.PositiveSmallIntegerField(_("pulse (/min)"), null=True, blank=True)
    # Findings that stopped the session today, and local ones (effect "zone") that closed a
    # zone for the day: `patients.screening.Finding.as_json()` rows, e.g.
    # [{"rule": "R8", "code": "systolic_over_160", "effect": "block", "message": ...}].
    blocked_by = models.JSONField(_("blocked by"), default=list, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("checked in at"), auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")

    def __str__(self) -> str:
        return f"{self.session} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def blocked_findings(self) -> list[Finding]:
        """`blocked_by` as findings, to show in the reader's language."""
        return [Finding.from_json(row) for row in self.blocked_by]


class SessionRecord(PracticeOwned):
    """What was done in a completed session (R20)."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="record")
    # Technique codes in the order they were used (R15), zone codes worked
    # (sessions.records.techniques).
    techniques = models.JSONField(_("techniques, in order"), default=list)
    zones = models.JSONField(_("zones worked"), default=list)
    pressure = models.CharField(_("pressure"), max_length=16, choices=Pressure.choices)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    systolic_before = models.PositiveSmallIntegerField(_("systolic before"), null=True, blank=True)
    diastolic_before = models.PositiveSmallIntegerField(
        _("diastolic before"), null=True, blank=True
    )
    systolic_after = models.PositiveSmallIntegerField(_("systolic after"), null=True, blank=True)
    diastolic_after = models.PositiveSmallIntegerField(_("diastolic after"), null=True, blank=True)
    pain_before = models.PositiveSmallIntegerField(
        _("pain before (0–10)"), validators=[MaxValueValidator(10)]
    )
    pain_after = models.PositiveSmallIntegerField(
        _("pain after (0–10)"), validators=[MaxValueValidator(10)]
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("session record")
        verbose_name_plural = _("session records")
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_before__lte=10, pain_after__lte=10), name="record_r18_pain_0_to_10"
            )
        ]

    def __str__(self) -> str:
        return str(self.session)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    # Claimed by a dispatcher, which sends it with no lock held (R22): see the lease fields.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Reminder(PracticeOwned):
    """The outbox (R21, R22): one row per message to send. Beat sweeps due rows; the broker only
    ever carries "sweep now", so a lost or redelivered task loses or duplicates nothing."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="reminders"
    )
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ReminderKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    due_at = models.DateTimeField(_("due"))
    # The earliest next attempt: due_at at first, later than it after a transient failure.
    send_after = models.DateTimeField(_("send after"))
    status = models.CharField(
        _("status"), max_length=12, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Attempts whose outcome nobody knows (a provider's timeout, a worker dying mid-send): the
    # message may have gone out, so they never count towards failing the reminder (R22).
    unknown_outcomes = models.PositiveSmallIntegerField(_("unknown outcomes"), default=0)
    # The lease of a row being sent: which dispatcher holds it, and until when. A lease that
    # runs out (its worker died) is taken again and the message resent with the same key.
    lease_owner = models.CharField(_("lease owner"), max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    # What makes this message this message, e.g. "session:41:v2:first_reminder:sms" (the
    # session's schedule version included, so a moved session gets fresh reminders).
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    # The session's schedule_version this row was written for: the dispatcher sends only while
    # the session still has it, so a moved session never gets a stale reminder (R22).
    session_version = models.PositiveIntegerField(_("session version"), null=True, blank=True)
    # Values fixed when the row was queued and shown in the message, e.g. {"due_on": "..."}.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        constraints = [
            # R22: the same message can never be queued twice.
            models.UniqueConstraint(fields=["practice", "dedupe_key"], name="reminder_r22_once"),
        ]
        indexes = [
            models.Index(
                fields=["send_after", "practice"],
                condition=Q(status="pending"),
                name="reminder_due_idx",
            ),
            # The dispatcher claims a practice's next due row in this order (LIMIT 1, SKIP
            # LOCKED): read straight off the index instead of sorting every pending row.
            models.Index(
                fields=["practice", "send_after", "id"],
                condition=Q(status="pending"),
                name="reminder_claim_idx",
            ),
            # Leases that ran out, found without reading the pending rows (few are ever sending).
            models.Index(
                fields=["practice", "lease_expires_at"],
                condition=Q(status="sending"),
                name="reminder_lease_idx",
            ),
            models.Index(fields=["practice", "session"], name="reminder_session_idx"),
            models.Index(fields=["practice", "patient", "due_at"], name="reminder_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_channel_display()} · {self.due_at:%Y-%m-%d}"


class ReminderFailureAlert(PracticeOwned):
    """When the practice's managers were last told that reminders are failing: one row per
    practice, claimed with a conditional update, so a provider outage that fails a thousand
    reminders sends one alert an hour, not a thousand."""

    last_sent_at = models.DateTimeField(_("last alert sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder failure alert")
        verbose_name_plural = _("reminder failure alerts")
        constraints = [
            models.UniqueConstraint(fields=["practice"], name="reminder_failure_alert_one"),
        ]

    def __str__(self) -> str:
        return f"{self.practice_id} · {self.last_sent_at}"
