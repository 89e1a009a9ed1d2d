"""Before a due reminder is sent (R21, R22, R24): whether it is still current, and the message
it makes, in the practice's language, zone and name, with the idempotency key every resend of
it repeats. Used by `sessions.reminders.dispatch`."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.models import Cadence, Course, CourseStatus
from courses.selectors import course_booked_since
from patients.selectors import patient_screening_status
from practice.catalogue import translated_lazy
from sessions.models import Channel as ChannelName
from sessions.models import Reminder, Session, SessionStatus
from sessions.reminders.attachments import attachment_for
from sessions.reminders.channels import Attachment, OutgoingMessage
from sessions.reminders.ics import (
    ICS_FILENAME,
    ICS_MIMETYPE,
    CalendarEvent,
    build_calendar,
    practice_location,
    session_uid,
)
from sessions.reminders.links import session_link_urls, waitlist_offer_url
from sessions.reminders.messages import ReminderKind, render_reminder
from sessions.reminders.outbox import _lead_times, consented_channels

# The messages about a session still to come carry its links to confirm or cancel it (R21).
LINKED_KINDS = frozenset(
    {
        ReminderKind.BOOKING_CONFIRMATION,
        ReminderKind.FIRST_REMINDER,
        ReminderKind.SECOND_REMINDER,
        ReminderKind.COURSE_NEXT_SESSION,
        ReminderKind.SESSION_MOVED,
    }
)


def _course_of(reminder: Reminder) -> Course:
    """The course of a course's reminder (its confirmation, its next session, its cancel
    notice): the outbox writes every one of them with it."""
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
    if session is not None and reminder.kind == ReminderKind.SESSION_CANCELLED:
        # The one message about a session that no longer stands: stale only once it is moot.
        if now >= session.starts_at:
            return gettext("The session has begun.")
    elif session is not None:
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
    # A claimed or withdrawn offer cancels its rows; an expired one is moot here.
    if reminder.kind == ReminderKind.WAITLIST_OFFER and now >= datetime.fromisoformat(
        reminder.details["expires_at"]
    ):
        return gettext("The waitlist offer expired.")
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
        "practice_phone": practice_settings.phone,
        "practice_address": practice_settings.address,
    }
    session = reminder.session
    calendar: list[Session] = []
    if reminder.kind == ReminderKind.SESSION_MOVED:
        # The calendar file's higher sequence moves the event in the patient's calendar.
        calendar = [_session_of(reminder)]
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
    if reminder.kind == ReminderKind.COURSE_CANCELLED:
        course = _course_of(reminder)
        context.update(
            therapist_name=course.therapist.name,
            massage_type_name=translated_lazy(course.massage_type.name),
        )
    if reminder.kind == ReminderKind.COURSE_NEXT_SESSION:
        context.update(
            session_number=_session_of(reminder).sequence,
            sessions_total=_course_of(reminder).sessions_count,
        )
    # A course's confirmation names no one session: its links would cancel only the first.
    if reminder.session is not None and reminder.kind in LINKED_KINDS:
        context.update(session_link_urls(reminder.session))
    details = reminder.details or {}
    if "previous_starts_at" in details:
        context["previous_starts_at"] = datetime.fromisoformat(details["previous_starts_at"])
    if "due_on" in details:
        context["due_on"] = date.fromisoformat(details["due_on"])
        context["massage_type_name"] = translated_lazy(details.get("massage_type_name", ""))
    if "expires_on" in details:
        context["expires_on"] = date.fromisoformat(details["expires_on"])
    if "sessions_cancelled" in details:
        context["sessions_cancelled"] = details["sessions_cancelled"]
    if reminder.kind == ReminderKind.WAITLIST_OFFER:
        context.update(
            starts_at=datetime.fromisoformat(details["starts_at"]),
            expires_at=datetime.fromisoformat(details["expires_at"]),
            therapist_name=details["therapist_name"],
            massage_type_name=translated_lazy(details["massage_type_name"]),
            claim_url=waitlist_offer_url(practice.slug, details["offer_id"]),
        )
        if "course_sessions" in details:
            context.update(
                course_sessions=details["course_sessions"],
                course_cadence=Cadence(details["course_cadence"]).label,
            )
    for key in ("document_title", "document_amount", "document_url"):
        if key in details:
            context[key] = details[key]
    attachments: tuple[Attachment, ...] = ()
    if details.get("attachment") and reminder.channel == ChannelName.EMAIL:
        document = attachment_for(details["attachment"])
        attachments = (document,) if document is not None else ()
        context["document_attached"] = bool(attachments)
    rendered = render_reminder(
        reminder.kind,
        context,
        language=practice_settings.language,
        time_zone=practice_settings.time_zone,
    )
    if calendar and reminder.channel == ChannelName.EMAIL:
        with translation.override(practice_settings.language):
            events = [
                _calendar_event(
                    row,
                    str(
                        _("%(type)s massage, %(practice)s")
                        % {"type": row.massage_type.display_name, "practice": practice.name}
                    ),
                    practice_location(practice),
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
        sms_sender=practice_settings.sms_sender,
        idempotency_key=idempotency_key(reminder, reminder_address(reminder)),
    )
