"""The R12 rotation: consecutive courses of a patient that repeat the massage type with the
same therapist, per therapist of the later course."""

from __future__ import annotations

from datetime import date

import pytest

from courses.models import CourseStatus
from tests.factories import CourseFactory, PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def test_r12_repeats_of_type_and_therapist_count_and_rate(
    practice, other_practice, run_report, history
) -> None:
    anna = TherapistFactory(practice=practice, name="Anna", week=True)
    boris = TherapistFactory(practice=practice, name="Boris", week=True)
    carla = TherapistFactory(practice=practice, name="Carla", week=True)
    x, y, w, z = (PatientFactory(practice=practice) for _ in range(4))
    for patient, start, kind, therapist, status in [
        (x, date(2026, 1, 5), "classical", anna, CourseStatus.COMPLETED),  # before the period
        (x, date(2026, 3, 1), "classical", anna, CourseStatus.COMPLETED),  # repeat (anna)
        (x, date(2026, 5, 1), "relaxing", anna, CourseStatus.COMPLETED),  # new type
        (x, date(2026, 6, 1), "relaxing", boris, CourseStatus.ACTIVE),  # new therapist
        (y, date(2026, 2, 1), "classical", boris, CourseStatus.COMPLETED),
        (y, date(2026, 3, 1), "classical", boris, CourseStatus.CANCELLED),  # left out
        (y, date(2026, 4, 1), "classical", boris, CourseStatus.INTERRUPTED),  # repeat (boris)
        (w, date(2026, 1, 10), "sports", boris, CourseStatus.COMPLETED),
        (w, date(2026, 6, 10), "sports", boris, CourseStatus.PLANNED),  # repeat (boris)
        (z, date(2026, 4, 1), "honey", anna, CourseStatus.COMPLETED),  # a first course
        (z, date(2026, 9, 1), "honey", anna, CourseStatus.PLANNED),  # after the period
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

    tables = run_report("r12-rotation", practice, date(2026, 2, 15), date(2026, 7, 31))

    # (courses after a previous one, of them same type and therapist, rate)
    assert tables["therapists"] == [
        (anna.pk, "Anna", 2, 1, 0.5),
        (boris.pk, "Boris", 3, 2, 0.6667),
        (carla.pk, "Carla", 0, 0, None),
    ]
