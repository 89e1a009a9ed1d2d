"""The calendar on daylight-saving days (R23, R24), against the tz database's real changes.

Each property draws a zone, a local day next to one of its offset changes between 2000 and
2037 and working hours around it, and compares the calendar with `tests.tz_transitions`, an
oracle that reads zoneinfo directly. The calendar is pure: no database.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from practice.calendar import Calendar, epoch
from tests.tz_transitions import (
    GRIDS,
    LENGTHS,
    calendar,
    change_days,
    expected_starts,
    intervals,
    reading,
    transitions,
)


def test_r24_the_oracle_finds_the_known_changes() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    in_2026 = [t for t in transitions("Europe/Berlin") if reading(berlin, t).year == 2026]
    # 02:00 CET becomes 03:00 CEST; 03:00 CEST becomes 02:00 CET.
    assert in_2026 == [
        epoch(datetime(2026, 3, 29, 3, tzinfo=berlin)),
        epoch(datetime(2026, 10, 25, 2, fold=1, tzinfo=berlin)),
    ]
    # Lord Howe shifts by half an hour twice a year, every year.
    assert len(transitions("Australia/Lord_Howe")) == 2 * 38


@settings(max_examples=150, deadline=None)
@given(
    place=change_days(),
    hours=intervals,
    grid=st.sampled_from(GRIDS),
    minutes=st.sampled_from(LENGTHS),
)
def test_r24_free_starts_are_every_real_grid_instant_of_the_hours_once(
    place: tuple[zoneinfo.ZoneInfo, date], hours: list, grid: int, minutes: int
) -> None:
    """Distinct, ascending, on the local grid, inside the hours by their own reading, and
    none missing: exactly the oracle's starts, on a day next to a real change."""
    zone, day = place
    cal = calendar(zone, day, hours, grid)
    starts = cal.free_starts(1, day, day, minutes)
    assert starts == expected_starts(zone, day, hours, grid, minutes)
    # A range of days lists each day's starts in turn, still each instant once.
    around = cal.free_starts(1, day - timedelta(days=1), day + timedelta(days=1), minutes)
    assert around == sorted(set(around))
    assert [s for s in around if reading(zone, s).date() == day] == starts


@settings(max_examples=60, deadline=None)
@given(
    place=change_days(),
    hours=intervals,
    grid=st.sampled_from(GRIDS),
    minutes=st.sampled_from(LENGTHS),
)
def test_r23_is_free_and_on_grid_agree_with_free_starts(
    place: tuple[zoneinfo.ZoneInfo, date], hours: list, grid: int, minutes: int
) -> None:
    """Every instant of the day, five minutes apart: free exactly when listed, on the grid
    exactly when its own local reading is a grid line (both occurrences of a repeated one)."""
    zone, day = place
    cal = calendar(zone, day, hours, grid)
    listed = set(cal.free_starts(1, day, day, minutes))
    first = epoch(datetime.combine(day, time(), tzinfo=zone)) - 3 * 3600
    for instant in range(first, first + 30 * 3600, 300):
        wall = reading(zone, instant)
        assert cal.on_grid(instant) == ((wall.hour * 60 + wall.minute) % grid == 0), wall
        if wall.date() == day:
            assert cal.is_free(1, instant, minutes) == (instant in listed), wall


def test_r23_open_spans_are_working_hours_less_closures_and_time_off() -> None:
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    day = date(2026, 7, 6)

    def at(hour: int) -> int:
        return epoch(datetime.combine(day, time(hour), tzinfo=zone))

    calendar = Calendar(
        zone=zone,
        grid_minutes=15,
        buffer_minutes=10,
        hours={1: {0: [(time(9), time(13)), (time(14), time(18))]}, 2: {0: [(time(9), time(18))]}},
        closures=[(at(12), at(15))],
        time_off={1: [(at(16), at(20))]},
    )

    assert calendar.open_spans(1, day) == [(at(9), at(12)), (at(15), at(16))]
    assert calendar.open_spans(2, day) == [(at(9), at(12)), (at(15), at(18))]
    assert calendar.open_spans(1, day + timedelta(days=1)) == []
