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
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time, timedelta, tzinfo
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from courses.models import Course
from courses.selectors import patients_due_for_course
from patients.models import Patient
from patients.selectors import patient_screening_status
from practice.errors import Conflict
from practice.models import Practice, PracticeSettings
from sessions.models import Channel as ChannelName
from sessions.models import Reminder, ReminderStatus, Session, SessionStatus, WaitlistOffer
from sessions.reminders.messages import ReminderKind

logger = logging.getLogger(__name__)

BEFORE_SESSION = (ReminderKind.FIRST_REMINDER, ReminderKind.SECOND_REMINDER)
SESSION_KINDS = (ReminderKind.BOOKING_CONFIRMATION, *BEFORE_SESSION)
# R11: the "next course due" nudge goes out at this local hour.
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


def _channel_key(prefix: str, channel: str) -> str:
    return f"{prefix}:{channel}"


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


def _to_each_channel(
    patient: Patient, dedupe_key: Callable[[str], str], **fields: Any
) -> list[Reminder]:
    """One row of the message for each channel the patient consented to (R21), each with its
    own dedupe key (R22)."""
    return [
        _row(patient=patient, channel=channel, dedupe_key=dedupe_key(channel), **fields)
        for channel in consented_channels(patient)
    ]


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
    kind = ReminderKind.BOOKING_CONFIRMATION
    rows = _to_each_channel(
        course.patient,
        partial(_channel_key, f"course:{course.pk}:{kind}"),
        course=course,
        kind=kind,
        due_at=now,
    )
    for session in sessions:
        rows += _session_rows(session, kinds=BEFORE_SESSION, now=now)
    return _queue(rows)


def _cancel_pending(rows: QuerySet[Reminder], reason: str) -> int:
    # A conditional update: one sent meanwhile stays sent, and one being sent is cancelled at
    # once (no lock is held during a send): the dispatcher then cannot record it as sent (R22).
    return rows.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING]).update(
        status=ReminderStatus.CANCELLED, last_error=reason, updated_at=timezone.now()
    )


def _change_notices(
    session: Session, kind: str, *, now: datetime, details: dict | None = None
) -> list[Reminder]:
    """R21: the patient is told at once that the practice moved or cancelled the session. The
    key names the schedule version the notice is about, so each move is told once and a cancel
    once, however often the call is repeated."""
    return _to_each_channel(
        session.patient,
        partial(session_dedupe_key, session, kind),
        session=session,
        kind=kind,
        due_at=now,
        details=details,
    )


def reminders_after_reschedule(
    session: Session,
    *,
    now: datetime | None = None,
    moved_from: datetime | None = None,
) -> list[Reminder]:
    """R21, R22: the pending reminders of the session's earlier times are cancelled and the
    new time gets its own confirmation and reminders. A reminder already sent stays sent.
    `moved_from`: the practice moved it from that time, and the patient gets a notice saying
    so instead of a booking confirmation (a patient who moved it knows). Call inside the move's
    transaction, after `schedule_version` was bumped."""
    now = now or timezone.now()
    stale = Reminder.objects.filter(practice_id=session.practice_id, session=session).exclude(
        session_version=session.schedule_version
    )
    _cancel_pending(stale, gettext("The session was moved."))
    if moved_from is None:
        return _queue(_session_rows(session, kinds=SESSION_KINDS, now=now))
    notices = _change_notices(
        session,
        ReminderKind.SESSION_MOVED,
        now=now,
        details={"previous_starts_at": moved_from.isoformat()},
    )
    return _queue(notices + _session_rows(session, kinds=BEFORE_SESSION, now=now))


def reminders_after_cancel(
    session: Session, *, notify: bool = False, now: datetime | None = None
) -> list[Reminder]:
    """R22: a cancelled session's pending reminders are cancelled. `notify`: the practice
    cancelled it, and the patient is told (R21); a patient who cancelled it knows. Call inside
    the cancel's transaction. Returns the notices queued."""
    now = now or timezone.now()
    rows = Reminder.objects.filter(practice_id=session.practice_id, session=session)
    _cancel_pending(rows, gettext("The session was cancelled."))
    if not notify or session.starts_at <= now:
        return []
    return _queue(_change_notices(session, ReminderKind.SESSION_CANCELLED, now=now))


def reminders_after_course_cancelled(
    course: Course, *, sessions_cancelled: int, now: datetime | None = None
) -> list[Reminder]:
    """R22: a cancelled course gets no reminder, for itself or any of its sessions. R21: the
    practice called it off, so the patient is told once, in one notice for the course (not
    one per session), when it had sessions still to come. Call from `course_cancel`, inside
    its transaction. Returns the notices queued."""
    now = now or timezone.now()
    rows = Reminder.objects.filter(practice_id=course.practice_id).filter(
        Q(course=course) | Q(session__course=course)
    )
    _cancel_pending(rows, gettext("The course was cancelled."))
    if not sessions_cancelled:
        return []
    kind = ReminderKind.COURSE_CANCELLED
    return _queue(
        _to_each_channel(
            course.patient,
            partial(_channel_key, f"course:{course.pk}:{kind}"),
            course=course,
            kind=kind,
            due_at=now,
            details={"sessions_cancelled": sessions_cancelled},
        )
    )


def reminders_after_session_completed(
    session: Session, *, now: datetime | None = None
) -> list[Reminder]:
    """R21: after a course session is completed, the patient is reminded of the course's next
    session at once. (The next course is nudged by `next_course_due_remind` when it is near.)
    Call from `session_complete`, inside its transaction; safe to call twice."""
    now = now or timezone.now()
    if session.course_id is None:
        return []
    following = (
        Session.objects.for_practice(session.practice_id)
        .filter(
            course_id=session.course_id,
            status=SessionStatus.BOOKED,
            starts_at__gt=session.starts_at,
        )
        .select_related("patient", "practice__settings")
        .order_by("starts_at", "id")
        .first()
    )
    if following is None:
        return []
    kind = ReminderKind.COURSE_NEXT_SESSION
    return _queue(
        _to_each_channel(
            following.patient,
            partial(session_dedupe_key, following, kind),
            session=following,
            kind=kind,
            due_at=now,
        )
    )


def reminders_for_waitlist_offer(offer: WaitlistOffer, *, now: datetime) -> list[Reminder]:
    """R21: a freed time offered from the waitlist, sent at once to each channel the patient
    consented to. The message's facts are fixed in `details` (the offer is the slot, not a
    session); the claim link is signed when it is sent. A course's offer names the course:
    its first session is the freed time. Call inside the offer's transaction; an offer is
    told once (R22)."""
    kind = ReminderKind.WAITLIST_OFFER
    entry = offer.entry
    details: dict[str, Any] = {
        "offer_id": offer.pk,
        "starts_at": offer.starts_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
        "therapist_name": offer.therapist.name,
        "massage_type_name": offer.massage_type.name,
    }
    if entry.for_course:
        details.update(course_sessions=entry.sessions_count, course_cadence=entry.cadence)
    return _queue(
        _to_each_channel(
            entry.patient,
            partial(_channel_key, f"waitlist-offer:{offer.pk}:{kind}"),
            kind=kind,
            due_at=now,
            details=details,
        )
    )


def reminders_after_waitlist_offer_closed(offer: WaitlistOffer) -> int:
    """R22: an offer claimed, withdrawn or expired is no longer sent. Returns the rows
    cancelled."""
    rows = Reminder.objects.filter(
        practice_id=offer.practice_id,
        patient_id=offer.entry.patient_id,
        kind=ReminderKind.WAITLIST_OFFER,
        details__offer_id=offer.pk,
    )
    return _cancel_pending(rows, gettext("The waitlist offer is closed."))


def next_course_nudge_at(zone: tzinfo, *, now: datetime) -> datetime:
    """R11: when a "next course due" nudge written now goes out: at the nudge hour in the
    practice's zone (R24), today or, once that has passed, tomorrow; never in the night."""
    day = now.astimezone(zone).date()
    at = datetime.combine(day, time(NUDGE_HOUR), tzinfo=zone)
    if at < now:
        # The next day's wall-clock hour, not 24 hours on: a DST change may lie between.
        at = datetime.combine(day + timedelta(days=1), time(NUDGE_HOUR), tzinfo=zone)
    return at


def next_course_due_remind(*, practice: Practice, now: datetime | None = None) -> int:
    """R11, R12, R21: every patient of the practice in a chronic/prevention plan whose next
    course is due within the notice, and not booked, is nudged with the type the rotation
    proposes. One row per patient, channel and due period (the course the next one follows),
    so a second run the same day or a redelivered task queues nothing twice (R22). Call inside
    a transaction. Returns the rows offered."""
    now = now or timezone.now()
    zone = practice.zone
    kind = ReminderKind.COURSE_NEXT_DUE
    at = next_course_nudge_at(zone, now=now)
    rows: list[Reminder] = []
    for due in patients_due_for_course(practice=practice, today=now.astimezone(zone).date()):
        # A course overdue (or a first one, due at once) is "due around" the day it is told.
        details = {"due_on": max(due.due_on, at.astimezone(zone).date()).isoformat()}
        if due.proposed_type is not None:
            details["massage_type_name"] = due.proposed_type.name
        # The due period is the course the next one follows. After a course the key is the
        # one the nudge written when a course ended used to have: a patient nudged that way
        # before this sweep existed is not nudged again.
        if due.last_course is not None:
            key = f"course:{due.last_course.pk}:{kind}"
        else:
            key = f"patient:{due.patient.pk}:{kind}:first"
        rows += _to_each_channel(
            due.patient,
            partial(_channel_key, key),
            course=due.last_course,
            kind=kind,
            due_at=at,
            details=details,
        )
    _queue(rows)
    return len(rows)


def document_issued_remind(
    *,
    patient: Patient,
    key: str,
    title: str,
    amount: str,
    url: str,
    attachment: str = "",
    now: datetime | None = None,
) -> int:
    """R21: tell the patient, on each channel they consented to, that a document (an invoice,
    say, from an app above sessions) is ready at `url`. `key` names the document: one message
    per document and channel, however often this is called (R22). `attachment` names the
    file the email carries (`sessions.reminders.attachments`). Call inside the transaction
    that issues the document. Returns the rows offered."""
    details = {"document_title": title, "document_amount": amount, "document_url": url}
    if attachment:
        details["attachment"] = attachment
    rows = _to_each_channel(
        patient,
        partial(_channel_key, f"document:{key}"),
        kind=ReminderKind.DOCUMENT_ISSUED,
        due_at=now or timezone.now(),
        details=details,
    )
    _queue(rows)
    return len(rows)


def courses_due_remind(*, now: datetime | None = None) -> int:
    """R11: `next_course_due_remind` for every practice, each in its own transaction. Returns
    the rows offered."""
    now = now or timezone.now()
    offered = 0
    for practice in Practice.objects.select_related("settings").order_by("pk"):
        with transaction.atomic():
            offered += next_course_due_remind(practice=practice, now=now)
    return offered


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
    kind = ReminderKind.SCREENING_EXPIRING
    rows: list[Reminder] = []
    for session in sessions:
        zone = session.practice.zone
        today = now.astimezone(zone).date()
        day = session.starts_at.astimezone(zone).date()
        status = patient_screening_status(patient=session.patient, on=today)
        if status.screening is None or status.screening.valid_until >= day:
            continue
        suffix = f"screening-{status.screening.pk}"
        rows += _to_each_channel(
            session.patient,
            partial(session_dedupe_key, session, kind, suffix=suffix),
            session=session,
            kind=kind,
            due_at=now,
            details={"expires_on": status.screening.valid_until.isoformat()},
        )
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


def reminder_send_again(*, reminder: Reminder, now: datetime | None = None) -> None:
    """The desk's "send again" of one failed reminder: `reminders_retry`, same row and key
    (a provider that got it before sees the same idempotency key). Conflict when it is not
    failed (sent again already, or cancelled since)."""
    rows = Reminder.objects.filter(practice_id=reminder.practice_id, pk=reminder.pk)
    if not reminders_retry(rows, now=now):
        raise Conflict({"detail": gettext("Only a failed reminder can be sent again.")})
