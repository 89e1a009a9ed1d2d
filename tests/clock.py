"""The tests' clock. Every test starts at FROZEN_AT (the autouse `clock` fixture in
tests/conftest.py travels there with time-machine, and time then runs on from it), so no test
depends on the real date or time of day; a test that needs another moment moves the clock:
`clock.move_to(...)` or `clock.shift(timedelta(...))`.

FROZEN_AT is a Wednesday morning in both practices' zones (10:30 in Berlin, 04:30 in New
York), months away from a daylight-saving change on either side of the Atlantic (Europe: 29
March and 25 October 2026; the United States: 8 March and 1 November), so a week, a course of
sessions or a booking horizon counted from it crosses none unless a test means it to."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from practice.models import Practice

FROZEN_AT = datetime(2026, 7, 15, 8, 30, tzinfo=UTC)


def today(practice: Practice, days: int = 0) -> date:
    """The practice's date now, by the tests' clock (or `days` later)."""
    return timezone.localdate(timezone=practice.zone) + timedelta(days=days)


def local(practice: Practice, day: date, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` on `day` in the practice's zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=practice.zone)


def noon(practice: Practice, days: int = 0) -> datetime:
    """Noon in the practice's zone, `days` after today."""
    return local(practice, today(practice, days), 12)
