"""The practice's calendar as arithmetic: when a therapist could start a session (R23, R24).

`Calendar` is pure data (working hours in local wall-clock time, closures, time off, busy
spans) plus arithmetic on epoch seconds: no database, so course planning
(`courses.planning`), availability (`sessions.availability`, which loads it in one query)
and the property tests all call it directly.

A start `s` for `d` minutes is free when
- `[s, s + d)` lies inside one of the therapist's working intervals that day (local wall-clock
  time, converted per day so daylight-saving changes keep the local hours, R24);
- `[s, s + d)` overlaps no closure, no time off of the therapist and no session of the patient;
- `[s, s + d + buffer)` overlaps no `[start, end + buffer)` of a session of the therapist:
  so there is a buffer before and after every session (R23), exactly as the database's
  exclusion constraints see it (R19);
- in a practice with rooms, one of the rooms the session may take is free in the same sense
  for `[s, s + d + buffer)` (R19: every session there has a room);
- `s` is on the practice's grid (`Calendar.on_grid`), not in the past and not beyond the
  booking horizon.

Daylight-saving changes (R24). A working interval [from, until) of a day covers every real
instant whose local wall-clock reading (in the offset in force at that instant) falls on that
day inside [from, until): on a fall-back day 02:00-03:00 happens twice and both hours are
worked; on a spring-forward day the skipped readings do not exist, and an interval whose end
falls in the gap ends at the change itself, the first instant after the gap (the last instant
read before `until`). The instants an interval covers may form two stretches (02:30-03:30 on a
fall-back day is 02:30-03:00 in summer time, then 02:30-03:30 in winter time); stretches of one
day that touch in real time are one stretch of work, like touching intervals. A start is on the
grid when its local reading is a whole number of grid steps from local midnight, so both
occurrences of a repeated time are starts, each listed once.
"""

from __future__ import annotations

import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from practice.models import Practice

Span = tuple[int, int]  # [start, end) in epoch seconds
# [start, end) in epoch seconds and the UTC offset (seconds) in force all along it
Stretch = tuple[int, int, int]
DAY = 86400
EPOCH_DAY = date(1970, 1, 1).toordinal()


class DayClosed(StrEnum):
    """Why nothing can be booked on a day (reported by course planning, R10)."""

    NOT_WORKING = "not_working"
    CLOSURE = "closure"
    TIME_OFF = "time_off"
    FULLY_BOOKED = "fully_booked"
    OUT_OF_RANGE = "out_of_range"


DAY_CLOSED_MESSAGES = {
    DayClosed.NOT_WORKING: _("The therapist does not work that day."),
    DayClosed.CLOSURE: _("The practice is closed that day."),
    DayClosed.TIME_OFF: _("The therapist is off that day."),
    DayClosed.FULLY_BOOKED: _("No free time left that day."),
    DayClosed.OUT_OF_RANGE: _("The day is in the past or beyond the booking horizon."),
}


# A date typed into a URL, a form or an API request outside these years is refused with a
# message rather than overflowing the date arithmetic (date.max + 1 day) into a 500.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_error(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("Choose a date between %(first)d and %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def local_epoch(day: date, at: time, zone: zoneinfo.ZoneInfo) -> int:
    """The instant of a local wall-clock time (a time skipped by a DST change is read with the
    offset before the change, as zoneinfo does; an ambiguous one as its first occurrence)."""
    return int(datetime.combine(day, at, tzinfo=zone).timestamp())


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def local_midnight(day: date) -> int:
    """Local midnight of `day` as a wall-clock reading counted like epoch seconds: an instant
    `s` in force at offset `o` reads `s + o` on this scale."""
    return (day.toordinal() - EPOCH_DAY) * DAY


def grid_miss(instant: int, offset: int, grid: int) -> int:
    """Seconds from the last grid line before `instant`, counted on the local wall clock
    (`offset` in force) from local midnight: 0 when `instant` is on the grid (R23, R24).
    The one definition of the grid, for the free starts and for the booking's check alike."""
    return (instant + offset) % DAY % grid


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint spans covering the same instants."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _merge_times(spans: Iterable[tuple[time, time]]) -> list[tuple[time, time]]:
    merged: list[list[time]] = []
    for starts, ends in sorted(spans):
        if merged and starts <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], ends)
        else:
            merged.append([starts, ends])
    return [(starts, ends) for starts, ends in merged]


def _overlapping(spans: list[Span], ends: list[int], lo: int, hi: int) -> Iterable[Span]:
    """The spans of a merged list that overlap [lo, hi)."""
    for index in range(bisect_right(ends, lo), len(spans)):
        span = spans[index]
        if span[0] >= hi:
            break
        yield span


def _open_union(intervals: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint open intervals covering the same points: unlike `merge`, two that
    only touch stay apart, for the point between them belongs to neither."""
    union: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if union and lo < union[-1][1]:
            union[-1][1] = max(union[-1][1], hi)
        else:
            union.append([lo, hi])
    return [(lo, hi) for lo, hi in union]


def _intersect(first: list[Span], second: list[Span]) -> list[Span]:
    """The points in both of two sorted, disjoint lists of open intervals."""
    both: list[Span] = []
    i = j = 0
    while i < len(first) and j < len(second):
        lo, hi = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if lo < hi:
            both.append((lo, hi))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return both


def subtract(window: Span, forbidden: Sequence[Span]) -> list[Span]:
    """Closed intervals of `window` ([a, b], both inclusive) minus open intervals (lo, hi).

    `forbidden` is sorted by its start. The ends stay allowed: a start may touch a busy span.
    """
    pieces: list[Span] = []
    cursor, last = window
    for lo, hi in forbidden:
        if hi <= cursor:
            continue
        if lo >= last:
            break
        if lo >= cursor:
            pieces.append((cursor, lo))
        cursor = hi
        if cursor > last:
            return pieces
    pieces.append((cursor, last))
    return pieces


def _grid_starts(lo: int, hi: int, offsets: Sequence[Stretch], grid: int) -> Iterable[int]:
    """The starts in [lo, hi] on the local grid (`grid_miss`): within one offset, a plain
    arithmetic progression in epoch seconds."""
    for start, end, offset in offsets:
        first = max(lo, start)
        first += -grid_miss(first, offset, grid) % grid
        yield from range(first, min(hi, end - 1) + 1, grid)


@dataclass
class Calendar:
    """Everything availability needs for some therapists over a range, as plain data."""

    zone: zoneinfo.ZoneInfo
    grid_minutes: int
    buffer_minutes: int
    # therapist id -> weekday (0 = Monday) -> [(from, until)] in local wall-clock time
    hours: dict[int, dict[int, list[tuple[time, time]]]]
    closures: list[Span] = field(default_factory=list)
    time_off: dict[int, list[Span]] = field(default_factory=dict)
    # therapist id -> [(start, end + buffer)] of its active sessions
    sessions: dict[int, list[Span]] = field(default_factory=dict)
    # [(start, end)] of the patient's sessions
    patient_sessions: list[Span] = field(default_factory=list)
    # R19 in a practice with rooms: the rooms a session may take (those that suit the massage
    # type the calendar was read for, or the one room asked for), in the order a booking
    # prefers them, each with the [(start, end + buffer)] of its sessions. None: the practice
    # has no active room, so rooms constrain nothing; empty: no room will do.
    rooms: dict[int, list[Span]] | None = None
    room_names: dict[int, str] = field(default_factory=dict)
    # earliest allowed start and the instant the booking horizon ends (both epoch seconds)
    not_before: int = 0
    not_after: int = 2**62
    # the therapists qualified for the massage type the calendar was read for, if one was
    qualified: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # Overlapping or touching intervals of one day are one stretch of work: a session may
        # run across 13:00 when the day is entered as 08:00-13:00 and 13:00-20:00.
        self.hours = {
            therapist_id: {weekday: _merge_times(spans) for weekday, spans in week.items()}
            for therapist_id, week in self.hours.items()
        }
        # The intervals in seconds from local midnight, by therapist and weekday, filled the
        # first time a weekday is asked for (most calendars answer for one therapist only).
        self._seconds: dict[tuple[int, int], list[Span]] = {}
        self._offsets: dict[date, list[Stretch]] = {}
        self._plain: dict[int, tuple[list[Span], list[int]]] = {}
        self._buffered: dict[int, tuple[list[Span], list[int]]] = {}
        self._closures = merge(self.closures)
        self._closure_ends = [end for _start, end in self._closures]
        self._no_room_cache: dict[tuple[int, int, int], list[Span]] = {}
        self._room_holds: dict[int, tuple[list[Span], list[int]]] = {}
        for room, spans in (self.rooms or {}).items():
            held = merge(spans)
            self._room_holds[room] = (held, [end for _start, end in held])

    # -- inputs, merged once per therapist --------------------------------------------------
    def _busy(self, therapist_id: int) -> tuple[list[Span], list[int], list[Span], list[int]]:
        if therapist_id not in self._plain:
            plain = merge(
                [*self.closures, *self.time_off.get(therapist_id, ()), *self.patient_sessions]
            )
            buffered = merge(self.sessions.get(therapist_id, ()))
            self._plain[therapist_id] = (plain, [end for _s, end in plain])
            self._buffered[therapist_id] = (buffered, [end for _s, end in buffered])
        plain, plain_ends = self._plain[therapist_id]
        buffered, buffered_ends = self._buffered[therapist_id]
        return plain, plain_ends, buffered, buffered_ends

    # -- the local wall clock (R24) -------------------------------------------------------------
    def _offset(self, instant: int) -> int:
        offset = datetime.fromtimestamp(instant, tz=self.zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def day_offsets(self, day: date) -> list[Stretch]:
        """The UTC offsets in force around `day`: consecutive stretches, each with its offset,
        covering every instant whose local reading falls on that day. One stretch on a day
        without a daylight-saving change (or other change of offset) nearby."""
        if day not in self._offsets:
            midnight = local_midnight(day)
            # An offset is less than a day either way, so every instant reading `day` is here.
            lo, hi = midnight - DAY, midnight + 2 * DAY
            offset, last = self._offset(lo), self._offset(hi)
            stretches: list[Stretch] = []
            # From 2000 to 2037 no zone of the tz database changes its offset twice within
            # six days (checked over all zones), so equal offsets at both ends mean no change
            # in between, and a bisection finds the one change between two different ones.
            while offset != last:
                before, after = lo, hi
                while after - before > 1:
                    middle = (before + after) // 2
                    if self._offset(middle) == offset:
                        before = middle
                    else:
                        after = middle
                stretches.append((lo, after, offset))
                lo, offset = after, self._offset(after)
            stretches.append((lo, hi, offset))
            self._offsets[day] = stretches
        return self._offsets[day]

    def instants_at(self, day: date, at: time) -> list[int]:
        """The instants whose local reading is `at` on `day`, ascending: none when a change
        skips it, two when a change repeats it."""
        reading = local_midnight(day) + _seconds(at)
        return [
            reading - offset
            for lo, hi, offset in self.day_offsets(day)
            if lo <= reading - offset < hi
        ]

    def on_grid(self, start: int) -> bool:
        """R23: sessions start on the practice's grid, read on the local wall clock."""
        return grid_miss(start, self._offset(start), self.grid_minutes * 60) == 0

    def working_spans(self, therapist_id: int, day: date) -> list[Span]:
        """The instants the therapist works on `day` (see the module's docstring): sorted,
        disjoint spans."""
        key = (therapist_id, day.weekday())
        if key not in self._seconds:
            self._seconds[key] = [
                (_seconds(starts), _seconds(ends))
                for starts, ends in self.hours.get(therapist_id, {}).get(day.weekday(), ())
            ]
        intervals = self._seconds[key]
        if not intervals:
            return []
        midnight = local_midnight(day)
        offsets = self.day_offsets(day)
        if len(offsets) == 1:
            # The common case: one offset all day, so each interval is one span, in order.
            zero = midnight - offsets[0][2]
            return [(zero + starts, zero + ends) for starts, ends in intervals]
        spans = []
        for starts, ends in intervals:
            for lo, hi, offset in offsets:
                begin = max(midnight + starts - offset, lo)
                finish = min(midnight + ends - offset, hi)
                if begin < finish:
                    spans.append((begin, finish))
        return merge(spans)

    def open_spans(self, therapist_id: int, day: date) -> list[Span]:
        """The instants the therapist works on `day` outside closures and their time off
        (R23): the hours they could be booked at all, whatever is booked already."""
        closed = merge([*self.closures, *self.time_off.get(therapist_id, ())])
        return [
            (start, end)
            for span in self.working_spans(therapist_id, day)
            for start, end in subtract(span, closed)
            if end > start
        ]

    # -- the answer ---------------------------------------------------------------------------
    def free_starts(self, therapist_id: int, first: date, last: date, minutes: int) -> list[int]:
        """Free start instants (epoch seconds, ascending, each once) from `first` to `last`
        (local days)."""
        length = minutes * 60
        buffer = self.buffer_minutes * 60
        grid = self.grid_minutes * 60
        plain, plain_ends, buffered, buffered_ends = self._busy(therapist_id)
        found: list[int] = []
        changing = False
        day = first
        while day <= last:
            for begin, finish in self.working_spans(therapist_id, day):
                window = (max(begin, self.not_before), min(finish - length, self.not_after - 1))
                if window[0] > window[1]:
                    continue
                # A start s is forbidden by a busy [a, b) when s < b and s + length > a
                # (plus the buffer on both sides for sessions): the open interval (lo, b).
                forbidden = sorted(
                    [
                        *(
                            (a - length, b)
                            for a, b in _overlapping(
                                plain, plain_ends, window[0], window[1] + length
                            )
                        ),
                        *(
                            (a - length - buffer, b)
                            for a, b in _overlapping(
                                buffered, buffered_ends, window[0], window[1] + length + buffer
                            )
                        ),
                    ]
                )
                if self.rooms is not None:
                    if not self.rooms:
                        continue
                    forbidden = sorted([*forbidden, *self._no_room_free(window, length + buffer)])
                offsets = self.day_offsets(day)
                changing = changing or len(offsets) > 1
                for lo, hi in subtract(window, forbidden):
                    found.extend(_grid_starts(lo, hi, offsets, grid))
            day += timedelta(days=1)
        if changing:
            # Distinct local days hold distinct instants, but a change that turned the clock
            # back across midnight would interleave two days' instants in real time.
            found.sort()
        return found

    def _no_room_free(self, window: Span, held_for: int) -> list[Span]:
        """The starts in `window` at which every room the session may take is held, as
        open intervals: a room is held at `s` when one of its sessions' `[a, b)` overlaps
        `[s, s + held_for)`, i.e. for `s` in `(a - held_for, b)`."""
        key = (*window, held_for)
        if key in self._no_room_cache:
            return self._no_room_cache[key]
        lo, hi = window
        blocked: list[Span] | None = None
        for held, ends in self._room_holds.values():
            room_blocked = _open_union(
                (a - held_for, b) for a, b in _overlapping(held, ends, lo, hi + held_for)
            )
            blocked = room_blocked if blocked is None else _intersect(blocked, room_blocked)
            if not blocked:
                break
        # Every therapist working the same hours asks for the same window.
        self._no_room_cache[key] = blocked or []
        return self._no_room_cache[key]

    def is_free(self, therapist_id: int, start: int, minutes: int) -> bool:
        day = datetime.fromtimestamp(start, tz=self.zone).date()
        return start in self.free_starts(therapist_id, day, day, minutes)

    def why_closed(self, therapist_id: int, day: date) -> DayClosed:
        """The reason a day offers no start (assuming it offers none)."""
        spans = self.working_spans(therapist_id, day)
        if not spans:
            return DayClosed.NOT_WORKING
        lo, hi = spans[0][0], spans[-1][1]
        if lo >= self.not_after or hi <= self.not_before:
            return DayClosed.OUT_OF_RANGE
        if any(a < hi and b > lo for a, b in self._closures):
            return DayClosed.CLOSURE
        if any(a < hi and b > lo for a, b in self.time_off.get(therapist_id, ())):
            return DayClosed.TIME_OFF
        return DayClosed.FULLY_BOOKED


def local_range(practice: Practice, first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from local midnight of `first` to local midnight after `last`."""
    zone = practice.zone
    return (
        datetime.combine(first, time(), tzinfo=zone).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC),
    )


def local_moment(practice: Practice, reading: datetime) -> datetime:
    """The instant a wall-clock `reading` in the practice's zone names (R24): its first
    occurrence when a daylight-saving change repeats it; a reading the change skips is
    refused, for no instant shows it on the practice's clocks."""
    if reading.tzinfo is not None:
        return reading
    moment = reading.replace(tzinfo=practice.zone)
    if moment.astimezone(UTC).astimezone(practice.zone).replace(tzinfo=None) != reading:
        raise ValidationError(
            _("%(time)s does not exist that day: the clocks skip it (daylight-saving change).")
            % {"time": reading.strftime("%H:%M")}
        )
    return moment.astimezone(UTC)


def horizon_end(practice: Practice, now: datetime) -> datetime:
    """R23: bookable up to the end of the local day `booking_horizon_days` after today."""
    today = now.astimezone(practice.zone).date()
    return local_range(
        practice, today, today + timedelta(days=practice.settings.booking_horizon_days)
    )[1]
