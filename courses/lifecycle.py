"""A course's lifecycle: the only code that writes a course's status (and its pause).

    planned ──first session starts──▶ active ──nothing left to come──▶ completed
    planned / active ──R13: more than two missed in a row──▶ interrupted
    planned / active / interrupted ──the desk cancels it──▶ cancelled

A pause (R8: a check-in stopped a session) sits beside the status until the course's next
session starts: a paused course is still planned or active, and R13 may still interrupt it.

Each transition is one conditional UPDATE whose row count says whether it happened, so of two
workers, or a worker and the desk, only one decides; each is safe to run twice. What a
transition means for the course's sessions (cancelling them, offering rebooking times) is
decided in `sessions/`, which calls these.
"""

from __future__ import annotations

import logging
from datetime import datetime

from courses.models import Course, CourseStatus

logger = logging.getLogger(__name__)

OPEN_STATUSES = (CourseStatus.PLANNED, CourseStatus.ACTIVE)
CANCELLABLE_STATUSES = (*OPEN_STATUSES, CourseStatus.INTERRUPTED)


def course_activate(*, course_id: int, now: datetime) -> bool:
    """Whichever session of the course starts first activates it."""
    return bool(
        Course.objects.filter(pk=course_id, status=CourseStatus.PLANNED).update(
            status=CourseStatus.ACTIVE, updated_at=now
        )
    )


def course_pause(*, course_id: int, reason: str, now: datetime) -> bool:
    """R8: a check-in stopped a session; the course waits for its next session to start."""
    return bool(
        Course.objects.filter(pk=course_id).update(
            paused_at=now, pause_reason=reason[:300], updated_at=now
        )
    )


def course_resume(*, course_id: int, now: datetime) -> bool:
    return bool(
        Course.objects.filter(pk=course_id, paused_at__isnull=False).update(
            paused_at=None, pause_reason="", updated_at=now
        )
    )


def course_complete(*, course_id: int, now: datetime) -> bool:
    """Nothing is left to come. An interrupted course (R13) keeps its flag."""
    return bool(
        Course.objects.filter(pk=course_id, status__in=OPEN_STATUSES).update(
            status=CourseStatus.COMPLETED, paused_at=None, pause_reason="", updated_at=now
        )
    )


def course_interrupt(*, course_id: int, now: datetime) -> bool:
    """R13: more than two missed sessions in a row."""
    interrupted = bool(
        Course.objects.filter(pk=course_id, status__in=OPEN_STATUSES).update(
            status=CourseStatus.INTERRUPTED, updated_at=now
        )
    )
    if interrupted:
        logger.info("R13: course %s flagged interrupted at %s", course_id, now)
    return interrupted


def course_mark_cancelled(*, course_id: int, now: datetime) -> bool:
    """The course as a whole is called off. False when it had already ended."""
    return bool(
        Course.objects.filter(pk=course_id, status__in=CANCELLABLE_STATUSES).update(
            status=CourseStatus.CANCELLED, paused_at=None, pause_reason="", updated_at=now
        )
    )
