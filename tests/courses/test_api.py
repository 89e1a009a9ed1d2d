"""Courses API: plan (saves nothing), book, read with progress; ownership and isolation."""

from __future__ import annotations

import pytest

from courses.models import Course
from practice.models import Practice, Role
from sessions.models import Session, SessionStatus
from tests.clock import today
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory, massage_type

pytestmark = pytest.mark.django_db

PLAN = "/api/v1/courses/plan/"
COURSES = "/api/v1/courses/"


def payload(practice: Practice, patient=None, **extra: object) -> dict:
    patient = patient or PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=today(practice))
    return {
        "patient": patient.pk,
        "therapist": TherapistFactory(practice=practice, week=True).pk,
        "massage_type": massage_type(practice, "relaxing").pk,
        "start_date": (today(practice, days=2)).isoformat(),
        "preferred_time": "18:00",
        **extra,
    }


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


def test_plan_returns_the_sessions_and_saves_nothing(practice, staff, api_as) -> None:
    response = api_as(staff).post(PLAN, payload(practice, sessions_count=12), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert len(body["sessions"]) == 12
    assert [s["minutes"] for s in body["sessions"][:3]] == [10, 15, 20]
    assert all(s["starts_at"][11:16] == "18:00" for s in body["sessions"])
    assert body["warnings"] == []
    assert body["override_required"] is False
    assert not Course.objects.exists()
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"sessions_count": 16}, "sessions_count"),
        ({"sessions_count": 9}, "sessions_count"),
        ({"cadence": "weekly"}, "cadence"),
        ({"preferred_time": "25:00"}, "preferred_time"),
        ({"therapist": 999999}, "therapist"),
    ],
    ids=["16 sessions", "9 sessions", "unknown cadence", "bad time", "unknown therapist"],
)
def test_plan_bad_input_is_a_400_with_field_messages(
    practice, staff, api_as, extra: dict, field: str
) -> None:
    response = api_as(staff).post(PLAN, payload(practice, **extra), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_book_then_read_the_course_with_its_sessions_and_progress(practice, staff, api_as) -> None:
    client = api_as(staff)
    data = payload(practice)
    plan = client.post(PLAN, data, format="json").json()
    starts = [s["starts_at"] for s in plan["sessions"]]
    booked = client.post(COURSES, {**data, "sessions": starts}, format="json")
    assert booked.status_code == 201, booked.json()
    course = booked.json()
    assert [s["starts_at"] for s in course["sessions"]] == starts
    assert course["progress"] == {"planned": 10, "completed": 0, "booked": 10, "missed": 0}
    Session.objects.filter(course_id=course["id"], sequence=1).update(
        status=SessionStatus.COMPLETED
    )
    again = client.get(f"{COURSES}{course['id']}/").json()
    assert again["progress"]["completed"] == 1
    assert again["sessions"][0]["status"] == "completed"


def test_booking_a_stale_plan_is_a_409_naming_the_session(practice, staff, api_as) -> None:
    client = api_as(staff)
    data = payload(practice)
    plan = client.post(PLAN, data, format="json").json()
    taken = plan["sessions"][2]
    client.post(
        "/api/v1/sessions/",
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": data["therapist"],
            "massage_type": data["massage_type"],
            "starts_at": taken["starts_at"],
        },
        format="json",
    )
    response = client.post(
        COURSES, {**data, "sessions": [s["starts_at"] for s in plan["sessions"]]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["sequence"] == 3
    assert not Course.objects.exists()


def test_r12_patient_cannot_override_staff_can(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    data = payload(practice, patient=me)
    first = api_as(user).post(COURSES, data, format="json")
    assert first.status_code == 201, first.json()
    # The next course may start later, of the same type with the same therapist: R12 warns.
    later = {
        **data,
        "start_date": (today(practice, days=25)).isoformat(),
        "override_reason": "I like it",
    }
    ScreeningFactory(patient=me, screened_on=today(practice))
    refused = api_as(user).post(COURSES, later, format="json")
    assert refused.status_code == 400
    assert "override_reason" in refused.json()["errors"]
    staff = member(practice, Role.MANAGER)
    plan = api_as(staff).post(PLAN, later, format="json").json()
    assert plan["override_required"] is True
    assert plan["proposed_massage_type"] == massage_type(practice, "therapeutic").pk
    accepted = api_as(staff).post(COURSES, later, format="json")
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["override_reasons"][0]["rule"] == "R12"


def test_isolation_courses_of_other_patients_and_practices(
    practice, other_practice, member, api_as
) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    staff = member(practice, Role.FRONT_DESK)
    mine = api_as(staff).post(COURSES, payload(practice, patient=me), format="json").json()
    someone = api_as(staff).post(COURSES, payload(practice), format="json").json()
    foreign_staff = member(other_practice, Role.MANAGER)
    foreign = api_as(foreign_staff).post(COURSES, payload(other_practice), format="json")
    assert foreign.status_code == 201, foreign.json()
    assert [c["id"] for c in api_as(user).get(COURSES).json()["results"]] == [mine["id"]]
    assert api_as(user).get(f"{COURSES}{someone['id']}/").status_code == 404
    assert {c["id"] for c in api_as(staff).get(COURSES).json()["results"]} == {
        mine["id"],
        someone["id"],
    }
    assert api_as(staff).get(f"{COURSES}{foreign.json()['id']}/").status_code == 404
    # Planning for another practice's patient: that patient does not exist here.
    stranger = PatientFactory(practice=other_practice)
    response = api_as(staff).post(
        PLAN, {**payload(practice), "patient": stranger.pk}, format="json"
    )
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]


@pytest.mark.parametrize("courses", [1, 4])
def test_course_list_takes_constant_queries(
    practice, staff, api_as, django_assert_num_queries, courses: int
) -> None:
    client = api_as(staff)
    for _ in range(courses):
        assert client.post(COURSES, payload(practice), format="json").status_code == 201
    # The membership (with the user) and the page (with progress counts): no COUNT(*).
    with django_assert_num_queries(2):
        response = client.get(COURSES)
    assert len(response.json()["results"]) == courses
    assert "count" not in response.json()
    assert all(c["progress"]["booked"] == 10 for c in response.json()["results"])


def test_r8_a_course_cannot_start_on_the_day_of_a_reading_over_160(practice, staff, api_as) -> None:
    patient = PatientFactory(practice=practice)
    body = payload(practice, patient, start_date=today(practice).isoformat())
    # A second screening that day at 150 does not lift the first one's 170 (R8).
    ScreeningFactory(patient=patient, systolic=170, diastolic=100)
    ScreeningFactory(patient=patient, systolic=150, diastolic=90)
    client = api_as(staff)

    planned = client.post(PLAN, body, format="json")
    booked = client.post(COURSES, body, format="json")

    for response in (planned, booked):
        assert response.status_code == 400
        assert response.json()["errors"]["patient"][0].startswith("R8")
    assert not Course.objects.exists()
    tomorrow = client.post(
        PLAN, {**body, "start_date": today(practice, days=1).isoformat()}, format="json"
    )
    assert tomorrow.status_code == 200, tomorrow.json()
