"""Booking sessions and courses through the real services, as the booking and reminder tests
need it (so the reminders are written as in production), on a fixed Monday, and reading the
outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from courses.models import Course
from courses.services import CourseRequest
from patients.models import Patient
from practice.models import Practice, Therapist
from sessions.booking.courses import course_book
from sessions.booking.sessions import session_book
from sessions.models import Reminder, Session
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory, massage_type

MONDAY = date(2026, 6, 1)
TUESDAY = MONDAY + timedelta(days=1)
# Monday 06:00 in Berlin: well before Tuesday's sessions and their 24 h reminders.
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def book(
    practice: Practice,
    starts_at: datetime,
    *,
    patient: Patient | None = None,
    therapist: Therapist | None = None,
    now: datetime = NOW,
    **extra: object,
) -> Session:
    """A classical massage booked with `session_book`, by default for a new patient who
    consented to reminders by email and SMS, with a therapist who works every day."""
    if "massage_type" not in extra:
        extra["massage_type"] = massage_type(practice, "classical")
    return session_book(
        practice=practice,
        patient=patient or PatientFactory(practice=practice, consenting=True),
        therapist=therapist or TherapistFactory(practice=practice, week=True),
        starts_at=starts_at,
        now=now,
        **extra,
    )


def book_course(practice: Practice, *, patient: Patient | None = None, **request: object) -> Course:
    """A classical course of 10 from Tuesday at 10:00 booked with `course_book` at NOW for the
    patient (by default a new one who consented to email), screened on Monday."""
    patient = patient or PatientFactory(practice=practice, consent_email=True)
    ScreeningFactory(patient=patient, screened_on=MONDAY)
    request.setdefault("therapist", TherapistFactory(practice=practice, week=True))
    request.setdefault("massage_type", massage_type(practice, "classical"))
    request.setdefault("start_date", TUESDAY)
    request.setdefault("preferred_time", time(10))
    return course_book(
        request=CourseRequest(practice=practice, patient=patient, **request),
        now=NOW,
    )


def rows(session: Session, **filters: object) -> list[Reminder]:
    return list(Reminder.objects.filter(session=session, **filters).order_by("due_at", "id"))


def kinds(reminders: list[Reminder]) -> set[tuple[str, str]]:
    return {(r.kind, r.channel) for r in reminders}
