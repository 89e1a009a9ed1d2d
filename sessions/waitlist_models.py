"""The waitlist's rows: who waits for what (`WaitlistEntry`: one session, or a whole course
to start in a window of days), which booked time came free (`FreedSlot`) and who was offered
it (`WaitlistOffer`). Imported by `sessions.models`, so
Django registers them with the app; kept apart because the session models are long enough.

The database decides the races: a slot is offered to one entry at a time, an entry holds one
open offer at a time, and an entry is never offered the same freed slot twice, so a task
delivered twice or a sweep running beside it offers nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from courses.models import MAX_SESSIONS, MIN_SESSIONS, Cadence
from courses.rules import r9_sessions_count_error
from practice.models import PracticeOwned, Weekday


class WaitlistEntryKind(models.TextChoices):
    SESSION = "session", _("One session")
    COURSE = "course", _("A whole course")


class WaitlistEntryStatus(models.TextChoices):
    ACTIVE = "active", _("Waiting")
    BOOKED = "booked", _("Booked from an offer")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WaitlistEntry(PracticeOwned):
    """A patient waiting for a time: a massage type, a therapist (or any qualified), a range
    of days and, optionally, a time of day and weekdays. A course entry waits for a whole
    course (`sessions_count` sessions at `cadence`, R9, R10) whose first session falls in the
    days and weekdays; every session of it must keep to the time of day."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    kind = models.CharField(
        _("waits for"),
        max_length=8,
        choices=WaitlistEntryKind.choices,
        default=WaitlistEntryKind.SESSION,
    )
    # A course entry's shape (R9, R10); empty for one session.
    sessions_count = models.PositiveSmallIntegerField(
        _("number of sessions"), null=True, blank=True
    )
    cadence = models.CharField(_("cadence"), max_length=20, choices=Cadence.choices, blank=True)
    massage_type = models.ForeignKey(
        "practice.MassageType", on_delete=models.PROTECT, related_name="+"
    )
    therapist = models.ForeignKey(
        "practice.Therapist",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: any therapist who gives the massage type."),
    )
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("until"))
    earliest = models.TimeField(_("not before"), null=True, blank=True)
    latest = models.TimeField(_("ends by"), null=True, blank=True)
    # Weekday numbers (0 = Monday, `practice.models.Weekday`); empty: any day.
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WaitlistEntryStatus.choices,
        default=WaitlistEntryStatus.ACTIVE,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        # First come, first offered.
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["practice", "massage_type", "created_at"],
                condition=Q(status="active"),
                name="waitlist_active_idx",
            ),
            models.Index(fields=["practice", "patient"], name="waitlist_patient_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="waitlist_days_in_order"
            ),
            models.CheckConstraint(
                condition=Q(earliest__isnull=True)
                | Q(latest__isnull=True)
                | Q(latest__gt=F("earliest")),
                name="waitlist_times_in_order",
            ),
            # An offer of a course books it as it stands: the entry must be a course R9 and
            # R10 allow, and one session carries no course's shape.
            models.CheckConstraint(
                condition=Q(kind="session", sessions_count__isnull=True, cadence="")
                | Q(
                    kind="course",
                    sessions_count__gte=MIN_SESSIONS,
                    sessions_count__lte=MAX_SESSIONS,
                    cadence__in=Cadence.values,
                ),
                name="waitlist_course_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} · {self.massage_type} · {self.first_day}–{self.last_day}"

    @property
    def for_course(self) -> bool:
        return self.kind == WaitlistEntryKind.COURSE

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = str(_("The last day must not be before the first."))
        if self.earliest and self.latest and self.latest <= self.earliest:
            errors["latest"] = str(_("The end of the time window must be after its start."))
        valid_days = set(Weekday.values)
        if not isinstance(self.weekdays, list) or not set(self.weekdays) <= valid_days:
            errors["weekdays"] = str(_("Give weekdays as numbers from 0 (Monday) to 6."))
        if self.for_course:
            if self.sessions_count is None:
                errors["sessions_count"] = str(_("Give the number of sessions of the course."))
            elif finding := r9_sessions_count_error(self.sessions_count):
                errors["sessions_count"] = f"{finding.rule}: {finding.message}"
            if self.cadence not in Cadence.values:
                errors["cadence"] = str(_("Choose daily or every other day (R10)."))
        if errors:
            raise ValidationError(errors)

    @property
    def weekday_names(self) -> list[str]:
        return [str(Weekday(day).label) for day in sorted(self.weekdays)]


class FreedSlot(PracticeOwned):
    """A booked time that came free: the session's time at one schedule version, written in
    the transaction that freed it, so a lost task loses no offer (the sweep finds it)."""

    session = models.ForeignKey(
        "therapy_sessions.Session", on_delete=models.CASCADE, related_name="+"
    )
    schedule_version = models.PositiveIntegerField(_("schedule version"))
    therapist = models.ForeignKey("practice.Therapist", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(
        "practice.Room", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # Set once nobody more is to be offered it: claimed, taken, begun or no entry matched.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("freed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("freed slot")
        verbose_name_plural = _("freed slots")
        indexes = [
            models.Index(
                fields=["practice", "starts_at"],
                condition=Q(closed_at__isnull=True),
                name="freed_slot_open_idx",
            ),
        ]
        constraints = [
            # A session's time at one version frees once, however often the hook is called.
            models.UniqueConstraint(
                fields=["practice", "session", "schedule_version"], name="freed_slot_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.therapist_id} · {self.starts_at:%Y-%m-%d %H:%M}"


class WaitlistOfferStatus(models.TextChoices):
    OPEN = "open", _("Offered")
    CLAIMED = "claimed", _("Claimed")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class WaitlistOffer(PracticeOwned):
    """A freed time offered to one waiting patient until `expires_at`: the entry's massage
    type with the slot's therapist at the slot's start. For a course entry, the course
    planned from that start: `course_starts` are its sessions' times, booked as they are."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    slot = models.ForeignKey(FreedSlot, on_delete=models.CASCADE, related_name="offers")
    therapist = models.ForeignKey("practice.Therapist", on_delete=models.CASCADE, related_name="+")
    massage_type = models.ForeignKey(
        "practice.MassageType", on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts"))
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WaitlistOfferStatus.choices,
        default=WaitlistOfferStatus.OPEN,
    )
    session = models.ForeignKey(
        "therapy_sessions.Session",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked session"),
    )
    # ISO times, the first being `starts_at`; empty for one session. A claimed course's
    # `session` is its first, which holds the freed time; the course is that session's.
    course_starts = models.JSONField(_("course's session starts"), default=list, blank=True)
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["practice", "expires_at"],
                condition=Q(status="open"),
                name="waitlist_offer_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "slot", "entry"], name="waitlist_offer_once_per_entry"
            ),
            models.UniqueConstraint(
                fields=["practice", "slot"],
                condition=Q(status="open"),
                name="waitlist_offer_one_open_per_slot",
            ),
            models.UniqueConstraint(
                fields=["practice", "entry"],
                condition=Q(status="open"),
                name="waitlist_offer_one_open_per_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} · {self.starts_at:%Y-%m-%d %H:%M} · {self.status}"

    @property
    def course_start_times(self) -> list[datetime]:
        return [datetime.fromisoformat(start) for start in self.course_starts]
