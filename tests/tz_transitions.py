"""The tz database's real offset changes, and what a working day around one must offer (R24).

An oracle for the calendar's property tests, written the slow, obvious way and independently of
`practice.calendar`: the changes are found by scanning `utcoffset()` day by day, and the
instants a local reading names come from zoneinfo's own `fold`, not from the calendar's
arithmetic. Below it, the strategies the property tests draw days and working hours from.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from hypothesis import strategies as st

from practice.calendar import Calendar

# Zones whose changes differ in kind: Europe and North America (an hour, at night), the
# southern hemisphere (Sydney), a 30-minute change (Lord Howe), changes at midnight
# (Santiago, Havana; Tehran until 2022), a zone that suspends summer time for Ramadan
# (Casablanca) and one that changed its standard offset for good (Samoa skipped a whole day).
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Tehran",
    "Africa/Casablanca",
    "Pacific/Apia",
)
FIRST, LAST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2038, 1, 1, tzinfo=UTC)


def offset(zone: zoneinfo.ZoneInfo, instant: int) -> int:
    found = datetime.fromtimestamp(instant, tz=zone).utcoffset()
    assert found is not None
    return int(found.total_seconds())


@cache
def transitions(name: str) -> tuple[int, ...]:
    """The instants (epoch seconds) at which the zone's offset changed, 2000-2037: a scan a
    day apart (changes are weeks apart), each change then found to the second by bisection."""
    zone = zoneinfo.ZoneInfo(name)
    found = []
    probe, end = int(FIRST.timestamp()), int(LAST.timestamp())
    while probe < end:
        later = probe + 86400
        if offset(zone, probe) != offset(zone, later):
            before, after = probe, later
            while after - before > 1:
                middle = (before + after) // 2
                if offset(zone, middle) == offset(zone, before):
                    before = middle
                else:
                    after = middle
            found.append(after)
        probe = later
    return tuple(found)


def reading(zone: zoneinfo.ZoneInfo, instant: int) -> datetime:
    """The local wall clock at `instant`, naive."""
    return datetime.fromtimestamp(instant, tz=zone).replace(tzinfo=None)


def instants_reading(zone: zoneinfo.ZoneInfo, wall: datetime) -> list[int]:
    """Every real instant whose local reading is `wall`: none in a gap, two in a repeat."""
    candidates = {int(wall.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1)}
    return sorted(s for s in candidates if reading(zone, s) == wall)


def works_at(
    zone: zoneinfo.ZoneInfo, day: date, hours: Sequence[tuple[time, time]], instant: int
) -> bool:
    """R23, R24: the instant's own reading falls on `day` inside one of the intervals."""
    wall = reading(zone, instant)
    return wall.date() == day and any(a <= wall.time() < b for a, b in hours)


def expected_starts(
    zone: zoneinfo.ZoneInfo,
    day: date,
    hours: Sequence[tuple[time, time]],
    grid_minutes: int,
    minutes: int,
) -> list[int]:
    """With an empty calendar: every real instant whose reading is a grid line of `day`, whose
    whole session (checked minute by minute; offsets change on whole minutes) is worked."""
    midnight = datetime.combine(day, time())
    starts = set()
    for line in range(0, 24 * 60, grid_minutes):
        for start in instants_reading(zone, midnight + timedelta(minutes=line)):
            if all(works_at(zone, day, hours, start + m * 60) for m in range(minutes)):
                starts.add(start)
    return sorted(starts)


@cache
def days_around(name: str) -> tuple[date, ...]:
    """The local days on either side of each change (a change at midnight has two)."""
    zone = zoneinfo.ZoneInfo(name)
    days = set()
    for change in transitions(name):
        days |= {reading(zone, change - 1).date(), reading(zone, change).date()}
    return tuple(sorted(days))


# -- strategies ------------------------------------------------------------------------------

GRIDS = [5, 7, 10, 15, 20, 30, 45, 60]
LENGTHS = [5, 10, 15, 30, 45, 60, 90]


@st.composite
def change_days(draw: st.DrawFn) -> tuple[zoneinfo.ZoneInfo, date]:
    name = draw(st.sampled_from(ZONES))
    return zoneinfo.ZoneInfo(name), draw(st.sampled_from(days_around(name)))


def _interval(start: int, length: int) -> tuple[time, time]:
    end = min(start + length, 24 * 60 - 1)
    return time(start // 60, start % 60), time(end // 60, end % 60)


# Working intervals in 5-minute steps, mostly starting in the small hours where the changes are.
intervals = st.lists(
    st.builds(
        _interval,
        st.one_of(st.integers(0, 5 * 12), st.integers(0, 23 * 12)).map(lambda n: n * 5),
        st.integers(1, 10 * 12).map(lambda n: n * 5),
    ),
    min_size=1,
    max_size=3,
)


def calendar(zone: zoneinfo.ZoneInfo, day: date, hours: list, grid: int) -> Calendar:
    return Calendar(
        zone=zone, grid_minutes=grid, buffer_minutes=10, hours={1: {day.weekday(): hours}}
    )
