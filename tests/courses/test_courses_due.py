"""The patients due for their next course (R11) with the type the rotation proposes (R12), as
the front desk sees them: the "Courses due" page and `GET /api/v1/courses/due/`; who may see
them, another practice's patients never among them, a constant number of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from courses.models import Course
from patients.models import Patient
from practice.models import Practice, Role, User
from tests.clock import today
from tests.factories import CourseFactory, PatientFactory, massage_type
from tests.pages import logged_in, text

pytestmark = pytest.mark.django_db

DUE = "/api/v1/courses/due/"


def page_url(practice: Practice) -> str:
    return reverse("courses:courses-due", kwargs={"practice_slug": practice.slug})


def chronic(practice: Practice, name: str) -> Patient:
    given, family = name.split()
    return PatientFactory(
        practice=practice, given_name=given, family_name=family, chronic_plan=True
    )


def classical_course(patient: Patient, *, days_ago: int = 100) -> Course:
    """A classical course with its sessions, started `days_ago`: due a quarter after it."""
    return CourseFactory(
        patient=patient, kind="classical", start_date=today(patient.practice, days=-days_ago)
    )


@pytest.fixture
def due(practice: Practice, other_practice: Practice) -> dict[str, Patient]:
    """Two patients of the practice due (one after a course, one with none yet), one whose
    next course is not near, and a due patient of the other practice."""
    after_course = chronic(practice, "Ann Berg")
    classical_course(after_course)
    not_near = chronic(practice, "Cleo Dahl")
    classical_course(not_near, days_ago=10)
    return {
        "after_course": after_course,
        "first": chronic(practice, "Bo Lind"),
        "not_near": not_near,
        "elsewhere": chronic(other_practice, "Eva Holm"),
    }


# --- The desk's page ---------------------------------------------------------------------------


def test_r11_the_desk_page_lists_due_patients_with_the_proposed_type(
    practice: Practice, desk: User, due: dict[str, Patient]
) -> None:
    client = logged_in(desk)

    page = text(client.get(page_url(practice)))

    assert "Ann Berg" in page
    assert "Relaxing" in page  # R12: after classical, the rotation's next
    assert "Bo Lind" in page
    assert "No course yet" in page
    assert "Cleo Dahl" not in page
    assert "Eva Holm" not in page
    # The desk finds the page from its navigation.
    assert page_url(practice) in text(client.get(reverse("courses:course-list", args=["linden"])))


def test_r12_the_desk_page_proposes_the_rotations_first_type_for_a_first_course(
    practice: Practice, desk: User
) -> None:
    chronic(practice, "Bo Lind")

    page = text(logged_in(desk).get(page_url(practice)))

    assert "Classical" in page


def test_r11_the_courses_due_page_is_the_staffs_of_its_practice_only(
    practice: Practice,
    other_practice: Practice,
    member: Callable[..., User],
    other_desk: User,
    due: dict[str, Patient],
) -> None:
    patient_user = member(practice, Role.PATIENT, email="ann@example.com")

    assert Client().get(page_url(practice)).status_code == 302
    assert logged_in(patient_user).get(page_url(practice)).status_code == 403
    assert logged_in(other_desk).get(page_url(practice)).status_code == 404
    elsewhere = text(logged_in(other_desk).get(page_url(other_practice)))
    assert "Eva Holm" in elsewhere
    assert "Ann Berg" not in elsewhere


# --- The API -----------------------------------------------------------------------------------


def test_r11_staff_read_the_courses_due_with_the_last_course_and_the_proposal(
    practice: Practice,
    desk: User,
    due: dict[str, Patient],
    api_as: Callable[[User | None], APIClient],
) -> None:
    response = api_as(desk).get(DUE)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    after_course, first = body["results"]  # the overdue one first
    course = Course.objects.get(patient=due["after_course"])
    ended = max(session.ends_at for session in course.sessions.all())
    assert datetime.fromisoformat(after_course.pop("last_course_ended_at")) == ended
    assert after_course == {
        "patient": due["after_course"].pk,
        "patient_name": "Ann Berg",
        "last_course": course.pk,
        "due_on": (course.start_date + timedelta(days=91)).isoformat(),
        "proposed_massage_type": massage_type(practice, "relaxing").pk,
        "proposed_massage_type_name": "Relaxing",
    }
    assert (first["patient"], first["last_course"], first["last_course_ended_at"]) == (
        due["first"].pk,
        None,
        None,
    )
    assert first["due_on"] == today(practice).isoformat()


def test_r11_patients_may_not_read_the_courses_due(
    practice: Practice,
    member: Callable[..., User],
    due: dict[str, Patient],
    api_as: Callable[[User | None], APIClient],
) -> None:
    patient_user = member(practice, Role.PATIENT, email="ann@example.com")
    due["after_course"].user = patient_user
    due["after_course"].save()

    assert api_as(patient_user).get(DUE).status_code == 403
    assert api_as(None).get(DUE).status_code == 401


def test_r11_another_practices_staff_see_only_their_own_patients_due(
    other_desk: User, due: dict[str, Patient], api_as: Callable[[User | None], APIClient]
) -> None:
    body = api_as(other_desk).get(DUE).json()

    assert [row["patient"] for row in body["results"]] == [due["elsewhere"].pk]


@pytest.mark.parametrize("where", ["api", "page"])
def test_r11_the_courses_due_read_a_constant_number_of_queries(
    practice: Practice,
    desk: User,
    api_as: Callable[[User | None], APIClient],
    django_assert_num_queries,
    where: str,
) -> None:
    client, path = (api_as(desk), DUE) if where == "api" else (logged_in(desk), page_url(practice))
    classical_course(chronic(practice, "Ann Berg"))
    chronic(practice, "Bo Lind")
    with CaptureQueriesContext(connection) as one_each:
        assert "Bo Lind" in client.get(path).content.decode()
    for number in range(4):
        classical_course(chronic(practice, f"Ann Berg{number}"), days_ago=100 + number)
        chronic(practice, f"Bo Lind{number}")

    with django_assert_num_queries(len(one_each.captured_queries)):
        response = client.get(path)

    assert "Bo Lind3" in response.content.decode()
