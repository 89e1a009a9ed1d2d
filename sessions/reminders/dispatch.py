"""Sending the reminder outbox's due rows (R21, R22); the rows are written by
`sessions.reminders.outbox`.

Sending. `reminders_dispatch()` (beat, every minute) sends the due rows, taking a batch from
each practice in turn so that no practice's backlog holds up another's (R21).

Exactly once (R22). Each reminder is sent in its own short transaction that locks the row
(`FOR UPDATE SKIP LOCKED`, so two workers never hold the same row), checks it is still current,
sends it, marks it sent and commits. A worker killed before that commit leaves the row pending
(PostgreSQL rolls the transaction back when the connection drops) and the next sweep sends it
again, so nothing is lost. The only duplicate possible is that resend, after a crash between
the provider's acceptance and our COMMIT (milliseconds), and it carries the same idempotency
key (the practice, the dedupe key and the address): the console backend delivers a key once,
and the HTTP SMS backend sends it as an `Idempotency-Key` header, so a provider that honours
the header delivers it once too (one that ignores it delivers it again). SMTP has no such
header: an email resent after a crash in that window does arrive again, with the same
Message-ID, which many clients collapse. So email is "never lost, duplicated only by a worker
dying inside that window", not strictly exactly once; the outbox and the row lock rule out
every other duplicate (two workers, a redelivered task, a task run twice).

Stale reminders (R22). The check before sending reads the session after the row is locked.
Moving or cancelling a session updates its pending reminders, and that update waits for the
dispatcher's row lock: either the move commits first (the dispatcher then finds the row
cancelled, or its `session_version` behind the session's, and sends nothing), or the reminder
was sent while the old time was still the booked one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from time import monotonic

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseStatus
from courses.selectors import course_booked_since
from patients.selectors import patient_screening_status
from practice.catalogue import translated_lazy
from practice.models import MassageType, Practice, Therapist
from sessions.models import Channel as ChannelName
from sessions.models import Reminder, ReminderStatus, Session, SessionStatus
from sessions.reminders.channels import (
    Attachment,
    Channel,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    channel_for,
)
from sessions.reminders.ics import (
    ICS_FILENAME,
    ICS_MIMETYPE,
    CalendarEvent,
    build_calendar,
    session_uid,
)
from sessions.reminders.messages import ReminderKind, render_reminder
from sessions.reminders.outbox import MAX_BACKOFF_SECONDS, _lead_times, consented_channels

logger = logging.getLogger(__name__)

# Before sending ------------------------------------------------------------------------------


def _course_of(reminder: Reminder) -> Course:
    """The course of a course's reminder (its confirmation, its next session): the outbox
    writes every one of them with it."""
    if reminder.course is None:
        raise ValueError(f"Reminder {reminder.pk} ({reminder.kind}) has no course.")
    return reminder.course


def _session_of(reminder: Reminder) -> Session:
    """The session of a session's reminder: the outbox writes every one of them with it."""
    if reminder.session is None:
        raise ValueError(f"Reminder {reminder.pk} ({reminder.kind}) has no session.")
    return reminder.session


def reminder_stale_reason(reminder: Reminder, *, now: datetime) -> str | None:
    """Why this reminder must not be sent any more (R21, R22), or None when it is current."""
    patient = reminder.patient
    if patient.archived:
        return gettext("The patient is archived.")
    if reminder.channel not in consented_channels(patient):
        return gettext("The patient has withdrawn consent for this channel or has no address.")
    session = reminder.session
    if session is not None:
        if session.status != SessionStatus.BOOKED:
            return gettext("The session is %(status)s.") % {
                "status": session.get_status_display().lower()
            }
        if session.schedule_version != reminder.session_version:
            return gettext("The session was moved.")
        if now >= session.starts_at:
            return gettext("The session has begun.")
        if reminder.kind == ReminderKind.FIRST_REMINDER:
            leads = _lead_times(reminder.practice.settings)
            first = leads.get(ReminderKind.FIRST_REMINDER)
            second = leads.get(ReminderKind.SECOND_REMINDER)
            if second and first and second < first and now >= session.starts_at - second:
                return gettext("Too late: the second reminder is due.")
    elif reminder.kind == ReminderKind.BOOKING_CONFIRMATION:
        if reminder.course is None or reminder.course.status == CourseStatus.CANCELLED:
            return gettext("The course was cancelled.")
        if _course_upcoming(reminder.course, now).first() is None:
            return gettext("The course has no session ahead.")
    if reminder.kind == ReminderKind.COURSE_NEXT_DUE:
        if not patient.chronic_plan:
            return gettext("The patient is no longer in a chronic/prevention plan.")
        # The row's course is the one the next follows (none before the first course).
        if course_booked_since(patient=patient, course=reminder.course):
            return gettext("The next course is booked.")
    if reminder.kind == ReminderKind.SCREENING_EXPIRING and session is not None:
        day = session.starts_at.astimezone(reminder.practice.zone).date()
        if patient_screening_status(patient=patient, on=day).valid:
            return gettext("The screening was renewed.")
    return None


def _course_upcoming(course: Course, now: datetime) -> QuerySet[Session]:
    return (
        course.sessions.filter(status=SessionStatus.BOOKED, starts_at__gt=now)
        .select_related("therapist", "massage_type")
        .order_by("starts_at", "id")
    )


def _calendar_event(session: Session, summary: str, location: str) -> CalendarEvent:
    return CalendarEvent(
        uid=session_uid(session.pk),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=summary,
        location=location,
        sequence=session.schedule_version - 1,
    )


def reminder_address(reminder: Reminder) -> str:
    patient = reminder.patient
    return patient.email if reminder.channel == ChannelName.EMAIL else patient.phone


def idempotency_key(reminder: Reminder, address: str) -> str:
    """The same on every resend of this message to this address (R22). The address is part
    of it so that a reminder retried after the number was corrected is a new message to a
    provider that remembers the failed one."""
    digest = hashlib.sha256(address.encode()).hexdigest()[:10]
    return f"p{reminder.practice_id}:{reminder.dedupe_key}:{digest}"


def reminder_message(reminder: Reminder, *, now: datetime) -> OutgoingMessage:
    """The message in the practice's language and time zone, from its sender (R21, R24)."""
    practice = reminder.practice
    practice_settings = practice.settings
    context: dict[str, object] = {
        "patient_name": reminder.patient.full_name,
        "practice_name": practice.name,
    }
    session = reminder.session
    calendar: list[Session] = []
    if reminder.kind == ReminderKind.BOOKING_CONFIRMATION:
        # A course's confirmation lists the sessions it has ahead; a session's, the session.
        if session is None:
            calendar = list(_course_upcoming(_course_of(reminder), now))
            session = calendar[0]
        else:
            calendar = [session]
    if session is not None:
        context.update(
            starts_at=session.starts_at,
            therapist_name=session.therapist.name,
            massage_type_name=translated_lazy(session.massage_type.name),
        )
    if reminder.kind == ReminderKind.COURSE_NEXT_SESSION:
        context.update(
            session_number=_session_of(reminder).sequence,
            sessions_total=_course_of(reminder).sessions_count,
        )
    details = reminder.details or {}
    if "due_on" in details:
        context["due_on"] = date.fromisoformat(details["due_on"])
        context["massage_type_name"] = translated_lazy(details.get("massage_type_name", ""))
    if "expires_on" in details:
        context["expires_on"] = date.fromisoformat(details["expires_on"])
    rendered = render_reminder(
        reminder.kind,
        context,
        language=practice_settings.language,
        time_zone=practice_settings.time_zone,
    )
    attachments: tuple[Attachment, ...] = ()
    if calendar and reminder.channel == ChannelName.EMAIL:
        with translation.override(practice_settings.language):
            events = [
                _calendar_event(
                    row,
                    str(
                        _("%(type)s massage, %(practice)s")
                        % {"type": row.massage_type.display_name, "practice": practice.name}
                    ),
                    practice.name,
                )
                for row in calendar
            ]
        attachments = (Attachment(ICS_FILENAME, build_calendar(events, now=now), ICS_MIMETYPE),)
    return OutgoingMessage(
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        sms_text=rendered.sms_text,
        attachments=attachments,
        sender_name=practice_settings.sender_name or practice.name,
        sender_email=practice_settings.sender_email,
        idempotency_key=idempotency_key(reminder, reminder_address(reminder)),
    )


# The dispatcher ------------------------------------------------------------------------------


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    # Reminders handled (whatever the outcome) per practice id, in this sweep.
    by_practice: dict[int, int] = field(default_factory=dict)
    out_of_time: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled

    def count(self, practice_id: int, outcome: Outcome) -> None:
        attribute = {Outcome.RETRY: "retrying"}.get(outcome, str(outcome))
        setattr(self, attribute, getattr(self, attribute) + 1)
        self.by_practice[practice_id] = self.by_practice.get(practice_id, 0) + 1


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential: base, 2 x base, 4 x base ... capped at an hour, or what the provider asked
    if that is longer."""
    base = settings.REMINDER_RETRY_BASE_SECONDS
    delay = float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))
    return max(delay, retry_after or 0.0, 1.0)


def _retry_or_fail(
    reminder: Reminder, error: str, *, now: datetime, retry_after: float | None = None
) -> Outcome:
    reminder.last_error = error[:2000]
    if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        reminder.status = ReminderStatus.FAILED
        return Outcome.FAILED
    reminder.send_after = now + timedelta(seconds=backoff_seconds(reminder.attempts, retry_after))
    return Outcome.RETRY


@dataclass
class Sweep:
    """What one dispatcher sweep reuses from one reminder to the next: the channels, and each
    practice with its settings, therapists and massage types. Those are few and change rarely;
    joining them to every claimed row cost more than the rest of the sending (planning a
    nine-table join each time). A sweep lasts under a minute, so a change shows in the next."""

    channels: dict[str, Channel] = field(default_factory=dict)
    practices: dict[int, Practice] = field(default_factory=dict)
    therapists: dict[int, Therapist] = field(default_factory=dict)
    massage_types: dict[int, MassageType] = field(default_factory=dict)

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = channel_for(name)
        return self.channels[name]

    def practice(self, practice_id: int) -> Practice:
        if practice_id not in self.practices:
            self.practices[practice_id] = Practice.objects.select_related("settings").get(
                pk=practice_id
            )
            self.therapists.update((t.pk, t) for t in Therapist.objects.for_practice(practice_id))
            self.massage_types.update(
                (t.pk, t) for t in MassageType.objects.for_practice(practice_id)
            )
        return self.practices[practice_id]

    def attach(self, reminder: Reminder) -> Reminder:
        """Give the reminder (and its session) their practice's cached rows."""
        practice = self.practice(reminder.practice_id)
        reminder.practice = practice
        session = reminder.session
        if session is not None:
            session.practice = practice
            session.therapist = self.therapists.get(session.therapist_id) or session.therapist
            session.massage_type = (
                self.massage_types.get(session.massage_type_id) or session.massage_type
            )
        return reminder


def _deliver(reminder: Reminder, *, now: datetime, sweep: Sweep) -> Outcome:
    """Check, send and record one locked reminder (the caller saves and commits)."""
    stale = reminder_stale_reason(reminder, now=now)
    if stale is not None:
        reminder.status = ReminderStatus.CANCELLED
        reminder.last_error = stale
        return Outcome.CANCELLED
    reminder.attempts += 1
    try:
        message = reminder_message(reminder, now=now)
        provider_id = sweep.channel(reminder.channel).send(
            to=reminder_address(reminder), message=message
        )
    except PermanentDeliveryError as exc:
        reminder.status = ReminderStatus.FAILED
        reminder.last_error = str(exc)[:2000]
        return Outcome.FAILED
    except TransientDeliveryError as exc:
        return _retry_or_fail(reminder, str(exc), now=now, retry_after=exc.retry_after)
    except DatabaseError:
        # The transaction is broken: let it roll back; the row stays pending for the next sweep.
        raise
    except Exception as exc:
        # A bug (a template, a missing value) must not stop the sweep for every practice, nor
        # be retried forever: it takes the backoff path and ends failed, visible in the admin.
        logger.exception("reminder %s could not be prepared or sent", reminder.pk)
        return _retry_or_fail(reminder, f"{type(exc).__name__}: {exc}", now=now)
    reminder.status = ReminderStatus.SENT
    reminder.sent_at = timezone.now()
    reminder.provider_message_id = (provider_id or "")[:200]
    reminder.last_error = ""
    return Outcome.SENT


# The practice, its settings, therapists and massage types come from the Sweep's cache.
CLAIM_RELATIONS = ("patient", "session", "course")
SAVED_FIELDS = [
    "status",
    "attempts",
    "last_error",
    "send_after",
    "sent_at",
    "provider_message_id",
    "updated_at",
]


def reminder_dispatch_next(
    *, practice_id: int, now: datetime, sweep: Sweep | None = None
) -> tuple[Reminder, Outcome] | None:
    """Claim, check, send and record the practice's next due reminder, in one transaction
    (see the module docstring for why that is exactly once). None when no due row is free."""
    sweep = sweep or Sweep()
    with transaction.atomic():
        # Lock first, on the bare row, in the claim index's order (reminder_claim_idx): a
        # join here would make PostgreSQL join and sort every pending row for each claim.
        claimed = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(practice_id=practice_id, status=ReminderStatus.PENDING, send_after__lte=now)
            .order_by("send_after", "id")
            .values_list("pk", flat=True)[:1]
        )
        if not claimed:
            return None
        # Ours until COMMIT; what the message needs comes with it in one query.
        reminder = sweep.attach(
            Reminder.objects.select_related(*CLAIM_RELATIONS).get(pk=claimed[0])
        )
        outcome = _deliver(reminder, now=now, sweep=sweep)
        reminder.save(update_fields=SAVED_FIELDS)
    if outcome is not Outcome.SENT:
        logger.info("reminder %s: %s (%s)", reminder.pk, outcome, reminder.last_error)
    return reminder, outcome


def practices_with_due_reminders(now: datetime) -> list[int]:
    """Practice ids with due reminders, the one waiting longest first."""
    return list(
        Reminder.objects.filter(status=ReminderStatus.PENDING, send_after__lte=now)
        .values("practice_id")
        .annotate(oldest=Min("send_after"))
        .order_by("oldest", "practice_id")
        .values_list("practice_id", flat=True)
    )


def reminders_dispatch(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
) -> DispatchReport:
    """Send every due reminder, fairly across practices (R21, R22).

    Rounds: each round takes up to `batch_size` reminders from every practice with due ones,
    so a practice with 10,000 due reminders does not hold up another's first one. Stops when
    nothing due is left or free (another worker may hold the rest), or after `time_budget`
    seconds, leaving the rest to the next sweep. Safe to run in any number of workers at once.
    `now` fixes the clock (tests); by default each round reads it afresh.
    """
    batch_size = batch_size or settings.REMINDER_DISPATCH_BATCH
    time_budget = time_budget if time_budget is not None else settings.REMINDER_DISPATCH_TIME_BUDGET
    sweep = Sweep()
    deadline = monotonic() + time_budget
    report = DispatchReport()
    while True:
        cutoff = now or timezone.now()
        progressed = False
        for practice_id in practices_with_due_reminders(cutoff):
            for _taken in range(batch_size):
                if monotonic() >= deadline:
                    report.out_of_time = True
                    return report
                claimed = reminder_dispatch_next(practice_id=practice_id, now=cutoff, sweep=sweep)
                if claimed is None:
                    break
                progressed = True
                report.count(practice_id, claimed[1])
        if not progressed:
            return report
