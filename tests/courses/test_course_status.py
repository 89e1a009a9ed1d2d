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


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_only_a_planned_course_becomes_active(practice: Practice, status: CourseStatus) -> None:
    course = course_in(practice, status)

    changed = course_activate(course_id=course.pk, now=NOW)

    assert changed == (status == CourseStatus.PLANNED)
    assert status_of(course) == (CourseStatus.ACTIVE if changed else status)


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_only_an_open_course_completes(practice: Practice, status: CourseStatus) -> None:
    course = course_in(practice, status)

    changed = course_complete(course_id=course.pk, now=NOW)

    assert changed == (status in (CourseStatus.PLANNED, CourseStatus.ACTIVE))
    assert status_of(course) == (CourseStatus.COMPLETED if changed else status)


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_r13_only_an_open_course_is_interrupted(practice: Practice, status: CourseStatus) -> None:
    course = course_in(practice, status)

    changed = course_interrupt(course_id=course.pk, now=NOW)

    assert changed == (status in (CourseStatus.PLANNED, CourseStatus.ACTIVE))
    assert status_of(course) == (CourseStatus.INTERRUPTED if changed else status)


@pytest.mark.parametrize("status", EVERY_STATUS)
def test_a_course_is_cancelled_unless_it_has_ended(
    practice: Practice, status: CourseStatus
) -> None:
    course = course_in(practice, status)

    changed = course_mark_cancelled(course_id=course.pk, now=NOW)

    ended = status in (CourseStatus.COMPLETED, CourseStatus.CANCELLED)
    assert changed == (not ended)
    assert status_of(course) == (status if ended else CourseStatus.CANCELLED)


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
