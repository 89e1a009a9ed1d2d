"""Course planning as a pure function over a `Calendar` (R10, R14, R24): no database.

Session n+1 is due one cadence gap after the day session n actually got (R10), so a session
moved past a closed day shifts the rest with it, and no day ever holds two sessions of one
course. Each day's time is the preferred local wall-clock time, read in the practice's zone on
that very day, so a course crossing a daylight-saving change keeps 18:00 at 18:00 (R24); when
that time is taken (or skipped by the change), the nearest free time that day is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from courses.models import Cadence
from courses.rules import r10_gap_days, r14_minutes
from practice.calendar import DAY_CLOSED_MESSAGES, Calendar, DayClosed, from_epoch, local_epoch


@dataclass(frozen=True)
class SkippedDay:
    day: date
    reason: DayClosed

    @property
    def message(self) -> str:
        return str(DAY_CLOSED_MESSAGES[self.reason])


@dataclass(frozen=True)
class PlannedSession:
    sequence: int
    starts_at: datetime
    minutes: int
    # The day the cadence asked for, and the days skipped on the way to the one used.
    due_day: date
    skipped: tuple[SkippedDay, ...] = ()
    # The preferred time was taken that day; `starts_at` is the nearest free one.
    time_moved: bool = False

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def moved(self) -> bool:
        return bool(self.skipped) or self.time_moved


class NoOpenDay(Exception):
    """A session finds no open day before the last day planning may use."""

    def __init__(self, sequence: int, due_day: date, last_day: date) -> None:
        super().__init__(sequence, due_day, last_day)
        self.sequence = sequence
        self.due_day = due_day
        self.last_day = last_day


def nearest(starts: list[int], preferred: int) -> int:
    """The free start closest to the preferred one; the earlier of two equally close."""
    return min(starts, key=lambda start: (abs(start - preferred), start))


def plan_sessions(
    *,
    calendar: Calendar,
    therapist_id: int,
    start_date: date,
    count: int,
    cadence: Cadence | str,
    preferred_time: time,
    default_minutes: int,
    last_day: date,
) -> tuple[PlannedSession, ...]:
    gap = timedelta(days=r10_gap_days(cadence))
    planned: list[PlannedSession] = []
    due = start_date
    for sequence in range(1, count + 1):
        minutes = r14_minutes(sequence, default_minutes)
        day = due
        skipped: list[SkippedDay] = []
        while True:
            if day > last_day:
                raise NoOpenDay(sequence, due, last_day)
            starts = calendar.free_starts(therapist_id, day, day, minutes)
            if starts:
                break
            skipped.append(SkippedDay(day, calendar.why_closed(therapist_id, day)))
            day += timedelta(days=1)
        # R24: the preferred reading of the clock, whichever instant has it: on a fall-back
        # day the repeated hour's second occurrence keeps it too; a skipped time has none,
        # and the time nearest where the clock would have been is used instead.
        kept = [s for s in calendar.instants_at(day, preferred_time) if s in starts]
        chosen = (
            kept[0] if kept else nearest(starts, local_epoch(day, preferred_time, calendar.zone))
        )
        planned.append(
            PlannedSession(
                sequence=sequence,
                starts_at=from_epoch(chosen),
                minutes=minutes,
                due_day=due,
                skipped=tuple(skipped),
                time_moved=not kept,
            )
        )
        due = day + gap
    return tuple(planned)
