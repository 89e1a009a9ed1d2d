"""A new patient's first visit, booked online on their own questionnaire (R1-R8): one single
session of a type the questionnaire clears, "screening to confirm at check-in", which starts
only once staff confirm the screening."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from courses.services import CourseRequest
from patients.models import Patient, Screening
from patients.services import screening_confirm, screening_record
from practice.models import Practice
from sessions.booking.courses import course_book
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.day.check_in import session_check_in
from sessions.day.running import session_start
from sessions.models import SessionStatus
from sessions.selectors import session_screening_needed
from tests.factories import (
    PatientFactory,
    ScreeningFactory,
    TherapistFactory,
    UserFactory,
    all_no,
    answers_all_no,
    massage_type,
)
from tests.sessions.outbox import MONDAY, NOW, TUESDAY, book

pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def self_report(patient: Patient, **yes: str) -> Screening:
    return screening_record(
        patient=patient, answers=answers_all_no(patient, **yes), self_reported=True
    )


@pytest.fixture
def newcomer(practice: Practice) -> Patient:
    return PatientFactory(practice=practice)


def test_r1_a_new_patient_books_a_first_visit_on_their_questionnaire(
    practice: Practice, newcomer: Patient
) -> None:
    report = self_report(newcomer)

    session = book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)

    assert session.self_report == report
    assert session_screening_needed(session)


def test_r1_without_a_questionnaire_the_patient_books_nothing(
    practice: Practice, newcomer: Patient
) -> None:
    with pytest.raises(ValidationError) as caught:
        book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)
    assert caught.value.message_dict["massage_type"][0].startswith("R1")


def test_r2_a_questionnaire_that_blocks_everything_books_nothing(
    practice: Practice, newcomer: Patient
) -> None:
    self_report(newcomer, oncology="")

    with pytest.raises(ValidationError) as caught:
        book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)
    assert caught.value.message_dict["massage_type"][0].startswith("R2")


def test_r4_a_questionnaire_that_blocks_a_type_never_books_it(
    practice: Practice, newcomer: Patient
) -> None:
    self_report(newcomer, pregnancy="")
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.massage_types.add(massage_type(practice, "cupping"))

    with pytest.raises(ValidationError) as caught:
        book(
            practice,
            at(TUESDAY, 10),
            patient=newcomer,
            therapist=therapist,
            massage_type=massage_type(practice, "cupping"),
            by_patient=True,
        )
    assert caught.value.message_dict["massage_type"][0].startswith("R4")
    # The types it clears stay bookable.
    session = book(
        practice, at(TUESDAY, 10), patient=newcomer, therapist=therapist, by_patient=True
    )
    assert session.self_report is not None


def test_r1_only_one_first_visit(practice: Practice, newcomer: Patient) -> None:
    self_report(newcomer)
    therapist = TherapistFactory(practice=practice, week=True)
    first = book(practice, at(TUESDAY, 10), patient=newcomer, therapist=therapist, by_patient=True)

    with pytest.raises(ValidationError):
        book(practice, at(TUESDAY, 12), patient=newcomer, therapist=therapist, by_patient=True)

    # Cancelled, it may be booked again; moved, it keeps its questionnaire.
    session_cancel(session=first, by=newcomer.user, by_patient=True, now=NOW)
    second = book(practice, at(TUESDAY, 12), patient=newcomer, therapist=therapist, by_patient=True)
    moved = session_reschedule(session=second, starts_at=at(TUESDAY, 14), by_patient=True, now=NOW)
    assert moved.self_report == second.self_report


def test_r1_a_patient_with_an_earlier_session_waits_for_a_confirmed_screening(
    practice: Practice, newcomer: Patient
) -> None:
    book(practice, at(MONDAY, 10), patient=newcomer)  # booked by staff
    self_report(newcomer)

    with pytest.raises(ValidationError) as caught:
        book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)
    assert caught.value.message_dict["massage_type"][0].startswith("R1")


def test_r1_a_course_is_not_booked_on_an_unconfirmed_questionnaire(
    practice: Practice, newcomer: Patient
) -> None:
    self_report(newcomer)

    with pytest.raises(ValidationError) as caught:
        course_book(
            request=CourseRequest(
                practice=practice,
                patient=newcomer,
                therapist=TherapistFactory(practice=practice, week=True),
                massage_type=massage_type(practice, "classical"),
                start_date=TUESDAY,
                preferred_time=time(10),
            ),
            now=NOW,
        )
    assert "R1" in str(caught.value)


def test_r1_staff_booking_is_not_a_first_visit_on_the_questionnaire(
    practice: Practice, newcomer: Patient
) -> None:
    self_report(newcomer)
    session = book(practice, at(TUESDAY, 10), patient=newcomer)
    assert session.self_report is None


def test_r1_the_first_visit_starts_only_after_staff_confirm(
    practice: Practice, newcomer: Patient
) -> None:
    report = self_report(newcomer)
    session = book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)
    session_check_in(session=session, answers=all_no(), by=None, now=at(TUESDAY, 9, 55))

    with pytest.raises(ValidationError) as caught:
        session_start(session=session, by=None, now=at(TUESDAY, 9, 56))
    assert "R1" in str(caught.value)

    screening_confirm(screening=report, confirmed_by=UserFactory(), temperature=None)
    started = session_start(session=session, by=None, now=at(TUESDAY, 9, 57))
    assert started.status == SessionStatus.IN_PROGRESS
    assert not session_screening_needed(started)


def test_r1_a_valid_screening_is_used_before_the_questionnaire(
    practice: Practice, newcomer: Patient
) -> None:
    ScreeningFactory(patient=newcomer)
    session = book(practice, at(TUESDAY, 10), patient=newcomer, by_patient=True)
    assert session.self_report is None
