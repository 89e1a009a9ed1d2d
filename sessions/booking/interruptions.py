"""R13: a course with more than two missed sessions in a row is interrupted, and a missed
session is offered times to rebook it within the course's cadence."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count

from courses.lifecycle import OPEN_STATUSES, course_interrupt
from courses.models import Course
from courses.rules import r10_gap_days, r13_interrupts
from practice.calendar import from_epoch
from sessions.availability import calendar_load
from sessions.models import ACTIVE, Session, missed_filter, r13_positions


def r13_flag_if_interrupted(course: Course, *, now: datetime) -> bool:
    """R13: more than two missed sessions in a row mark a planned or active course
    interrupted. The caller holds the course's row lock. True when the course was flagged."""
    sessions = course.sessions.only("sequence", "status", "late_cancellation")
    if not r13_interrupts(r13_positions(sessions)):
        return False
    return course_interrupt(course_id=course.pk, now=now)


def courses_flag_interrupted(*, now: datetime) -> int:
    """R13 as a sweep, behind the flag set when a session is cancelled or missed: any planned
    or active course with more than two missed sessions in a row is marked interrupted. Safe to
    run twice: a flagged course is no longer planned or active. Returns how many were flagged."""
    candidates = (
        Course.objects.filter(status__in=OPEN_STATUSES)
        .annotate(missed=Count("sessions", filter=missed_filter("sessions__")))
        .filter(missed__gt=2)
        .values_list("pk", flat=True)
    )
    flagged = 0
    for course_id in list(candidates):
        with transaction.atomic():
            # The same lock session_cancel takes, so a sweep and a cancel never both decide.
            course = Course.objects.select_for_update().get(pk=course_id)
            if r13_flag_if_interrupted(course, now=now):
                flagged += 1
    return flagged


def r13_rebook_options(
    *, session: Session, course: Course, now: datetime, limit: int = 12
) -> tuple[datetime, ...]:
    """Free times for the same therapist and length from the cancelled day up to the day
    before the course's next session (or one cadence gap later for the last one)."""
    practice = session.practice
    zone = practice.zone
    day = max(session.starts_at.astimezone(zone).date(), now.astimezone(zone).date())
    booked_days = sorted(
        s.astimezone(zone).date()
        for s in course.sessions.filter(ACTIVE).values_list("starts_at", flat=True)
    )
    later = [d for d in booked_days if d > day]
    last = (
        later[0] - timedelta(days=1)
        if later
        else day + timedelta(days=r10_gap_days(course.cadence))
    )
    if last < day:
        return ()
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[session.therapist_id],
        first=day,
        last=last,
        now=now,
        patient_id=session.patient_id,
        massage_type_id=session.massage_type_id,
    )
    taken_days = set(booked_days)
    options = []
    for start in calendar.free_starts(session.therapist_id, day, last, session.minutes):
        moment = from_epoch(start)
        if moment.astimezone(zone).date() not in taken_days:
            options.append(moment)
        if len(options) >= limit:
            break
    return tuple(options)
