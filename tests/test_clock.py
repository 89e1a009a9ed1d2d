"""The tests' clock (the `clock` fixture in tests/conftest.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.clock import FROZEN_AT

NEW_YEAR = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


def test_every_test_starts_at_the_frozen_instant_and_time_runs_on() -> None:
    first = timezone.now()
    assert FROZEN_AT <= first < FROZEN_AT + timedelta(minutes=1)
    time.sleep(0.01)
    assert timezone.now() > first


def test_a_test_moves_the_clock(clock) -> None:
    clock.move_to(NEW_YEAR)
    assert NEW_YEAR <= timezone.now() < NEW_YEAR + timedelta(minutes=1)
    clock.shift(timedelta(days=-1))
    assert timezone.localdate(timezone=UTC) == NEW_YEAR.date() - timedelta(days=1)


@pytest.mark.clock(NEW_YEAR)
def test_the_clock_marker_starts_the_test_elsewhere() -> None:
    assert NEW_YEAR <= timezone.now() < NEW_YEAR + timedelta(minutes=1)


@pytest.mark.real_clock
def test_a_real_clock_test_does_not_travel() -> None:
    assert not time_machine.escape_hatch.is_travelling()
