"""Utilisation: booked hours against working hours minus closures and time off (R23), with
daylight-saving days counted as the hours that really pass (R24)."""

from __future__ import annotations

from datetime import date, time

import pytest

from sessions.models import SessionStatus
from tests.clock import local
from tests.factories import (
    ClosureFactory,
    RoomFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 7, 6)


def test_booked_and_available_hours_per_therapist_and_room(
    practice, other_practice, run_report, history
) -> None:
    anna = TherapistFactory(
        practice=practice, name="Anna", week__days=range(5), week__ends=time(17)
    )
    boris = TherapistFactory(
        practice=practice,
        name="Boris",
        week__days=[0],
        week__starts=time(10),
        week__ends=time(12),
    )
    first, second = (
        RoomFactory(practice=practice, name="A"),
        RoomFactory(practice=practice, name="B"),
    )
    # Wednesday morning closed (4 h), Anna off all Thursday (8 h).
    ClosureFactory(
        practice=practice,
        starts_at=local(practice, date(2026, 7, 8), 9),
        ends_at=local(practice, date(2026, 7, 8), 13),
    )
    TimeOffFactory(
        therapist=anna,
        starts_at=local(practice, date(2026, 7, 9), 0),
        ends_at=local(practice, date(2026, 7, 10), 0),
    )
    for day, hour, minutes, room, status in [
        (6, 9, 60, first, SessionStatus.COMPLETED),
        (6, 13, 60, first, SessionStatus.COMPLETED),
        (7, 9, 30, second, SessionStatus.BOOKED),
        (7, 11, 60, first, SessionStatus.CANCELLED),  # freed its time: not booked
        (7, 14, 60, first, SessionStatus.NO_SHOW),  # freed its time too
        (13, 9, 60, first, SessionStatus.COMPLETED),  # after the period
    ]:
        SessionFactory(
            therapist=anna,
            room=room,
            starts_at=local(practice, date(2026, 7, day), hour),
            minutes=minutes,
            status=status,
        )
    SessionFactory(
        therapist=boris, room=first, starts_at=local(practice, MONDAY, 10, 30), minutes=60
    )
    history(other_practice, 2)  # another practice's hours and sessions never count

    tables = run_report("utilisation", practice, MONDAY, date(2026, 7, 12))

    # Anna: 5 days x 8 h, less 4 h closed and 8 h off = 28 h; Boris: Monday 10-12.
    assert tables["therapists"] == [
        (anna.pk, "Anna", 2.5, 28.0, 0.0893),
        (boris.pk, "Boris", 1.0, 2.0, 0.5),
    ]
    # A room is open while anyone works: Mon 8, Tue 8, Wed 4, Thu 0, Fri 8.
    assert tables["rooms"] == [
        (first.pk, "A", 3.0, 28.0, 0.1071),
        (second.pk, "B", 0.5, 28.0, 0.0179),
    ]


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 5.0),  # spring forward: 02:00-03:00 never happens
        (date(2026, 10, 25), 7.0),  # fall back: 02:00-03:00 happens twice
        (date(2026, 7, 12), 6.0),
    ],
)
def test_r24_a_daylight_saving_day_counts_the_hours_that_pass(
    practice, run_report, day, hours
) -> None:
    night = TherapistFactory(practice=practice, name="Night")
    WorkingHoursFactory(therapist=night, weekday=day.weekday(), starts=time(0), ends=time(6))

    tables = run_report("utilisation", practice, day, day)

    assert tables["therapists"] == [(night.pk, "Night", 0.0, hours, 0.0)]


def test_a_therapist_without_hours_has_no_utilisation_rate(practice, run_report) -> None:
    idle = TherapistFactory(practice=practice, name="Idle")

    tables = run_report("utilisation", practice, MONDAY, MONDAY)

    assert tables["therapists"] == [(idle.pk, "Idle", 0.0, 0.0, None)]
