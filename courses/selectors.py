"""Reads of courses: what a request may see, with progress; who is due for a course (R11)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from courses.models import Course, CourseStatus
from courses.rules import YEAR, r11_course_due, r13_interrupts, r13_longest_missed_run
from patients.models import Patient
from practice.models import Membership, Practice, Role
from sessions.models import FREEING_STATUSES, CheckIn, Session, SessionRecord, SessionStatus


def course_list(*, membership: Membership, with_sessions: bool = False) -> QuerySet[Course]:
    """The practice's courses (a patient's own only) with their progress counted in SQL."""
    missed = Q(sessions__status__in=FREEING_STATUSES)
    completed = Q(sessions__status=SessionStatus.COMPLETED)
    courses = (
        Course.objects.for_practice(membership.practice)
        .select_related("patient", "therapist", "massage_type")
        .annotate(
            sessions_completed=Count("sessions", filter=completed),
            sessions_missed=Count("sessions", filter=missed),
            sessions_booked=Count("sessions", filter=~missed),
        )
        # Meta.ordering does not apply to a grouped query; pagination needs an order.
        .order_by("-start_date", "-id")
    )
    if membership.role == Role.PATIENT:
        courses = courses.filter(patient__user=membership.user_id)
    if with_sessions:
        # The record and the check-in ride along (one-to-one joins) for course_progress().
        courses = courses.prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.select_related("record", "check_in").order_by(
                    "starts_at", "id"
                ),
            )
        )
    return courses


@dataclass(frozen=True)
class SessionProgress:
    """One session of a course as the trend shows it: pain (R18) and blood pressure (R7)."""

    session_id: int
    sequence: int | None
    starts_at: datetime
    status: str
    pain_before: int | None
    pain_after: int | None
    systolic_before: int | None
    diastolic_before: int | None
    systolic_after: int | None
    diastolic_after: int | None


@dataclass(frozen=True)
class CourseProgress:
    planned: int
    done: int
    # Positions not completed yet; `to_come` of them are booked.
    left: int
    to_come: int
    # Positions missed (cancelled or no-show) and not rebooked.
    missed: int
    # R13: the longest run of missed positions; more than two flags the course.
    missed_in_a_row: int
    flagged: bool
    paused: bool
    sessions: tuple[SessionProgress, ...]


HELD = (SessionStatus.BOOKED, SessionStatus.CHECKED_IN, SessionStatus.IN_PROGRESS)


def _related(session: Session, name: str) -> CheckIn | SessionRecord | None:
    try:
        return getattr(session, name)
    except (CheckIn.DoesNotExist, SessionRecord.DoesNotExist):
        return None


def _session_progress(session: Session) -> SessionProgress:
    record = _related(session, "record")
    check_in = _related(session, "check_in")
    systolic_before = diastolic_before = None
    if record is not None:
        systolic_before, diastolic_before = record.systolic_before, record.diastolic_before
    elif check_in is not None:
        # A session stopped at check-in (R8) has no record; its reading is what stopped it.
        systolic_before, diastolic_before = check_in.systolic, check_in.diastolic
    return SessionProgress(
        session_id=session.pk,
        sequence=session.sequence,
        starts_at=session.starts_at,
        status=session.status,
        pain_before=record.pain_before if record else None,
        pain_after=record.pain_after if record else None,
        systolic_before=systolic_before,
        diastolic_before=diastolic_before,
        systolic_after=record.systolic_after if record else None,
        diastolic_after=record.diastolic_after if record else None,
    )


def course_progress(course: Course, sessions: Iterable[Session] | None = None) -> CourseProgress:
    """Sessions done and left, R13's missed run, and pain and blood pressure per session.

    `sessions` are the course's sessions with `record` and `check_in` joined (as
    `course_list(with_sessions=True)` prefetches them); without them, one query reads them.
    """
    if sessions is None:
        sessions = Session.objects.filter(course=course).select_related("record", "check_in")
    rows = sorted(sessions, key=lambda s: (s.sequence or 0, s.starts_at, s.pk))
    positions = [(s.sequence or 0, s.status not in FREEING_STATUSES) for s in rows]
    done = len({s.sequence for s in rows if s.status == SessionStatus.COMPLETED})
    held = {s.sequence for s in rows if s.status not in FREEING_STATUSES}
    missed = {s.sequence for s in rows if s.status in FREEING_STATUSES} - held
    return CourseProgress(
        planned=course.sessions_count,
        done=done,
        left=max(course.sessions_count - done, 0),
        to_come=sum(1 for s in rows if s.status in HELD),
        missed=len(missed),
        missed_in_a_row=r13_longest_missed_run(positions),
        flagged=course.status == CourseStatus.INTERRUPTED or r13_interrupts(positions),
        paused=course.paused,
        sessions=tuple(_session_progress(s) for s in rows),
    )


def patients_due_for_course(*, practice: Practice, today: date) -> list[Patient]:
    """R11: patients in a chronic/prevention plan with fewer than two courses started in the
    last 365 days, for the "next course due" nudge. Two queries."""
    patients = list(
        Patient.objects.for_practice(practice).filter(chronic_plan=True, archived=False)
    )
    starts: dict[int, list[date]] = defaultdict(list)
    for patient_id, start_date in (
        Course.objects.for_practice(practice)
        .filter(patient__in=patients, start_date__gt=today - YEAR, start_date__lte=today)
        .exclude(status=CourseStatus.CANCELLED)
        .values_list("patient_id", "start_date")
    ):
        starts[patient_id].append(start_date)
    return [p for p in patients if r11_course_due(starts[p.pk], today, chronic_plan=True)]
