"""What happens to courses between bookings: when the next one is due (R11), which type it
should be (R12), and flagging interrupted courses (R13). Called by the lifecycle tasks in
`sessions/tasks.py` and by `sessions.reminders`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q

from courses.models import Course, CourseStatus
from courses.rules import MAX_COURSES_PER_YEAR, YEAR, r11_yearly_limit_error, r12_next_type
from patients.selectors import patient_screening_status
from patients.services import screening_eligibility
from practice.models import MassageType

logger = logging.getLogger(__name__)

# R11: two to four courses a year, spread through it: the next one a quarter after the last.
SPREAD = timedelta(days=365 // MAX_COURSES_PER_YEAR)


def r11_next_course_due_on(existing_starts: Iterable[date], last_start: date) -> date:
    """R11: a quarter after the last course started, later if a course starting then would be
    the fifth in some 365 days: then the day the oldest course in the way leaves the window."""
    starts = sorted(existing_starts)
    due = last_start + SPREAD
    while r11_yearly_limit_error(starts, due) is not None:
        # The earliest start that still shares a 365-day window with `due`; `due` moves to
        # the day it drops out, so the loop always advances and ends.
        oldest = min(s for s in starts if due - s < YEAR)
        due = oldest + YEAR
    return due


def r12_proposed_type(course: Course) -> MassageType | None:
    """R12: the type after this course's in the practice's rotation that the patient's latest
    screening does not block (as of that screening: it will have expired by the next course,
    when a new one is taken), or None."""
    catalogue = list(
        MassageType.objects.for_practice(course.practice_id)
        .filter(active=True)
        .order_by("rotation_order", "name")
    )
    by_id = {t.pk: t for t in catalogue}
    status = patient_screening_status(patient=course.patient, on=course.start_date)
    screening = status.screening or course.screening
    candidates = set(by_id)
    rotation = [t.pk for t in catalogue]
    while (proposed := r12_next_type(rotation, course.massage_type_id, candidates)) is not None:
        if (
            screening is None
            or screening_eligibility(
                screening=screening,
                patient=course.patient,
                massage_type=by_id[proposed],
                on=screening.screened_on,
            ).allowed
        ):
            return by_id[proposed]
        candidates.discard(proposed)
    return None


def course_has_later_course(course: Course) -> bool:
    return (
        Course.objects.for_practice(course.practice_id)
        .filter(patient_id=course.patient_id, start_date__gt=course.start_date)
        .exclude(status=CourseStatus.CANCELLED)
        .exists()
    )


def course_starts_of_patient(course: Course) -> list[date]:
    return list(
        Course.objects.for_practice(course.practice_id)
        .filter(patient_id=course.patient_id)
        .exclude(status=CourseStatus.CANCELLED)
        .values_list("start_date", flat=True)
    )


def courses_flag_interrupted(*, now: datetime) -> int:
    """R13 as a sweep, behind the flag set when a session is cancelled or missed: any planned
    or active course with more than two missed sessions in a row is marked interrupted. Safe to
    run twice: a flagged course is no longer planned or active. Returns how many were flagged."""
    # sessions.services imports the reminders, which import this module: import at call time.
    from sessions.models import FREEING_STATUSES
    from sessions.services import r13_flag_if_interrupted

    candidates = (
        Course.objects.filter(status__in=[CourseStatus.PLANNED, CourseStatus.ACTIVE])
        .annotate(missed=Count("sessions", filter=Q(sessions__status__in=FREEING_STATUSES)))
        .filter(missed__gt=2)
        .values_list("pk", flat=True)
    )
    flagged = 0
    for course_id in list(candidates):
        with transaction.atomic():
            # The same lock session_cancel takes, so a sweep and a cancel never both decide.
            course = Course.objects.select_for_update().get(pk=course_id)
            if course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE) and (
                r13_flag_if_interrupted(course)
            ):
                flagged += 1
                logger.info("R13: course %s flagged interrupted at %s", course_id, now)
    return flagged
