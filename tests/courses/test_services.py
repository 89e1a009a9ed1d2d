"""Course planning and booking through the services: screening, R9, R11, R12, atomicity."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from courses.models import Cadence, Course, CourseStatus
from courses.selectors import course_overrides_recorded
from courses.services import CourseRequest
from practice.errors import Conflict
from practice.models import Practice
from sessions.booking.courses import course_book, course_plan
from sessions.booking.sessions import session_book
from sessions.models import Session
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    TherapistFactory,
    massage_type,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 1)
NOW = datetime.combine(MONDAY, time(6), tzinfo=BERLIN)

# The services are handed NOW; what reads the clock itself sees the same Monday morning.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


def course_request(
    practice: Practice, *, screened: bool = True, **overrides: object
) -> CourseRequest:
    fields: dict = {
        "practice": practice,
        "patient": overrides.pop("patient", None) or PatientFactory(practice=practice),
        "therapist": overrides.pop("therapist", None)
        or TherapistFactory(practice=practice, week=True),
        "massage_type": massage_type(practice, "relaxing"),
        "start_date": MONDAY,
        "preferred_time": time(10),
    }
    fields.update(overrides)
    if screened:
        ScreeningFactory(patient=fields["patient"], screened_on=MONDAY)
    return CourseRequest(**fields)


def earlier_course(request: CourseRequest, start: date, **fields: object) -> Course:
    """An earlier course of the request's patient, by default with its therapist and type."""
    fields.setdefault("therapist", request.therapist)
    fields.setdefault("massage_type", request.massage_type)
    return CourseFactory(patient=request.patient, start_date=start, bare=True, **fields)


def test_r1_no_screening_no_course(practice: Practice) -> None:
    with pytest.raises(ValidationError) as caught:
        course_plan(request=course_request(practice, screened=False), now=NOW)
    assert caught.value.message_dict["patient"][0].startswith("R1")


def test_r4_a_type_the_screening_blocks_cannot_be_planned(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"pregnancy": ""}, screened_on=MONDAY)
    request = course_request(
        practice, screened=False, patient=patient, massage_type=massage_type(practice, "cupping")
    )
    with pytest.raises(ValidationError) as caught:
        course_plan(request=request, now=NOW)
    assert "R4" in caught.value.message_dict["patient"][0]


@pytest.mark.parametrize("count", [9, 16])
def test_r9_course_sizes_outside_ten_to_fifteen_are_refused(practice: Practice, count: int) -> None:
    with pytest.raises(ValidationError) as caught:
        course_plan(request=course_request(practice, sessions_count=count), now=NOW)
    assert caught.value.message_dict["sessions_count"][0].startswith("R9")


def test_r9_r14_booking_without_a_plan_books_every_session_with_the_ramp(
    practice: Practice,
) -> None:
    request = course_request(practice, sessions_count=12)
    course = course_book(request=request, now=NOW)
    sessions = list(course.sessions.order_by("sequence"))
    assert [s.sequence for s in sessions] == list(range(1, 13))
    assert [s.minutes for s in sessions[:4]] == [10, 15, 20, 20]
    assert {s.massage_type_id for s in sessions} == {request.massage_type.pk}
    assert all(s.starts_at.astimezone(BERLIN).time() == time(10) for s in sessions)
    assert course.status == CourseStatus.PLANNED


def test_r1_the_course_keeps_the_screening_that_opened_it(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient, screened_on=MONDAY)
    request = course_request(practice, screened=False, patient=patient, sessions_count=15)
    course = course_book(request=request, now=NOW)
    assert course.screening == screening


def test_r11_the_fifth_course_in_a_year_is_blocked(practice: Practice) -> None:
    request = course_request(practice)
    for days in (300, 200, 100):
        earlier_course(
            request, MONDAY - timedelta(days=days), massage_type=massage_type(practice, "sports")
        )
    # A cancelled course does not count.
    earlier_course(request, MONDAY - timedelta(days=50), status=CourseStatus.CANCELLED)
    assert course_plan(request=request, now=NOW).sessions
    earlier_course(
        request, MONDAY - timedelta(days=20), massage_type=massage_type(practice, "sports")
    )
    with pytest.raises(ValidationError) as caught:
        course_plan(request=request, now=NOW)
    assert caught.value.message_dict["start_date"][0].startswith("R11")


def test_r12_same_type_same_therapist_warns_and_proposes_the_next_allowed_type(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    # Pregnancy blocks cupping (R4), hypertension blocks vibration (R8): both are skipped.
    ScreeningFactory(patient=patient, yes={"pregnancy": ""}, screened_on=MONDAY)
    request = course_request(
        practice, screened=False, patient=patient, massage_type=massage_type(practice, "sports")
    )
    earlier_course(request, MONDAY - timedelta(days=60))
    plan = course_plan(request=request, now=NOW)
    assert plan.warnings[0].rule == "R12"
    assert plan.override_required
    assert plan.proposed_massage_type == massage_type(practice, "lymphatic")


def test_r12_another_therapist_is_the_other_accepted_way(practice: Practice) -> None:
    request = course_request(practice)
    earlier_course(
        request,
        MONDAY - timedelta(days=60),
        therapist=TherapistFactory(practice=practice, week=True),
    )
    plan = course_plan(request=request, now=NOW)
    assert plan.warnings == ()
    assert not plan.override_required


def test_r12_overriding_needs_a_reason_from_staff_and_is_stored(practice: Practice) -> None:
    request = course_request(practice)
    earlier_course(request, MONDAY - timedelta(days=60))
    with pytest.raises(ValidationError) as caught:
        course_book(request=request, now=NOW, may_override=True)
    assert caught.value.message_dict["override_reason"][0].startswith("R12")
    with pytest.raises(ValidationError):
        course_book(request=request, now=NOW, override_reason="patient asks", may_override=False)
    assert Course.objects.count() == 1
    course = course_book(request=request, now=NOW, override_reason="worked well", may_override=True)
    [override] = course_overrides_recorded(course=course)
    assert (override.rule, override.reason) == ("R12", "worked well")
    assert course.warnings[0]["rule"] == "R12"


def test_booking_the_shown_plan_fails_whole_when_a_session_was_taken_since(
    practice: Practice,
) -> None:
    request = course_request(practice)
    plan = course_plan(request=request, now=NOW)
    fourth = plan.sessions[3]
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=request.therapist,
        massage_type=massage_type(practice),
        starts_at=fourth.starts_at,
        now=NOW,
    )
    with pytest.raises(Conflict) as caught:
        course_book(request=request, starts=[s.starts_at for s in plan.sessions], now=NOW)
    assert caught.value.body["sequence"] == 4
    assert "conflicts_with" in caught.value.body
    assert not Course.objects.exists()
    assert Session.objects.count() == 1


def test_booking_the_shown_plan_saves_exactly_it(practice: Practice) -> None:
    request = course_request(practice, cadence=Cadence.DAILY)
    plan = course_plan(request=request, now=NOW)
    course = course_book(request=request, starts=[s.starts_at for s in plan.sessions], now=NOW)
    assert [s.starts_at for s in course.sessions.order_by("sequence")] == [
        s.starts_at for s in plan.sessions
    ]


def test_r10_a_submitted_plan_breaking_the_cadence_is_refused(practice: Practice) -> None:
    request = course_request(practice)  # every other day
    starts = [
        datetime.combine(MONDAY + timedelta(days=n), time(10), tzinfo=BERLIN) for n in range(10)
    ]
    with pytest.raises(ValidationError) as caught:
        course_book(request=request, starts=starts, now=NOW)
    assert caught.value.message_dict["sessions"][0].startswith("R10")
    assert not Course.objects.exists()


def test_a_course_cannot_start_in_the_past(practice: Practice) -> None:
    with pytest.raises(ValidationError) as caught:
        course_plan(request=course_request(practice), now=NOW + timedelta(days=2))
    assert "start_date" in caught.value.message_dict


def test_r10_a_plan_starting_on_a_closed_day_books_from_the_first_open_day(
    practice: Practice,
) -> None:
    therapist = TherapistFactory(practice=practice, week__days=(1, 2, 3, 4, 5))  # not on Mondays
    request = course_request(practice, therapist=therapist)
    plan = course_plan(request=request, now=NOW)
    assert plan.sessions[0].skipped[0].day == MONDAY
    course = course_book(request=request, starts=[s.starts_at for s in plan.sessions], now=NOW)
    assert course.start_date == MONDAY + timedelta(days=1)
    assert course.sessions.count() == 10
