"""R8's day block: a reading over 160 from any check-in or screening blocks every session of
the patient for the rest of that local day (booking by staff or the patient, course planning,
moves, check-in, start), a later lower reading that day does not lift it, and the desk sees
why (the refusal names R8 and the reading's time; the session page and patient record show it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from courses.models import Cadence
from courses.services import CourseRequest
from patients.eligibility import patient_may_receive
from patients.models import HighBloodPressure
from practice.models import Practice, Role
from sessions.booking.courses import course_plan
from sessions.booking.sessions import session_book, session_reschedule
from sessions.day.check_in import session_check_in
from sessions.day.running import session_start
from sessions.models import SessionStatus
from tests.clock import local, noon, today
from tests.factories import (
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    all_no,
    massage_type,
)
from tests.pages import logged_in, text

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def at(practice: Practice, hour: int, minute: int = 0, days: int = 0):
    return local(practice, today(practice, days), hour, minute)


def book(practice: Practice, patient, therapist, hour: int, days: int = 0, kind="classical"):
    return session_book(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice, kind),
        starts_at=at(practice, hour, days=days),
        now=at(practice, 9),
    )


def refusal(caught: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(caught.value.message_dict[field])


@pytest.fixture
def patient(practice: Practice):
    patient = PatientFactory(practice=practice, hypertensive=True)
    ScreeningFactory(patient=patient, screened_on=today(practice, -1))
    return patient


@pytest.fixture
def therapist(practice: Practice):
    return TherapistFactory(practice=practice, week=True)


def test_r8_a_cancelled_sessions_reading_still_blocks_a_session_booked_later_that_day(
    practice: Practice, patient, therapist
) -> None:
    # Given a session already booked for the afternoon, and the morning's check-in at 165
    afternoon = book(practice, patient, therapist, 16)
    morning = SessionFactory(practice=practice, patient=patient, therapist=therapist)
    stopped = session_check_in(
        session=morning,
        answers=all_no(),
        systolic=165,
        diastolic=100,
        by=None,
        now=noon(practice) - timedelta(minutes=5),
    )
    assert stopped.blocked
    morning.refresh_from_db()
    assert morning.status == SessionStatus.CANCELLED

    # When the desk books a second session later that day, it is refused naming R8
    with pytest.raises(ValidationError) as caught:
        book(practice, patient, therapist, 17)
    assert "R8" in refusal(caught, "massage_type")
    assert "165/100" in refusal(caught, "massage_type")
    assert "11:55" in refusal(caught, "massage_type")

    # And the session booked before: a check-in at 150 does not lift the block
    later = session_check_in(
        session=afternoon,
        answers=all_no(),
        systolic=150,
        diastolic=90,
        by=None,
        now=at(practice, 15, 55),
    )
    assert later.blocked
    assert [f.rule for f in later.blocked_by] == ["R8"]
    assert "165/100" in later.blocked_by[0].text
    afternoon.refresh_from_db()
    assert afternoon.status == SessionStatus.CANCELLED


def test_r8_a_checked_in_session_does_not_start_after_a_high_reading_elsewhere(
    practice: Practice, patient, therapist
) -> None:
    # Given a session checked in at 150, then a screening at 165 that same day
    session = SessionFactory(practice=practice, patient=patient, therapist=therapist)
    session_check_in(
        session=session, answers=all_no(), systolic=150, diastolic=90, by=None, now=at(practice, 11)
    )
    ScreeningFactory(patient=patient, systolic=165, diastolic=95)

    # Then the session does not start, and the refusal names R8
    with pytest.raises(ValidationError) as caught:
        session_start(session=session, by=None, now=noon(practice))
    assert refusal(caught, "patient").startswith("R8")
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


def test_r8_a_second_screening_at_150_does_not_lift_the_first_at_165(
    practice: Practice, therapist
) -> None:
    patient = PatientFactory(practice=practice)
    blocked = ScreeningFactory(patient=patient, systolic=165, diastolic=95)
    restricted = ScreeningFactory(patient=patient, systolic=150, diastolic=90)
    assert (blocked.status, restricted.status) == ("blocked", "restricted")

    with pytest.raises(ValidationError) as caught:
        book(practice, patient, therapist, 16)
    assert refusal(caught, "massage_type").startswith("R8")
    assert not patient_may_receive(
        patient=patient, massage_type=massage_type(practice), on=today(practice)
    ).allowed

    # The block is the day's: tomorrow the latest screening (150, restricted) counts.
    tomorrow = book(practice, patient, therapist, 16, days=1)
    session_check_in(
        session=tomorrow,
        answers=all_no(),
        systolic=140,
        diastolic=85,
        by=None,
        now=at(practice, 15, 55, days=1),
    )
    assert session_start(session=tomorrow, by=None, now=at(practice, 16, days=1)).status == (
        SessionStatus.IN_PROGRESS
    )


def test_r8_the_day_is_the_practices_local_day(
    practice: Practice, patient, therapist, clock
) -> None:
    # A check-in at 00:40 local time tomorrow (22:40 UTC today) blocks tomorrow, not today.
    this_day, tomorrow = today(practice), today(practice, 1)
    checked_in = at(practice, 0, 40, days=1)
    afternoon = at(practice, 16, days=1)
    early = SessionFactory(
        practice=practice,
        patient=patient,
        therapist=therapist,
        starts_at=at(practice, 0, 45, days=1),
    )
    clock.move_to(checked_in)
    session_check_in(
        session=early, answers=all_no(), systolic=170, diastolic=100, by=None, now=checked_in
    )
    (reading,) = HighBloodPressure.objects.filter(patient=patient)
    assert (reading.day, reading.practice_id) == (tomorrow, practice.pk)
    classical = massage_type(practice, "classical")
    assert not patient_may_receive(patient=patient, massage_type=classical, on=this_day).blocks
    with pytest.raises(ValidationError):
        session_book(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=classical,
            starts_at=afternoon,
            now=checked_in,
        )


def test_r8_moving_a_session_onto_the_blocked_day_is_refused(
    practice: Practice, patient, therapist
) -> None:
    tomorrow = book(practice, patient, therapist, 16, days=1)
    ScreeningFactory(patient=patient, systolic=170, diastolic=100)

    with pytest.raises(ValidationError) as caught:
        session_reschedule(session=tomorrow, starts_at=at(practice, 17), now=at(practice, 9))

    assert refusal(caught, "starts_at").startswith("R8")
    tomorrow.refresh_from_db()
    assert tomorrow.starts_at == at(practice, 16, days=1)


def test_r8_a_course_starting_on_the_blocked_day_is_refused(
    practice: Practice, patient, therapist
) -> None:
    ScreeningFactory(patient=patient, systolic=170, diastolic=100)
    request = CourseRequest(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice),
        start_date=today(practice),
        preferred_time=time(16),
        cadence=Cadence.DAILY,
    )

    with pytest.raises(ValidationError) as caught:
        course_plan(request=request, now=at(practice, 9))

    assert refusal(caught, "patient").startswith("R8")
    tomorrow = replace(request, start_date=today(practice, 1))
    assert len(course_plan(request=tomorrow, now=at(practice, 9)).sessions) == 10


def test_r8_the_api_refuses_the_second_booking_and_the_desk_sees_why(
    practice: Practice, patient, therapist, member, api_as, clock
) -> None:
    desk = member(practice, Role.FRONT_DESK)
    client = api_as(desk)
    first = SessionFactory(practice=practice, patient=patient, therapist=therapist)
    clock.move_to(noon(practice) - timedelta(minutes=10))
    checked = client.post(
        f"{SESSIONS}{first.pk}/check-in/",
        {
            "answers": [{"code": a.code, "yes": a.yes, "zone": a.zone} for a in all_no()],
            "systolic": 165,
            "diastolic": 100,
        },
        format="json",
    )
    assert checked.json()["blocked"] is True

    second = client.post(
        SESSIONS,
        {
            "patient": patient.pk,
            "therapist": therapist.pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": at(practice, 17).isoformat(),
        },
        format="json",
    )

    assert second.status_code == 400
    (message,) = second.json()["errors"]["massage_type"]
    assert message.startswith("R8")
    assert "165/100" in message
    assert "11:50" in message
    # The patient record shows the day's block where the desk looks.
    record = logged_in(desk).get(
        reverse(
            "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
        )
    )
    assert "No massage for the rest of today (R8)" in text(record)
    assert "165/100" in text(record)


def test_r8_the_session_page_of_a_session_later_that_day_shows_the_block(
    practice: Practice, patient, therapist, member
) -> None:
    later = book(practice, patient, therapist, 17)
    ScreeningFactory(patient=patient, systolic=172, diastolic=104)

    page = logged_in(member(practice, Role.FRONT_DESK)).get(
        reverse("sessions:session-detail", kwargs={"practice_slug": practice.slug, "pk": later.pk})
    )

    assert page.status_code == 200
    assert "172/104" in text(page)
    assert "no massage for the rest of the day" in text(page)
