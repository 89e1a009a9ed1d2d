"""Course reads: who is due for a course (R11)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from courses.models import CourseStatus
from courses.selectors import patients_due_for_course
from practice.models import Practice
from tests.factories import CourseFactory, PatientFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_r11_chronic_patients_with_fewer_than_two_courses_a_year_are_due(
    practice: Practice, other_practice: Practice, django_assert_num_queries
) -> None:
    none_yet = PatientFactory(practice=practice, chronic_plan=True)
    one = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=one, start_date=ago(100), bare=True)
    CourseFactory(patient=one, start_date=ago(400), bare=True)  # over a year ago: not counted
    # Cancelled: does not count.
    CourseFactory(patient=one, start_date=ago(30), status=CourseStatus.CANCELLED, bare=True)
    two = PatientFactory(practice=practice, chronic_plan=True)
    CourseFactory(patient=two, start_date=ago(300), bare=True)
    CourseFactory(patient=two, start_date=ago(20), bare=True)
    PatientFactory(practice=practice, chronic_plan=False)
    PatientFactory(practice=practice, chronic_plan=True, archived=True)
    PatientFactory(practice=other_practice, chronic_plan=True)
    with django_assert_num_queries(2):
        due = patients_due_for_course(practice=practice, today=TODAY)
    assert {p.pk for p in due} == {none_yet.pk, one.pk}
