"""Courses by the period they started in and by massage type, with how they went on
(`courses.lifecycle`): a planned course has not started, a cancelled one is shown apart."""

from __future__ import annotations

from datetime import date

import pytest

from courses.models import CourseStatus
from practice.models import MassageType
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_courses_started_completed_and_interrupted_by_month_and_type(
    practice, other_practice, run_report, history
) -> None:
    for start, kind, status in [
        (date(2026, 5, 4), "classical", CourseStatus.COMPLETED),
        (date(2026, 5, 20), "classical", CourseStatus.INTERRUPTED),
        (date(2026, 5, 31), "relaxing", CourseStatus.COMPLETED),
        (date(2026, 6, 1), "relaxing", CourseStatus.ACTIVE),
        (date(2026, 6, 2), "therapeutic", CourseStatus.CANCELLED),
        (date(2026, 6, 3), "therapeutic", CourseStatus.PLANNED),
        (date(2026, 7, 1), "classical", CourseStatus.COMPLETED),
        (date(2026, 4, 30), "classical", CourseStatus.COMPLETED),  # before the period
    ]:
        CourseFactory(practice=practice, bare=True, start_date=start, kind=kind, status=status)
    history(other_practice, 2)

    tables = run_report("courses", practice, date(2026, 5, 1), date(2026, 7, 31))

    # started, completed, interrupted, still running, cancelled
    assert tables["periods"] == [
        ("2026-05-01", 3, 2, 1, 0, 0),
        ("2026-06-01", 1, 0, 0, 1, 1),
        ("2026-07-01", 1, 1, 0, 0, 0),
    ]
    by_type = {row[1]: row[2:] for row in tables["massage_types"]}
    assert by_type["Classical"] == (3, 2, 1, 0, 0)
    assert by_type["Relaxing"] == (2, 1, 0, 1, 0)
    assert by_type["Therapeutic"] == (0, 0, 0, 0, 1)
    assert by_type["Honey"] == (0, 0, 0, 0, 0)
    # Every active type of the practice, in rotation order.
    assert [row[0] for row in tables["massage_types"]] == list(
        MassageType.objects.for_practice(practice)
        .filter(active=True)
        .order_by("rotation_order", "name")
        .values_list("pk", flat=True)
    )


def test_courses_by_week(practice, run_report) -> None:
    CourseFactory(
        practice=practice, bare=True, start_date=date(2026, 6, 7), status=CourseStatus.COMPLETED
    )
    CourseFactory(
        practice=practice, bare=True, start_date=date(2026, 6, 8), status=CourseStatus.ACTIVE
    )

    tables = run_report("courses", practice, date(2026, 6, 1), date(2026, 6, 14), "week")

    assert tables["periods"] == [("2026-06-01", 1, 1, 0, 0, 0), ("2026-06-08", 1, 0, 0, 1, 0)]
