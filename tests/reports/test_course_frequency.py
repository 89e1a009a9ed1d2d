"""The R11 picture: who is due for a course now (the desk's own list), and how many courses
each patient started in each year of the period."""

from __future__ import annotations

from datetime import date

import pytest

from courses.models import CourseStatus
from tests.factories import CourseFactory, PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def test_r11_courses_per_patient_per_year_and_who_is_due(
    practice, other_practice, run_report, history
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    regular = PatientFactory(
        practice=practice, given_name="Rita", family_name="Regular", chronic_plan=True
    )
    busy = PatientFactory(practice=practice, given_name="Bert", family_name="Busy")
    waiting = PatientFactory(
        practice=practice, given_name="Wanda", family_name="Waiting", chronic_plan=True
    )
    PatientFactory(practice=practice, archived=True)  # counted nowhere
    for patient, start, kind, status in [
        (regular, date(2025, 1, 15), "classical", CourseStatus.COMPLETED),
        (regular, date(2025, 3, 1), "classical", CourseStatus.CANCELLED),  # not counted
        (regular, date(2025, 6, 1), "relaxing", CourseStatus.COMPLETED),
        (regular, date(2026, 1, 10), "therapeutic", CourseStatus.INTERRUPTED),
        (busy, date(2026, 1, 5), "classical", CourseStatus.COMPLETED),
        (busy, date(2026, 4, 5), "relaxing", CourseStatus.COMPLETED),
        (busy, date(2026, 7, 5), "sports", CourseStatus.ACTIVE),
        (busy, date(2024, 12, 31), "sports", CourseStatus.COMPLETED),  # before the period
    ]:
        CourseFactory(
            bare=True,
            patient=patient,
            therapist=therapist,
            start_date=start,
            kind=kind,
            status=status,
        )
    history(other_practice, 2)

    tables = run_report("r11-courses-per-year", practice, date(2025, 1, 1), date(2026, 12, 31))

    # (year, courses started in it, patients, of them in a chronic plan)
    assert tables["distribution"] == [
        (2025, 0, 2, 1),  # Bert and Wanda
        (2025, 1, 0, 0),
        (2025, 2, 1, 1),  # Rita
        (2025, 3, 0, 0),
        (2025, 4, 0, 0),
        (2026, 0, 1, 1),  # Wanda
        (2026, 1, 1, 1),  # Rita
        (2026, 2, 0, 0),
        (2026, 3, 1, 0),  # Bert
        (2026, 4, 0, 0),
    ]
    # R11, today 15 July 2026: Rita's next course was due a year after her June 2025 one
    # (two started in the year before a quarter after January); Wanda never had one; Bert is
    # in no chronic plan.
    due = [(row[0], row[1], row[2], row[3], row[4]) for row in tables["due"]]
    assert due == [
        (regular.pk, "Rita Regular", "Therapeutic", "2026-01-10", "2026-06-01"),
        (waiting.pk, "Wanda Waiting", None, None, "2026-07-15"),
    ]
    assert all(row[5] for row in tables["due"])  # R12: the rotation proposes a type
