"""No-shows and late cancellations (R13's missed sessions) by month or week and by
therapist; a cancellation in time is no appointment at all."""

from __future__ import annotations

from datetime import date

import pytest

from sessions.models import SessionStatus
from tests.clock import local
from tests.factories import SessionFactory, TherapistFactory

pytestmark = pytest.mark.django_db

DONE, NO_SHOW, CANCELLED = SessionStatus.COMPLETED, SessionStatus.NO_SHOW, SessionStatus.CANCELLED


@pytest.fixture
def therapists(practice, other_practice, history):
    anna = TherapistFactory(practice=practice, name="Anna", week=True)
    boris = TherapistFactory(practice=practice, name="Boris", week=True)
    sessions = [
        (anna, date(2026, 6, 1), DONE, False),
        (anna, date(2026, 6, 2), DONE, False),
        (anna, date(2026, 6, 3), DONE, False),
        (anna, date(2026, 6, 8), NO_SHOW, False),
        (anna, date(2026, 6, 9), CANCELLED, True),
        (anna, date(2026, 6, 10), CANCELLED, False),  # in time: not counted
        (anna, date(2026, 7, 1), NO_SHOW, False),
        (anna, date(2026, 7, 2), DONE, False),
        (boris, date(2026, 7, 1), DONE, False),
        (boris, date(2026, 7, 2), DONE, False),
        (boris, date(2026, 7, 3), CANCELLED, True),
        (boris, date(2026, 7, 6), NO_SHOW, False),
        (boris, date(2026, 8, 3), NO_SHOW, False),  # after the period
        (boris, date(2026, 5, 31), NO_SHOW, False),  # before it
    ]
    for therapist, day, status, late in sessions:
        SessionFactory(
            therapist=therapist,
            starts_at=local(practice, day, 10),
            status=status,
            late_cancellation=late,
        )
    history(other_practice, 2)
    return anna, boris


def test_r13_missed_sessions_by_month_and_by_therapist(practice, therapists, run_report) -> None:
    anna, boris = therapists

    tables = run_report("no-shows", practice, date(2026, 6, 1), date(2026, 7, 31))

    assert tables["periods"] == [
        ("2026-06-01", 5, 1, 1, 0.4),
        ("2026-07-01", 6, 2, 1, 0.5),
    ]
    assert tables["therapists"] == [
        (anna.pk, "Anna", 7, 2, 1, 0.4286),
        (boris.pk, "Boris", 4, 1, 1, 0.5),
    ]


def test_missed_sessions_by_week_start_on_mondays(practice, therapists, run_report) -> None:
    tables = run_report("no-shows", practice, date(2026, 6, 1), date(2026, 6, 21), "week")

    assert tables["periods"] == [
        ("2026-06-01", 3, 0, 0, 0.0),
        ("2026-06-08", 2, 1, 1, 1.0),
        ("2026-06-15", 0, 0, 0, None),
    ]


def test_a_session_counts_in_the_practice_s_local_month(practice, run_report) -> None:
    # 00:30 on 1 July in Berlin is still 30 June in UTC.
    SessionFactory(
        practice=practice, starts_at=local(practice, date(2026, 7, 1), 0, 30), status=NO_SHOW
    )

    tables = run_report("no-shows", practice, date(2026, 6, 1), date(2026, 7, 31))

    assert tables["periods"] == [("2026-06-01", 0, 0, 0, None), ("2026-07-01", 1, 1, 0, 1.0)]
