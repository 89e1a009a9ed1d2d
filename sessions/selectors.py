"""Reads of sessions that a request may see, and of courses with their sessions (progress,
R13's missed run, pain and blood pressure per session; when the last course ended, for the
patients due for their next one, R11)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate

from courses.models import Course, CourseStatus
from courses.rules import r13_interrupts, r13_longest_missed_run
from courses.selectors import CourseDue, patients_due_for_course
from patients.models import Patient
from patients.selectors import (
    patients_visible_to,
    therapist_sees_own_patients_only,
    valid_screening_exists,
)
from practice.calendar import local_range
from practice.models import Membership, Practice, Role, Therapist
from sessions.models import (
    FREEING_STATUSES,
    HELD_STATUSES,
    CheckIn,
    Reminder,
    ReminderStatus,
    Session,
    SessionRecord,
    SessionStatus,
    missed_filter,
    r13_positions,
)


def session_list(
    *,
    membership: Membership,
    first: date | None = None,
    last: date | None = None,
    **filters: object,
) -> QuerySet[Session]:
    """The practice's sessions (a patient's own only, a therapist's patients' only unless the
    practice says otherwise: `patients_visible_to`), from local day `first` to `last`,
    with what the list shows joined in, so a page costs one query however long it is."""
    practice = membership.practice
    sessions = with_screening_needed(
        Session.objects.for_practice(practice).select_related(
            "patient", "therapist", "massage_type", "room"
        ),
        practice,
    )
    if membership.role == Role.PATIENT:
        sessions = sessions.filter(patient__user=membership.user_id)
    elif therapist_sees_own_patients_only(membership):
        sessions = sessions.filter(patient__in=patients_visible_to(membership=membership))
    if first is not None:
        sessions = sessions.filter(starts_at__gte=local_range(practice, first, first)[0])
    if last is not None:
        sessions = sessions.filter(starts_at__lt=local_range(practice, last, last)[1])
    return sessions.filter(**{name: value for name, value in filters.items() if value})


def with_screening_needed(sessions: QuerySet[Session], practice: Practice) -> QuerySet[Session]:
    """Each session's `screening_needed`, in the same query: staff booked it ahead of a
    screening (R1) and none is valid on its local day yet, nor did a screening open its
    course. It may still be checked in, but it will not start until the patient is screened.
    `screening_to_confirm`: the same for a first visit the patient booked online on their own
    questionnaire, which staff confirm at check-in."""
    needed = (
        Q(status__in=(SessionStatus.BOOKED, SessionStatus.CHECKED_IN))
        & Q(course__screening__isnull=True)
        & ~valid_screening_exists(patient=OuterRef("patient_id"), on=OuterRef("local_day"))
    )
    return sessions.alias(local_day=TruncDate("starts_at", tzinfo=practice.zone)).annotate(
        screening_needed=ExpressionWrapper(needed, output_field=BooleanField()),
        screening_to_confirm=ExpressionWrapper(
            needed & Q(self_report__isnull=False), output_field=BooleanField()
        ),
    )


def session_screening_needed(session: Session) -> bool:
    """`screening_needed` of one session, as the lists compute it."""
    sessions = with_screening_needed(Session.objects.filter(pk=session.pk), session.practice)
    # The stubs do not see the annotation `with_screening_needed` adds.
    return sessions.filter(screening_needed=True).exists()  # type: ignore[misc]


def patient_reminders(*, patient: Patient, limit: int = 20) -> QuerySet[Reminder]:
    """A patient's latest reminders, sent or not, newest first (for the staff record page)."""
    return (
        Reminder.objects.for_practice(patient.practice_id)
        .filter(patient=patient)
        .order_by("-due_at", "-id")[:limit]
    )


def failed_reminders(*, practice: Practice, first: date, last: date) -> QuerySet[Reminder]:
    """The practice's failed reminders for the desk's days: those about a session on them,
    and those that failed on them (R21)."""
    start, end = local_range(practice, first, last)
    return (
        Reminder.objects.for_practice(practice)
        .filter(status=ReminderStatus.FAILED)
        .filter(
            Q(session__starts_at__gte=start, session__starts_at__lt=end)
            | Q(updated_at__gte=start, updated_at__lt=end)
        )
        .select_related("patient", "session")
        .order_by("due_at", "id")
    )


# --- Courses with their sessions --------------------------------------------------------------


def course_list(*, membership: Membership, with_sessions: bool = False) -> QuerySet[Course]:
    """The practice's courses of the patients `patients_visible_to` shows, with their
    progress counted in SQL."""
    freed = Q(sessions__status__in=FREEING_STATUSES)
    completed = Q(sessions__status=SessionStatus.COMPLETED)
    courses = (
        Course.objects.for_practice(membership.practice)
        .select_related("patient", "therapist", "massage_type", "room")
        .annotate(
            sessions_completed=Count("sessions", filter=completed),
            sessions_missed=Count("sessions", filter=missed_filter("sessions__")),
            sessions_booked=Count("sessions", filter=~freed),
        )
        # Meta.ordering does not apply to a grouped query; pagination needs an order.
        .order_by("-start_date", "-id")
    )
    if membership.role == Role.PATIENT:
        courses = courses.filter(patient__user=membership.user_id)
    elif therapist_sees_own_patients_only(membership):
        courses = courses.filter(patient__in=patients_visible_to(membership=membership))
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
    # Positions missed (no-show or late cancellation, R13) and not rebooked.
    missed: int
    # R13: the longest run of missed positions; more than two flags the course.
    missed_in_a_row: int
    flagged: bool
    paused: bool
    sessions: tuple[SessionProgress, ...]


def _record_of(session: Session) -> SessionRecord | None:
    try:
        return session.record
    except SessionRecord.DoesNotExist:
        return None


def _check_in_of(session: Session) -> CheckIn | None:
    try:
        return session.check_in
    except CheckIn.DoesNotExist:
        return None


def _session_progress(session: Session) -> SessionProgress:
    record = _record_of(session)
    check_in = _check_in_of(session)
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
    positions = r13_positions(rows)
    done = len({s.sequence for s in rows if s.status == SessionStatus.COMPLETED})
    held = {s.sequence for s in rows if s.is_active}
    missed = {s.sequence for s in rows if s.is_missed} - held
    return CourseProgress(
        planned=course.sessions_count,
        done=done,
        left=max(course.sessions_count - done, 0),
        to_come=sum(1 for s in rows if s.status in HELD_STATUSES),
        missed=len(missed),
        missed_in_a_row=r13_longest_missed_run(positions),
        flagged=course.status == CourseStatus.INTERRUPTED or r13_interrupts(positions),
        paused=course.paused,
        sessions=tuple(_session_progress(s) for s in rows),
    )


# --- Courses due (R11) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CourseDueRow:
    """A patient due for their next course as the front desk sees it (R11, R12)."""

    due: CourseDue
    # When the last course's last session that was not missed ended; None without one.
    last_course_ended_at: datetime | None


def courses_due(*, practice: Practice, today: date) -> list[CourseDueRow]:
    """R11: `patients_due_for_course` with when each last course ended. At most five queries
    however many are due."""
    due = patients_due_for_course(practice=practice, today=today)
    last_ids = [row.last_course.pk for row in due if row.last_course is not None]
    ended = dict(
        Session.objects.for_practice(practice)
        .filter(course_id__in=last_ids)
        .exclude(status__in=FREEING_STATUSES)
        .values("course_id")
        .annotate(ended_at=Max("ends_at"))
        .values_list("course_id", "ended_at")
    )
    return [
        CourseDueRow(
            due=row,
            last_course_ended_at=ended.get(row.last_course.pk) if row.last_course else None,
        )
        for row in due
    ]


# --- A therapist's day ------------------------------------------------------------------------


def therapist_day(*, therapist: Therapist, day: date) -> QuerySet[Session]:
    """A therapist's sessions on local `day` but the cancelled ones, in order, with what the
    rules of the day read (`session_clinical`) joined in, and each patient's notes from their
    last completed session before this one (`last_notes`, with any therapist), in one query."""
    practice = therapist.practice
    start, end = local_range(practice, day, day)
    last_notes = (
        SessionRecord.objects.filter(
            practice_id=therapist.practice_id,
            session__patient_id=OuterRef("patient_id"),
            session__status=SessionStatus.COMPLETED,
            session__starts_at__lt=OuterRef("starts_at"),
        )
        .order_by("-session__starts_at")
        .values("notes")[:1]
    )
    return (
        Session.objects.for_practice(practice)
        .filter(therapist=therapist, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related(
            "patient", "therapist", "massage_type", "room", "course__screening", "check_in"
        )
        .annotate(last_notes=Subquery(last_notes))
        .order_by("starts_at", "id")
    )
