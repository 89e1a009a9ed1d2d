"""Course reads: who is due for a course (R11) and what the rotation proposes (R12)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from courses.models import CourseStatus
from courses.selectors import patients_due_for_course
from practice.models import Practice
from tests.factories import CourseFactory, PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_r11_chronic_patients_whose_next_course_is_near_and_not_booked_are_due(
    practice: Practice, other_practice: Practice, django_assert_num_queries
) -> None:
    none_yet = PatientFactory(practice=practice, chronic_plan=True)
    one = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=one, start_date=ago(100), bare=True)
    CourseFactory(patient=one, start_date=ago(400), bare=True)
    # Cancelled: does not count, even as the one booked ahead.
    CourseFactory(patient=one, start_date=TODAY, status=CourseStatus.CANCELLED, bare=True)
    two = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=two, start_date=ago(300), bare=True)
    CourseFactory(patient=two, start_date=ago(200), bare=True)  # due when ago(300) leaves
    recent = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=recent, start_date=ago(70), bare=True)  # due in three weeks
    booked = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=booked, start_date=ago(200), bare=True)
    CourseFactory(patient=booked, start_date=TODAY + timedelta(days=5), bare=True)
    PatientFactory(practice=practice, chronic_plan=False)
    PatientFactory(practice=practice, chronic_plan=True, archived=True)
    PatientFactory(practice=other_practice, chronic_plan=True)

    with django_assert_num_queries(4):
        due = patients_due_for_course(practice=practice, today=TODAY)

    assert [(row.patient, row.due_on) for row in due] == [
        (one, ago(100) + timedelta(days=91)),
        (none_yet, TODAY),
    ]
    assert due[1].last_course is None
    # Two weeks on, the patient with two courses in the last year is not due yet either.
    later = patients_due_for_course(practice=practice, today=TODAY + timedelta(days=14))
    assert two not in [row.patient for row in later]
    assert recent in [row.patient for row in later]


def test_r12_the_proposal_follows_the_last_course_and_skips_what_the_screening_blocks(
    practice: Practice,
) -> None:
    allergic = PatientFactory(practice=practice, chronic_plan=True, allergic_to_honey=True)
    ScreeningFactory(patient=allergic, screened_on=ago(120))
    CourseFactory(patient=allergic, kind="lymphatic", start_date=ago(100), bare=True)
    first = PatientFactory(practice=practice, chronic_plan=True)

    proposed = {
        row.patient: row.proposed_type.code
        for row in patients_due_for_course(practice=practice, today=TODAY)
    }

    # After lymphatic drainage the rotation says honey, which the allergy blocks (R4); a
    # first course starts the rotation.
    assert proposed == {allergic: "self", first: "classical"}
