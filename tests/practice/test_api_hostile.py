"""Hostile input gets a 400 with the one error body, never a 500: the JSON parser of
`practice.api`, its calendar's days and moments, and text the database cannot hold."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from practice.models import Role
from tests.clock import local, today
from tests.factories import PatientFactory, SessionFactory, TherapistFactory, massage_type

pytestmark = pytest.mark.django_db

EDGE_DAY = "9999-12-31"
EDGE_MOMENT = "9999-12-31T23:59:59+14:00"
OUT_OF_YEARS = "Choose a date between 2000 and 2100."


@pytest.fixture
def staff(practice, member, api_as) -> APIClient:
    return api_as(member(practice, Role.FRONT_DESK))


def assert_invalid(response, field: str, message: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert body["errors"][field] == [message]


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/"])
def test_hostile_deeply_nested_json_is_a_400(db, path: str) -> None:
    response = APIClient().post(path, "[" * 5000, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "parse_error",
        "detail": "The JSON body is nested too deeply.",
    }


def test_hostile_session_list_from_year_9999_is_a_400(staff) -> None:
    assert_invalid(staff.get("/api/v1/sessions/", {"from": EDGE_DAY}), "from", OUT_OF_YEARS)
    assert_invalid(staff.get("/api/v1/sessions/", {"to": "0001-01-01"}), "to", OUT_OF_YEARS)


def test_hostile_availability_at_the_end_of_year_9999_is_a_400(practice, staff) -> None:
    therapist = TherapistFactory(practice=practice, week=True)

    response = staff.get(
        "/api/v1/availability/",
        {"therapist": therapist.pk, "from": "9999-12-30", "to": EDGE_DAY, "duration": 30},
    )

    assert_invalid(response, "from", OUT_OF_YEARS)
    assert response.json()["errors"]["to"] == [OUT_OF_YEARS]


def test_r23_booking_at_the_last_moment_of_year_9999_is_a_400(practice, staff) -> None:
    response = staff.post(
        "/api/v1/sessions/",
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": TherapistFactory(practice=practice, week=True).pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": EDGE_MOMENT,
        },
        format="json",
    )

    assert_invalid(response, "starts_at", OUT_OF_YEARS)


def test_r23_rescheduling_to_the_last_moment_of_year_9999_is_a_400(practice, staff) -> None:
    session = SessionFactory(practice=practice, starts_at=local(practice, today(practice, 3), 10))

    response = staff.post(
        f"/api/v1/sessions/{session.pk}/reschedule/", {"starts_at": EDGE_MOMENT}, format="json"
    )

    assert_invalid(response, "starts_at", OUT_OF_YEARS)


def test_hostile_course_booked_with_a_session_in_year_9999_is_a_400(practice, staff) -> None:
    response = staff.post(
        "/api/v1/courses/",
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": TherapistFactory(practice=practice, week=True).pk,
            "massage_type": massage_type(practice).pk,
            "start_date": EDGE_DAY,
            "preferred_time": "13:00",
            "sessions": [EDGE_MOMENT],
        },
        format="json",
    )

    assert_invalid(response, "start_date", OUT_OF_YEARS)
    assert response.json()["errors"]["sessions"] == {"0": [OUT_OF_YEARS]}


def test_hostile_screening_dated_9999_12_31_is_a_400(practice, staff) -> None:
    patient = PatientFactory(practice=practice)

    response = staff.post(
        f"/api/v1/patients/{patient.pk}/screenings/",
        {"screened_on": EDGE_DAY, "answers": [{"item": "fever", "yes": False}]},
        format="json",
    )
    status = staff.get(f"/api/v1/patients/{patient.pk}/screening-status/", {"on": EDGE_DAY})

    assert_invalid(response, "screened_on", OUT_OF_YEARS)
    assert_invalid(status, "on", OUT_OF_YEARS)


def test_hostile_nul_in_the_patient_search_is_a_400(staff) -> None:
    response = staff.get("/api/v1/patients/", {"q": "a\x00b"})

    assert_invalid(response, "q", "Null characters are not allowed.")


def test_the_patient_search_still_reads_its_query_and_archived_flag(practice, staff) -> None:
    PatientFactory(practice=practice, given_name="Ada", family_name="Lovelace")
    PatientFactory(practice=practice, given_name="Ada", family_name="Byron", archived=True)

    current = staff.get("/api/v1/patients/", {"q": "ada"}).json()["results"]
    archived = staff.get("/api/v1/patients/", {"q": "ada", "archived": "true"}).json()["results"]

    assert [p["family_name"] for p in current] == ["Lovelace"]
    assert [p["family_name"] for p in archived] == ["Byron"]


@pytest.mark.parametrize("slug", ["linden\x00", "x" * 5000, "ünïcode", "'; DROP TABLE x;--"])
def test_hostile_x_practice_header_is_a_403_naming_no_practice(staff, slug: str) -> None:
    response = staff.get("/api/v1/patients/", HTTP_X_PRACTICE=slug)
    assert response.status_code == 403
    assert "not a member" in str(response.json())
