"""Builders for session-day tests: a session today, a course laid out day by day, the answers
to the same-day questions and a valid record.

Times are real: a screening cannot be dated after the practice's today, so the sessions sit
on today's local date and the services are given a `now` on that date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from courses.models import Cadence, Course
from patients.models import Patient
from practice.models import MassageType, Practice, Therapist
from sessions.day.check_in import SAME_DAY_QUESTIONS, CheckInAnswer
from sessions.models import Session, SessionStatus
from tests.factories import PatientFactory, massage_type
from tests.patients.factories import cleared_screening
from tests.sessions.factories import therapist_with_week


def today(practice: Practice) -> date:
    return timezone.now().astimezone(practice.zone).date()


def local(practice: Practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=practice.zone)


def noon(practice: Practice, days: int = 0) -> datetime:
    return local(practice, today(practice) + timedelta(days=days), 12)


def all_no(**yes: str) -> list[CheckInAnswer]:
    """An answer to every same-day question: "no", except the codes given, answered "yes"
    with the value as zone."""
    return [CheckInAnswer(code, code in yes, yes.get(code, "")) for code in SAME_DAY_QUESTIONS]


def session_at(
    *,
    therapist: Therapist,
    patient: Patient,
    starts_at: datetime,
    kind: MassageType | None = None,
    course: Course | None = None,
    sequence: int | None = None,
    minutes: int | None = None,
    status: SessionStatus = SessionStatus.BOOKED,
) -> Session:
    practice = therapist.practice
    kind = kind or (course.massage_type if course else massage_type(practice))
    minutes = minutes or kind.default_minutes
    ends_at = starts_at + timedelta(minutes=minutes)
    return Session.objects.create(
        practice=practice,
        therapist=therapist,
        patient=patient,
        massage_type=kind,
        course=course,
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=practice.settings.buffer_minutes),
        status=status,
    )


def single_session(
    practice: Practice,
    *,
    patient: Patient | None = None,
    therapist: Therapist | None = None,
    starts_at: datetime | None = None,
    kind: str = "classical",
    screened: bool = True,
    status: SessionStatus = SessionStatus.BOOKED,
    **patient_fields: object,
) -> Session:
    patient = patient or PatientFactory(practice=practice, **patient_fields)
    if screened:
        cleared_screening(patient)
    return session_at(
        therapist=therapist or therapist_with_week(practice),
        patient=patient,
        starts_at=starts_at or noon(practice),
        kind=massage_type(practice, kind),
        status=status,
    )


def course_of(
    practice: Practice,
    *,
    first: date | None = None,
    booked: int = 10,
    cadence: Cadence = Cadence.EVERY_OTHER_DAY,
    kind: str = "therapeutic",
    patient: Patient | None = None,
    therapist: Therapist | None = None,
    **patient_fields: object,
) -> Course:
    """A course of 10 whose opening screening is today's, with its first `booked` sessions
    at noon from `first` (default today), one cadence gap apart."""
    patient = patient or PatientFactory(practice=practice, **patient_fields)
    screening = cleared_screening(patient)
    therapist = therapist or therapist_with_week(practice)
    first = first or today(practice)
    course = Course.objects.create(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice, kind),
        screening=screening,
        cadence=cadence,
        start_date=first,
        preferred_time=time(12),
    )
    gap = 1 if cadence == Cadence.DAILY else 2
    for sequence in range(1, booked + 1):
        session_at(
            therapist=therapist,
            patient=patient,
            starts_at=local(practice, first + timedelta(days=gap * (sequence - 1)), 12),
            course=course,
            sequence=sequence,
        )
    return course


def good_record(**changes: object) -> dict[str, object]:
    """A record every rule accepts for a patient who is not hypertensive."""
    record: dict[str, object] = {
        "techniques": ["stroking", "rubbing", "kneading", "stroking"],
        "zones": ["lumbar", "lower_thoracic", "shoulders"],
        "pressure": "medium",
        "pain_before": 6,
        "pain_after": 3,
        "notes": "Tension in the lower back eased.",
    }
    record.update(changes)
    return record
