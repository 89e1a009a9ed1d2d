"""Builders for the reminder tests: consenting patients, booked sessions, outbox rows."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from patients.models import Patient
from practice.models import Practice, Therapist
from sessions.booking.sessions import session_book
from sessions.models import Channel, Reminder, ReminderStatus, Session
from sessions.reminders.messages import ReminderKind
from tests.factories import PatientFactory, massage_type
from tests.sessions.factories import therapist_with_week

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)
TUESDAY = MONDAY + timedelta(days=1)
# Monday 06:00 in Berlin: well before Tuesday's sessions and their 24 h reminders.
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def local(day: date, hour: int, minute: int = 0, zone: zoneinfo.ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def consenting_patient(
    practice: Practice, *, email: bool = True, sms: bool = True, **fields: object
) -> Patient:
    return PatientFactory(
        practice=practice,
        consent_email=email,
        consent_sms=sms,
        consent_given_on=MONDAY if (email or sms) else None,
        **fields,
    )


def book(
    practice: Practice,
    starts_at: datetime,
    *,
    patient: Patient | None = None,
    therapist: Therapist | None = None,
    now: datetime = NOW,
) -> Session:
    return session_book(
        practice=practice,
        patient=patient or consenting_patient(practice),
        therapist=therapist or therapist_with_week(practice),
        massage_type=massage_type(practice, "classical"),
        starts_at=starts_at,
        now=now,
    )


def rows(session: Session, **filters: object) -> list[Reminder]:
    return list(Reminder.objects.filter(session=session, **filters).order_by("due_at", "id"))


def kinds(reminders: list[Reminder]) -> set[tuple[str, str]]:
    return {(r.kind, r.channel) for r in reminders}


def due_sms_rows(
    session: Session, count: int, *, due_at: datetime, prefix: str = "bulk"
) -> list[Reminder]:
    """`count` due SMS reminders for one session, each a different message (dedupe key)."""
    return Reminder.objects.bulk_create(
        Reminder(
            practice_id=session.practice_id,
            patient_id=session.patient_id,
            session=session,
            kind=ReminderKind.FIRST_REMINDER,
            channel=Channel.SMS,
            due_at=due_at,
            send_after=due_at,
            session_version=session.schedule_version,
            dedupe_key=f"{prefix}:{session.pk}:{index}",
            status=ReminderStatus.PENDING,
        )
        for index in range(count)
    )
