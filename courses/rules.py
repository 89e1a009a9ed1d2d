"""The course rules R9 to R14 as small pure functions: no database, callable from any test.

The services gather the data (dates, statuses, the rotation order) and call these; nothing
else decides what a rule says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from django.utils.translation import gettext_lazy as _

from courses.models import CADENCE_GAP_DAYS, MAX_SESSIONS, MIN_SESSIONS, Cadence

YEAR = timedelta(days=365)
# R11: at most this many courses start in any rolling 365 days per patient.
MAX_COURSES_PER_YEAR = 4
# R11: a patient in a chronic/prevention plan is due when fewer than this started in a year.
CHRONIC_COURSES_PER_YEAR = 2
# R13: more missed sessions in a row than this interrupt a course.
MAX_MISSED_IN_A_ROW = 2
# R14: the first sessions of a course, in minutes, before the type's default.
RAMP_MINUTES = (10, 15)


@dataclass(frozen=True)
class Finding:
    """One rule's verdict, shown to the user and stored with the record."""

    rule: str
    code: str
    message: str


def r9_sessions_count_error(count: int) -> Finding | None:
    if MIN_SESSIONS <= count <= MAX_SESSIONS:
        return None
    return Finding(
        "R9",
        "r9_sessions_count",
        str(
            _("A course has %(low)d to %(high)d sessions.")
            % {"low": MIN_SESSIONS, "high": MAX_SESSIONS}
        ),
    )


def r10_gap_days(cadence: Cadence | str) -> int:
    """Fewest days from one session of a course to the next."""
    return CADENCE_GAP_DAYS[Cadence(cadence)]


def r10_cadence_error(days: Sequence[date], cadence: Cadence | str) -> Finding | None:
    """Sessions in order, never two on one day, at least the cadence's gap apart."""
    gap = r10_gap_days(cadence)
    for before, after in pairwise(days):
        if (after - before).days < gap:
            return Finding(
                "R10",
                "r10_cadence",
                str(
                    _("Sessions on %(a)s and %(b)s are closer than the cadence allows.")
                    % {"a": before.isoformat(), "b": after.isoformat()}
                ),
            )
    return None


def r11_most_courses_in_a_year(existing_starts: Iterable[date], new_start: date) -> int:
    """The most courses, the new one included, starting in any 365 days that contain it."""
    starts = sorted([*existing_starts, new_start])
    most = 0
    # Every window worth checking begins at one of the starts no more than a year earlier.
    for window_start in starts:
        if window_start > new_start or new_start - window_start >= YEAR:
            continue
        most = max(most, sum(1 for s in starts if window_start <= s < window_start + YEAR))
    return most


def r11_yearly_limit_error(existing_starts: Iterable[date], new_start: date) -> Finding | None:
    if r11_most_courses_in_a_year(existing_starts, new_start) <= MAX_COURSES_PER_YEAR:
        return None
    return Finding(
        "R11",
        "r11_yearly_limit",
        str(
            _("At most %(n)d courses may start in any 365 days; this would be one more.")
            % {"n": MAX_COURSES_PER_YEAR}
        ),
    )


# R11: two to four courses a year, spread through it: the next one a quarter after the last.
SPREAD = timedelta(days=365 // MAX_COURSES_PER_YEAR)
# R11: the patient and the front desk are told this long before the next course is due.
NEXT_COURSE_NOTICE = timedelta(days=14)


def r11_course_due(existing_starts: Iterable[date], today: date, *, chronic_plan: bool) -> bool:
    """A patient in a chronic/prevention plan with fewer than 2 courses in the last year."""
    recent = [s for s in existing_starts if today - YEAR < s <= today]
    return chronic_plan and len(recent) < CHRONIC_COURSES_PER_YEAR


def r11_next_course_due_on(existing_starts: Iterable[date]) -> date | None:
    """R11: the day a patient in a chronic/prevention plan is due for the next course, given
    the starts of their courses so far: a quarter after the last one started, so that courses
    spread through the year, and not before fewer than 2 started in the 365 days up to it (the
    rule's trigger). A course then is never a fifth in a year either. None without a course:
    due at once."""
    starts = sorted(existing_starts)
    if not starts:
        return None
    due = starts[-1] + SPREAD
    if not r11_course_due(starts, due, chronic_plan=True):
        # Two or more started in the year up to `due`: wait until the one before the last
        # leaves the window, when the last is the only one left in it.
        due = starts[-2] + YEAR
    return due


def r12_repeats_previous(
    *,
    previous_type_id: int | None,
    previous_therapist_id: int | None,
    type_id: int,
    therapist_id: int,
) -> Finding | None:
    """The patient's previous course had the same type with the same therapist: warn."""
    if previous_type_id != type_id or previous_therapist_id != therapist_id:
        return None
    return Finding(
        "R12",
        "r12_same_type_as_previous",
        str(
            _(
                "The previous course had the same massage type with the same therapist; "
                "choose the next type in the rotation, another therapist, or give a reason."
            )
        ),
    )


def r12_next_type(
    rotation: Sequence[int], previous_type_id: int | None, allowed: Iterable[int]
) -> int | None:
    """The first type after `previous_type_id` in the rotation (wrapping) that is allowed;
    from the rotation's start when there is no previous type."""
    allowed_ids = set(allowed)
    if previous_type_id in rotation:
        at = rotation.index(previous_type_id)
        ordered = [*rotation[at + 1 :], *rotation[:at]]
    else:
        ordered = list(rotation)
    return next((t for t in ordered if t in allowed_ids and t != previous_type_id), None)


def r13_longest_missed_run(sessions: Iterable[tuple[int, bool]]) -> int:
    """The longest run of consecutive course positions that were missed.

    `sessions` holds (position in the course, still held?) for every row held or missed (a
    no-show or a late cancellation; a cancellation in time is neither and left out); a
    position counts as missed when it has rows and none of them is held (a rebooked one is
    held again).
    """
    held: dict[int, bool] = {}
    for position, is_held in sessions:
        held[position] = held.get(position, False) or is_held
    longest = run = 0
    for position in sorted(held):
        run = 0 if held[position] else run + 1
        longest = max(longest, run)
    return longest


def r13_interrupts(sessions: Iterable[tuple[int, bool]]) -> bool:
    return r13_longest_missed_run(sessions) > MAX_MISSED_IN_A_ROW


def r14_minutes(position: int, default_minutes: int) -> int:
    """The first session is gentle (10 min), then 15, then the type's default."""
    if position <= len(RAMP_MINUTES):
        return min(RAMP_MINUTES[position - 1], default_minutes)
    return default_minutes
