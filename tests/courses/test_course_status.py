"""A course's lifecycle (`courses.lifecycle`), the only code that writes a course's status:
each transition happens from the statuses it names and from no other, and says whether it
did, so of two callers only one decides."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from courses.lifecycle import (
    course_activate,
    course_complete,
    course_interrupt,
    course_mark_cancelled,
    course_pause,
    course_resume,
)
from courses.models import Course, CourseStatus
from practice.models import Practice
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
EVERY_STATUS = list(CourseStatus)


def course_in(practice: Practice, status: CourseStatus) -> Course:
    return CourseFactory(practice=practice, bare=True, status=status)


def status_of(course: Course) -> str:
    course.refresh_from_db()
    return course.status


OPEN = (CourseStatus.PLANNED, CourseStatus.ACTIVE)
# (transition, the statuses it leaves, the status it reaches)
TRANSITIONS = {
    "activate": (course_activate, (CourseStatus.PLANNED,), CourseStatus.ACTIVE),
    "complete": (course_complete, OPEN, CourseStatus.COMPLETED),
    "r13-interrupt": (course_interrupt, OPEN, CourseStatus.INTERRUPTED),
    "cancel": (course_mark_cancelled, (*OPEN, CourseStatus.INTERRUPTED), CourseStatus.CANCELLED),
}


@pytest.mark.parametrize("status", EVERY_STATUS)
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_a_transition_happens_only_from_its_statuses(
    practice: Practice, transition: str, status: CourseStatus
) -> None:
    write, sources, target = TRANSITIONS[transition]
    course = course_in(practice, status)

    changed = write(course_id=course.pk, now=NOW)

    assert changed == (status in sources)
    assert status_of(course) == (target if changed else status)
    # Safe to run twice: the second call finds the course moved on and changes nothing.
    assert not write(course_id=course.pk, now=NOW)


def test_r8_a_pause_waits_for_the_next_start_and_resuming_twice_is_harmless(
    practice: Practice,
) -> None:
    course = course_in(practice, CourseStatus.ACTIVE)

    assert course_pause(course_id=course.pk, reason="R8: systolic 170", now=NOW)
    course.refresh_from_db()
    assert (course.paused, course.pause_reason, course.status) == (
        True,
        "R8: systolic 170",
        CourseStatus.ACTIVE,
    )

    assert course_resume(course_id=course.pk, now=NOW)
    assert not course_resume(course_id=course.pk, now=NOW)
    course.refresh_from_db()
    assert (course.paused, course.pause_reason) == (False, "")


def test_completing_or_cancelling_lifts_a_pause(practice: Practice) -> None:
    paused, cancelled = (
        course_in(practice, CourseStatus.ACTIVE),
        course_in(practice, CourseStatus.PLANNED),
    )
    for course in (paused, cancelled):
        course_pause(course_id=course.pk, reason="R8", now=NOW)

    course_complete(course_id=paused.pk, now=NOW)
    course_mark_cancelled(course_id=cancelled.pk, now=NOW)

    for course in (paused, cancelled):
        course.refresh_from_db()
        assert not course.paused
