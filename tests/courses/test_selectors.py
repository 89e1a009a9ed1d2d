"""Course reads: who is due for a course (R11)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from courses.models import Course, CourseStatus
from courses.selectors import patients_due_for_course
from practice.models import Practice
from tests.factories import PatientFactory, TherapistFactory, massage_type

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


def course(practice: Practice, patient, days_ago: int, **fields: object) -> Course:
    return Course.objects.create(
        practice=practice,
        patient=patient,
        therapist=TherapistFactory(practice=practice),
        massage_type=massage_type(practice),
        start_date=TODAY - timedelta(days=days_ago),
        preferred_time=time(10),
        **fields,
    )


def test_r11_chronic_patients_with_fewer_than_two_courses_a_year_are_due(
    practice: Practice, other_practice: Practice, django_assert_num_queries
) -> None:
    none_yet = PatientFactory(practice=practice, chronic_plan=True)
    one = PatientFactory(practice=practice, chronic_plan=True)
    course(practice, one, 100)
    course(practice, one, 400)  # more than a year ago: does not count
    course(practice, one, 30, status=CourseStatus.CANCELLED)  # cancelled: does not count
    two = PatientFactory(practice=practice, chronic_plan=True)
    course(practice, two, 300)
    course(practice, two, 20)
    PatientFactory(practice=practice, chronic_plan=False)
    PatientFactory(practice=practice, chronic_plan=True, archived=True)
    PatientFactory(practice=other_practice, chronic_plan=True)
    with django_assert_num_queries(2):
        due = patients_due_for_course(practice=practice, today=TODAY)
    assert {p.pk for p in due} == {none_yet.pk, one.pk}
