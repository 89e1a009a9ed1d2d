"""The reminder outbox (R21, R22): which reminders a session or course gets, and the dispatcher
that sends the due ones.

Writing the outbox. Booking, moving and cancelling call `reminders_after_*` inside their own
transaction, so the outbox always matches the calendar: a booking commits with its reminders or
not at all. Rows are inserted with ON CONFLICT DO NOTHING on (practice, dedupe_key) (R22), so
repeating a call, or a task running twice, queues nothing twice. Only channels the patient
consented to and has an address for get rows (R21).

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from time import monotonic

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.lifecycle import (
    course_has_later_course,
    course_starts_of_patient,
    r11_next_course_due_on,
    r12_proposed_type,
)
from courses.models import Course, CourseStatus
from patients.models import Patient
from patients.selectors import patient_screening_status
from practice.models import MassageType, Practice, PracticeSettings, Therapist
from sessions.channels import (
    Attachment,
    Channel,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    channel_for,
)
from sessions.ics import ICS_FILENAME, ICS_MIMETYPE, CalendarEvent, build_calendar, session_uid
from sessions.messages import ReminderKind, render_reminder
from sessions.models import Channel as ChannelName
from sessions.models import Reminder, ReminderStatus, Session, SessionStatus

logger = logging.getLogger(__name__)

BEFORE_SESSION = (ReminderKind.FIRST_REMINDER, ReminderKind.SECOND_REMINDER)
SESSION_KINDS = (ReminderKind.BOOKING_CONFIRMATION, *BEFORE_SESSION)
# R11: the "next course due" nudge goes out this long before the due day, at this local hour.
NEXT_DUE_NOTICE = timedelta(days=14)
NUDGE_HOUR = 10
# Screenings expiring before a session are reminded about this long before the session (R1).
SCREENING_NOTICE = timedelta(days=7)
# Backoff never waits longer than this between two attempts, unless the provider asks.
MAX_BACKOFF_SECONDS = 3600


# Writing the outbox --------------------------------------------------------------------------


def consented_channels(patient: Patient) -> list[str]:
    """R21: the channels the patient agreed to and has an address for."""
    channels = []
    if patient.consent_email and patient.email:
        channels.append(ChannelName.EMAIL)
    if patient.consent_sms and patient.phone:
        channels.append(ChannelName.SMS)
    return channels


def session_dedupe_key(session: Session, kind: str, channel: str, suffix: str = "") -> str:
    # The schedule version is part of the key: a moved session's reminders are new messages.
    key = f"session:{session.pk}:v{session.schedule_version}:{kind}:{channel}"
    return f"{key}:{suffix}" if suffix else key


def _queue(rows: Sequence[Reminder]) -> list[Reminder]:
    """Insert rows, skipping any whose message is already queued (R22). The returned rows
    carry no primary keys (PostgreSQL does not return skipped rows)."""
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return list(rows)


def _row(
    *,
    patient: Patient,
    kind: str,
    channel: str,
    due_at: datetime,
    dedupe_key: str,
    session: Session | None = None,
    course: Course | None = None,
    details: dict | None = None,
) -> Reminder:
    if timezone.is_naive(due_at):
        raise ValueError("due_at must be an aware datetime (R24).")
    return Reminder(
        practice_id=patient.practice_id,
        patient=patient,
        session=session,
        course_id=course.pk if course else (session.course_id if session else None),
        kind=kind,
        channel=channel,
        due_at=due_at,
        send_after=due_at,
        session_version=session.schedule_version if session else None,
        dedupe_key=dedupe_key,
        details=details or {},
    )


def _lead_times(practice_settings: PracticeSettings) -> dict[str, timedelta]:
    """The practice's reminder lead times; 0 hours switches a reminder off."""
    leads = {
        ReminderKind.FIRST_REMINDER: practice_settings.first_reminder_hours,
        ReminderKind.SECOND_REMINDER: practice_settings.second_reminder_hours,
    }
    return {kind: timedelta(hours=hours) for kind, hours in leads.items() if hours}


def _session_rows(session: Session, *, kinds: Iterable[str], now: datetime) -> list[Reminder]:
    leads = _lead_times(session.practice.settings)
    rows = []
    for channel in consented_channels(session.patient):
        for kind in kinds:
            if kind == ReminderKind.BOOKING_CONFIRMATION:
                due_at = now
            elif kind in leads:
                due_at = session.starts_at - leads[kind]
                # Booked inside the lead time: a reminder due in the past would arrive late
                # and say nothing the confirmation, sent at once, has not said. Skip it.
                if due_at <= now:
                    continue
            else:
                continue
            rows.append(
                _row(
                    patient=session.patient,
                    session=session,
                    kind=kind,
                    channel=channel,
                    due_at=due_at,
                    dedupe_key=session_dedupe_key(session, kind, channel),
                )
            )
    return rows


def reminders_after_booking(session: Session, *, now: datetime | None = None) -> list[Reminder]:
    """R21: a booked session's confirmation (now) and its reminders before the session.
    Call inside the booking's transaction."""
    now = now or timezone.now()
    return _queue(_session_rows(session, kinds=SESSION_KINDS, now=now))


def reminders_after_course_booked(
    course: Course, sessions: Sequence[Session], *, now: datetime | None = None
) -> list[Reminder]:
    """R21: one confirmation for the whole course (with every session in its calendar file)
    rather than ten, and the reminders before each session. Call inside the booking's
    transaction."""
    now = now or timezone.now()
    rows = [
        _row(
            patient=course.patient,
            course=course,
            kind=ReminderKind.BOOKING_CONFIRMATION,
            channel=channel,
            due_at=now,
            dedupe_key=f"course:{course.pk}:{ReminderKind.BOOKING_CONFIRMATION}:{channel}",
        )
        for channel in consented_channels(course.patient)
    ]
    for session in sessions:
        rows += _session_rows(session, kinds=BEFORE_SESSION, now=now)
    return _queue(rows)


def _cancel_pending(rows: QuerySet[Reminder], reason: str) -> int:
    # A conditional update: a row a dispatcher holds is waited for, and one sent meanwhile
    # stays sent (R22).
    return rows.filter(status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED, last_error=reason, updated_at=timezone.now()
    )


def reminders_after_reschedule(session: Session, *, now: datetime | None = None) -> list[Reminder]:
    """R21, R22: the pending reminders of the session's earlier times are cancelled and the
    new time gets its own confirmation and reminders. A reminder already sent stays sent.
    Call inside the move's transaction, after `schedule_version` was bumped."""
    now = now or timezone.now()
    stale = Reminder.objects.filter(practice_id=session.practice_id, session=session).exclude(
        session_version=session.schedule_version
    )
    _cancel_pending(stale, gettext("The session was moved."))
    return _queue(_session_rows(session, kinds=SESSION_KINDS, now=now))


def reminders_after_cancel(session: Session) -> int:
    """R22: a cancelled session's pending reminders are cancelled. Call inside the cancel's
    transaction. Returns how many were cancelled."""
    rows = Reminder.objects.filter(practice_id=session.practice_id, session=session)
    return _cancel_pending(rows, gettext("The session was cancelled."))


def course_finished(course: Course) -> bool:
    """Completed, or every position of it completed (whichever the session day sets first)."""
    if course.status == CourseStatus.COMPLETED:
        return True
    done = (
        course.sessions.filter(status=SessionStatus.COMPLETED).values("sequence").distinct().count()
    )
    return done >= course.sessions_count


def reminders_after_session_completed(
    session: Session, *, now: datetime | None = None
) -> list[Reminder]:
    """R21: after a course session is completed, the patient is reminded of the course's next
    session at once; after the course's last one, the next course is scheduled (R11).
    Call from `session_complete`, inside its transaction; safe to call twice."""
    now = now or timezone.now()
    if session.course_id is None:
        return []
    course = Course.objects.select_related("patient", "practice__settings").get(
        pk=session.course_id
    )
    following = (
        course.sessions.filter(status=SessionStatus.BOOKED, starts_at__gt=session.starts_at)
        .select_related("patient", "practice__settings")
        .order_by("starts_at", "id")
        .first()
    )
    if following is not None:
        kind = ReminderKind.COURSE_NEXT_SESSION
        return _queue(
            [
                _row(
                    patient=following.patient,
                    session=following,
                    kind=kind,
                    channel=channel,
                    due_at=now,
                    dedupe_key=session_dedupe_key(following, kind, channel),
                )
                for channel in consented_channels(following.patient)
            ]
        )
    if course_finished(course):
        return course_next_due_remind(course, now=now)
    return []


def course_next_due_remind(course: Course, *, now: datetime | None = None) -> list[Reminder]:
    """R11, R12: after a finished course, a patient in a chronic/prevention plan is nudged
    toward the next one: due a quarter after this one started (later if the yearly limit of 4
    says so), with the type the rotation proposes. Nothing when a later course is booked
    already. Safe to call twice (one row per course and channel)."""
    now = now or timezone.now()
    patient = course.patient
    if not patient.chronic_plan or patient.archived or course_has_later_course(course):
        return []
    due_on = r11_next_course_due_on(course_starts_of_patient(course), course.start_date)
    proposed = r12_proposed_type(course)
    zone = course.practice.zone
    send_on = due_on - NEXT_DUE_NOTICE
    due_at = max(now, datetime.combine(send_on, time(NUDGE_HOUR), tzinfo=zone))
    details = {"due_on": due_on.isoformat()}
    if proposed is not None:
        details["massage_type_name"] = proposed.name
    kind = ReminderKind.COURSE_NEXT_DUE
    return _queue(
        [
            _row(
                patient=patient,
                course=course,
                kind=kind,
                channel=channel,
                due_at=due_at,
                dedupe_key=f"course:{course.pk}:{kind}:{channel}",
                details=details,
            )
            for channel in consented_channels(patient)
        ]
    )


def courses_next_due_remind(*, now: datetime | None = None) -> int:
    """The sweep behind `reminders_after_session_completed`: every course finished in the last
    year without its "next course due" row gets one (R11). Returns how many courses got rows."""
    now = now or timezone.now()
    year_ago = (now - timedelta(days=365)).date()
    courses = (
        Course.objects.filter(
            status=CourseStatus.COMPLETED,
            start_date__gt=year_ago,
            patient__chronic_plan=True,
            patient__archived=False,
        )
        .exclude(reminders__kind=ReminderKind.COURSE_NEXT_DUE)
        .select_related("patient", "practice__settings")
    )
    count = 0
    for course in courses:
        with transaction.atomic():
            if course_next_due_remind(course, now=now):
                count += 1
    return count


def screenings_expiring_remind(*, now: datetime | None = None) -> int:
    """R21 (R1): a patient whose screening expires before a session booked within the next
    week is reminded to come early and renew it. Course sessions are left out: the screening
    that opened a course stays valid for the whole course (R1). Returns the rows offered."""
    now = now or timezone.now()
    sessions = (
        Session.objects.filter(
            status=SessionStatus.BOOKED,
            course__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + SCREENING_NOTICE,
            patient__archived=False,
        )
        .filter(Q(patient__consent_email=True) | Q(patient__consent_sms=True))
        .select_related("patient", "practice__settings")
    )
    rows: list[Reminder] = []
    for session in sessions:
        zone = session.practice.zone
        today = now.astimezone(zone).date()
        day = session.starts_at.astimezone(zone).date()
        status = patient_screening_status(patient=session.patient, on=today)
        if status.screening is None or status.screening.valid_until >= day:
            continue
        kind = ReminderKind.SCREENING_EXPIRING
        suffix = f"screening-{status.screening.pk}"
        rows += [
            _row(
                patient=session.patient,
                session=session,
                kind=kind,
                channel=channel,
                due_at=now,
                dedupe_key=session_dedupe_key(session, kind, channel, suffix),
                details={"expires_on": status.screening.valid_until.isoformat()},
            )
            for channel in consented_channels(session.patient)
        ]
    _queue(rows)
    return len(rows)


def reminders_retry(rows: QuerySet[Reminder], *, now: datetime | None = None) -> int:
    """Put failed reminders back in the queue (the admin's "retry" action), attempts reset.
    The dispatcher still checks each one is current before sending it."""
    now = now or timezone.now()
    return rows.filter(status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING, attempts=0, send_after=now, updated_at=now
    )


# Before sending ------------------------------------------------------------------------------


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
    if reminder.kind == ReminderKind.COURSE_NEXT_DUE and course_has_later_course(reminder.course):
        return gettext("A later course is booked.")
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
    if session is None and reminder.kind == ReminderKind.BOOKING_CONFIRMATION:
        calendar = list(_course_upcoming(reminder.course, now))
        session = calendar[0]
    elif reminder.kind == ReminderKind.BOOKING_CONFIRMATION:
        calendar = [session]
    if session is not None:
        context.update(
            starts_at=session.starts_at,
            therapist_name=session.therapist.name,
            massage_type_name=session.massage_type.name,
        )
    if reminder.kind == ReminderKind.COURSE_NEXT_SESSION:
        context.update(
            session_number=session.sequence, sessions_total=reminder.course.sessions_count
        )
    details = reminder.details or {}
    if "due_on" in details:
        context["due_on"] = date.fromisoformat(details["due_on"])
        context["massage_type_name"] = details.get("massage_type_name", "")
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
                        % {"type": row.massage_type.name, "practice": practice.name}
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
