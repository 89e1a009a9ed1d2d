"""A practice's history for the reports: therapists, rooms, sessions in every status and
courses in every status, `size` times over, so tests can compare two sizes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta

import pytest

from courses.models import CourseStatus
from practice.models import Practice, Room
from reports.period import Period
from reports.registry import Report, registry
from sessions.models import SessionStatus
from tests.clock import local, today
from tests.factories import (
    ClosureFactory,
    CourseFactory,
    PatientFactory,
    RoomFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
)

STATUSES = [
    (SessionStatus.COMPLETED, False),
    (SessionStatus.NO_SHOW, False),
    (SessionStatus.CANCELLED, True),
    (SessionStatus.CANCELLED, False),
    (SessionStatus.BOOKED, False),
]
COURSE_STATUSES = [
    CourseStatus.COMPLETED,
    CourseStatus.INTERRUPTED,
    CourseStatus.ACTIVE,
    CourseStatus.CANCELLED,
]


def build_history(practice: Practice, size: int, name: str = "Therapist") -> None:
    """`size` therapists, each with a room, a closure and time off, sessions of every status
    over the last weeks, and chronic patients with courses of every status."""
    for number in range(size):
        therapist = TherapistFactory(
            practice=practice, name=f"{name} {number}", week__starts=time(9), week__ends=time(17)
        )
        room = RoomFactory(practice=practice, name=f"{name} room {number}")
        day = today(practice, days=-20 - number)
        TimeOffFactory(
            therapist=therapist,
            starts_at=local(practice, day, 9),
            ends_at=local(practice, day, 12),
        )
        for offset, (status, late) in enumerate(STATUSES):
            SessionFactory(
                therapist=therapist,
                room=room,
                starts_at=local(practice, today(practice, days=-7 * offset - 1), 10 + number % 6),
                status=status,
                late_cancellation=late,
            )
        patient = PatientFactory(practice=practice, chronic_plan=True)
        for offset, status in enumerate(COURSE_STATUSES):
            CourseFactory(
                bare=True,
                patient=patient,
                therapist=therapist,
                kind=("classical", "relaxing")[offset % 2],
                status=status,
                start_date=today(practice, days=-30 * offset - 5),
            )
        # R11: in a chronic plan without a course yet, so due for one today.
        PatientFactory(practice=practice, chronic_plan=True)
    ClosureFactory(
        practice=practice,
        starts_at=local(practice, today(practice, days=-10), 0),
        ends_at=local(practice, today(practice, days=-9), 0),
    )


@pytest.fixture
def history() -> Callable[[Practice, int], None]:
    return build_history


@pytest.fixture
def run_report() -> Callable[..., dict[str, list[tuple]]]:
    """A report's tables for `practice` and a period, as {table key: rows}."""

    def run(
        slug: str, practice: Practice, first: date, last: date, grouping: str = "month"
    ) -> dict[str, list[tuple]]:
        report: Report | None = registry.get(slug)
        assert report is not None
        tables = report.tables(practice=practice, period=Period(first, last, grouping))
        return {table.key: list(table.rows) for table in tables}

    return run


def room(practice: Practice, name: str) -> Room:
    return RoomFactory(practice=practice, name=name)


ONE_DAY = timedelta(days=1)
