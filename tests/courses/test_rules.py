"""R9 to R14 as pure functions: no database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from courses.models import Cadence
from courses.rules import (
    r9_sessions_count_error,
    r10_cadence_error,
    r10_gap_days,
    r11_course_due,
    r11_most_courses_in_a_year,
    r11_yearly_limit_error,
    r12_next_type,
    r12_repeats_previous,
    r13_interrupts,
    r13_longest_missed_run,
    r14_minutes,
)

D = date(2026, 6, 1)


@pytest.mark.parametrize(("count", "ok"), [(9, False), (10, True), (15, True), (16, False)])
def test_r9_a_course_has_ten_to_fifteen_sessions(count: int, ok: bool) -> None:
    assert (r9_sessions_count_error(count) is None) is ok


def test_r10_cadence_gaps() -> None:
    assert r10_gap_days(Cadence.DAILY) == 1
    assert r10_gap_days(Cadence.EVERY_OTHER_DAY) == 2
    days = [D, D + timedelta(days=1), D + timedelta(days=3)]
    assert r10_cadence_error(days, Cadence.DAILY) is None
    assert r10_cadence_error(days, Cadence.EVERY_OTHER_DAY).rule == "R10"
    assert r10_cadence_error([D, D], Cadence.DAILY).rule == "R10"


def test_r11_the_fifth_course_in_365_days_is_blocked() -> None:
    four = [D - timedelta(days=300), D - timedelta(days=200), D - timedelta(days=100), D]
    assert r11_yearly_limit_error(four[:3], D) is None
    assert r11_yearly_limit_error(four, D + timedelta(days=10)).rule == "R11"
    # A year after the first one, the window has moved on.
    assert r11_yearly_limit_error(four, D + timedelta(days=65)) is None


def test_r11_later_planned_courses_count_in_the_window_too() -> None:
    later = [D + timedelta(days=d) for d in (10, 20, 30, 40)]
    assert r11_most_courses_in_a_year(later, D) == 5
    assert r11_yearly_limit_error(later, D).code == "r11_yearly_limit"


def test_r11_chronic_patient_with_fewer_than_two_courses_is_due() -> None:
    assert r11_course_due([D - timedelta(days=100)], D, chronic_plan=True)
    assert not r11_course_due(
        [D - timedelta(days=100), D - timedelta(days=10)], D, chronic_plan=True
    )
    assert not r11_course_due([], D, chronic_plan=False)
    assert r11_course_due([D - timedelta(days=400), D - timedelta(days=380)], D, chronic_plan=True)


def test_r12_same_type_with_the_same_therapist_warns() -> None:
    assert (
        r12_repeats_previous(
            previous_type_id=1, previous_therapist_id=7, type_id=1, therapist_id=7
        ).rule
        == "R12"
    )
    # Another therapist, or another type, is the accepted way.
    assert (
        r12_repeats_previous(previous_type_id=1, previous_therapist_id=7, type_id=1, therapist_id=8)
        is None
    )
    assert (
        r12_repeats_previous(previous_type_id=1, previous_therapist_id=7, type_id=2, therapist_id=7)
        is None
    )
    assert (
        r12_repeats_previous(
            previous_type_id=None, previous_therapist_id=None, type_id=2, therapist_id=7
        )
        is None
    )


def test_r12_next_type_follows_the_rotation_and_skips_what_is_not_allowed() -> None:
    rotation = [10, 20, 30, 40]
    assert r12_next_type(rotation, 20, {10, 20, 30, 40}) == 30
    assert r12_next_type(rotation, 20, {10, 40}) == 40
    assert r12_next_type(rotation, 40, {10, 20, 30, 40}) == 10  # wraps around
    assert r12_next_type(rotation, 20, {20}) is None


def test_r13_missed_runs_count_positions_not_rebooked() -> None:
    rows = [(1, True), (2, False), (3, False), (4, True)]
    assert r13_longest_missed_run(rows) == 2
    assert not r13_interrupts(rows)
    three = [(1, True), (2, False), (3, False), (4, False)]
    assert r13_interrupts(three)
    # A missed position rebooked (a held row at the same position) is no longer missed.
    assert not r13_interrupts([*three, (3, True)])


@pytest.mark.parametrize(
    ("default", "expected"),
    [(30, [10, 15, 30, 30]), (15, [10, 15, 15, 15]), (20, [10, 15, 20, 20]), (8, [8, 8, 8, 8])],
)
def test_r14_ramp_from_ten_minutes_to_the_default(default: int, expected: list[int]) -> None:
    assert [r14_minutes(n, default) for n in range(1, 5)] == expected
