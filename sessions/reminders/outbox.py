"""The reminder outbox (R21, R22): which reminders a session or course gets.

Writing the outbox. Booking, moving and cancelling call `reminders_after_*` inside their own
transaction, so the outbox always matches the calendar: a booking commits with its reminders or
not at all. Rows are inserted with ON CONFLICT DO NOTHING on (practice, dedupe_key) (R22), so
repeating a call, or a task running twice, queues nothing twice. Only channels the patient
consented to and has an address for get rows (R21).

The dispatcher that sends the due rows is `sessions.reminders.dispatch`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from courses.models import Course, CourseStatus
from courses.rules import r11_next_course_due_on
from courses.selectors import course_has_later_course, course_starts_of_patient, r12_proposed_type
from patients.models import Patient
from patients.selectors import patient_screening_status
from practice.models import PracticeSettings
from sessions.models import Channel as ChannelName
from sessions.models import Reminder, ReminderStatus, Session, SessionStatus
from sessions.reminders.messages import ReminderKind

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
    channels: list[str] = []
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
    # A conditional update: one sent meanwhile stays sent, and one being sent is cancelled at
    # once (no lock is held during a send): the dispatcher then cannot record it as sent (R22).
    return rows.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING]).update(
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


def reminders_after_course_cancelled(course: Course) -> int:
    """R22: a cancelled course gets no reminder, for itself or any of its sessions. Call from
    `course_cancel`, inside its transaction. Returns how many were cancelled."""
    rows = Reminder.objects.filter(practice_id=course.practice_id).filter(
        Q(course=course) | Q(session__course=course)
    )
    return _cancel_pending(rows, gettext("The course was cancelled."))


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
        status=ReminderStatus.PENDING,
        attempts=0,
        unknown_outcomes=0,
        send_after=now,
        updated_at=now,
    )
