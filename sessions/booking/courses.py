"""Planning, booking and cancelling courses as sessions (R9 to R12, R14; screening R1 to R8
via patients). The course's own rules are `courses.services`; its status is written only by
`courses.lifecycle`.

`course_plan()` saves nothing: it checks the rules, then lays out the sessions. `course_book()`
books a plan (the one the client was shown, or a fresh one) in one transaction: all sessions
or none, and a session taken since the plan was shown fails the whole booking naming it.
`course_cancel()` calls a course off with its sessions still to come and their reminders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.lifecycle import course_mark_cancelled
from courses.models import Course
from courses.planning import NoOpenDay, PlannedSession, plan_sessions
from courses.rules import (
    r10_cadence_error,
    r14_minutes,
)
from courses.services import (
    CoursePlan,
    CourseRequest,
    course_overrides,
    course_overrides_record,
    course_request_validate,
    course_rule_findings,
    course_screening_findings,
)
from patients.models import Patient
from practice.calendar import Calendar, epoch, horizon_end
from practice.errors import Conflict
from practice.models import Practice, Room, User
from sessions.availability import calendar_load
from sessions.booking.conflicts import (
    conflict,
    conflicting_session,
    lost_race_conflict,
    r23_refusal,
    taken_conflict,
)
from sessions.booking.rooms import room_suitability_validate, room_write, rooms_choose
from sessions.booking.sessions import booking_inputs_validate, require_qualified
from sessions.models import Session, SessionStatus
from sessions.reminders.outbox import (
    reminders_after_course_booked,
    reminders_after_course_cancelled,
)
from sessions.signals import course_cancelled, session_time_freed

logger = logging.getLogger(__name__)


def _validate(request: CourseRequest, now: datetime) -> None:
    course_request_validate(request, now)
    booking_inputs_validate(
        practice=request.practice,
        patient=request.patient,
        therapist=request.therapist,
        massage_type=request.massage_type,
    )


def _rooms(
    request: CourseRequest, planned: Sequence[PlannedSession], calendar: Calendar
) -> list[Room | None]:
    """The room of each planned session: the one asked for (the calendar found it free), or
    a free one that suits the type (R19)."""
    if request.room is not None:
        return [request.room] * len(planned)
    buffer = timedelta(minutes=request.practice.settings.buffer_minutes)
    return rooms_choose(
        calendar,
        practice=request.practice,
        massage_type=request.massage_type,
        spans=[(item.starts_at, item.ends_at + buffer) for item in planned],
    )


def _calendar(request: CourseRequest, now: datetime) -> tuple[Calendar, date]:
    practice = request.practice
    last_day = (
        (horizon_end(request.practice, now) - timedelta(seconds=1)).astimezone(practice.zone).date()
    )
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[request.therapist.pk],
        first=request.start_date,
        last=last_day,
        now=now,
        room=request.room,
        patient_id=request.patient.pk,
        massage_type_id=request.massage_type.pk,
    )
    require_qualified(calendar.qualified, request.therapist)
    room_suitability_validate(calendar, request.massage_type, request.room)
    return calendar, last_day


def _lay_out(
    request: CourseRequest, calendar: Calendar, last_day: date
) -> tuple[PlannedSession, ...]:
    try:
        return plan_sessions(
            calendar=calendar,
            therapist_id=request.therapist.pk,
            start_date=request.start_date,
            count=request.sessions_count,
            cadence=request.cadence,
            preferred_time=request.preferred_time,
            default_minutes=request.massage_type.default_minutes,
            last_day=last_day,
        )
    except NoOpenDay as exc:
        raise Conflict(
            {
                "detail": str(
                    _(
                        "Session %(n)d finds no open day up to %(last)s (the booking horizon): "
                        "start earlier, choose fewer sessions or another therapist."
                    )
                    % {"n": exc.sequence, "last": exc.last_day.isoformat()}
                ),
                "sequence": exc.sequence,
            }
        ) from exc


def course_plan(*, request: CourseRequest, now: datetime | None = None) -> CoursePlan:
    """Propose the sessions of a course without saving anything."""
    now = now or timezone.now()
    _validate(request, now)
    warnings, _screening_id = course_screening_findings(request)
    rule_warnings, proposed = course_rule_findings(request)
    calendar, last_day = _calendar(request, now)
    planned = _lay_out(request, calendar, last_day)
    # Refused now rather than at booking: no room suits the type, or none is free then.
    _rooms(request, planned, calendar)
    return CoursePlan(
        request=request,
        sessions=planned,
        warnings=(*rule_warnings, *warnings),
        proposed_massage_type=proposed,
        override_required=bool(rule_warnings),
    )


def _check_submitted(
    request: CourseRequest, starts: Sequence[datetime], calendar: Calendar
) -> tuple[PlannedSession, ...]:
    """The plan the client was shown, checked again now: R9, R10, R14, R23, then R19."""
    practice = request.practice
    zone = practice.zone
    if len(starts) != request.sessions_count:
        raise ValidationError(
            {"sessions": _("Give one start per session (%(n)d).") % {"n": request.sessions_count}}
        )
    if any(timezone.is_naive(s) for s in starts):
        raise ValidationError({"sessions": _("Give the times with their UTC offset.")})
    # R24: in UTC, so each session's end is its start plus its length in real time.
    ordered = sorted(s.astimezone(UTC) for s in starts)
    days = [s.astimezone(zone).date() for s in ordered]
    if days[0] < request.start_date:
        raise ValidationError({"sessions": _("No session may come before the start date.")})
    if finding := r10_cadence_error(days, request.cadence):
        raise ValidationError({"sessions": f"{finding.rule}: {finding.message}"})
    sessions = []
    for sequence, starts_at in enumerate(ordered, start=1):
        minutes = r14_minutes(sequence, request.massage_type.default_minutes)
        start = epoch(starts_at)
        if not calendar.is_free(request.therapist.pk, start, minutes):
            _unavailable(request, calendar, sequence, starts_at, minutes)
        sessions.append(
            PlannedSession(sequence=sequence, starts_at=starts_at, minutes=minutes, due_day=days[0])
        )
    return tuple(sessions)


def _unavailable(
    request: CourseRequest, calendar: Calendar, sequence: int, starts_at: datetime, minutes: int
) -> None:
    practice = request.practice
    local = starts_at.astimezone(practice.zone)
    body: dict[str, object] = {
        "detail": str(
            _("Session %(n)d on %(when)s is no longer available; plan the course again.")
            % {"n": sequence, "when": local.strftime("%Y-%m-%d %H:%M")}
        ),
        "sequence": sequence,
        "starts_at": local.isoformat(),
    }
    reason = r23_refusal(calendar, request.therapist.pk, epoch(starts_at), minutes)
    if reason is not None:
        body["reason"] = reason
    else:
        taken = conflicting_session(
            practice=practice,
            therapist_id=request.therapist.pk,
            room_id=request.room.pk if request.room else None,
            patient_id=request.patient.pk,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            buffer=timedelta(minutes=practice.settings.buffer_minutes),
        )
        if taken is not None:
            named = conflict(
                taken,
                practice,
                therapist_id=request.therapist.pk,
                room_id=request.room.pk if request.room else None,
                patient_id=request.patient.pk,
            )
            body["conflicts_with"] = named.body["conflicts_with"]
    raise Conflict(body)


def course_book(
    *,
    request: CourseRequest,
    starts: Sequence[datetime] | None = None,
    override_reason: str = "",
    may_override: bool = False,
    booked_by: User | None = None,
    now: datetime | None = None,
) -> Course:
    """Book a course and all its sessions atomically.

    `starts` are the session times of a plan shown earlier (None: plan now and book that).
    R12's warning needs `override_reason` from someone who `may_override` (staff).
    """
    now = now or timezone.now()
    practice = request.practice
    _validate(request, now)
    with transaction.atomic():
        # One booking per patient at a time: R11 counts the patient's courses, and two
        # concurrent bookings must not both count four.
        Patient.objects.select_for_update().filter(pk=request.patient.pk).first()
        warnings, screening_id = course_screening_findings(request)
        rule_warnings, proposed = course_rule_findings(request)
        overrides = course_overrides(
            rule_warnings=rule_warnings,
            proposed=proposed,
            override_reason=override_reason,
            may_override=may_override,
        )
        calendar, last_day = _calendar(request, now)
        planned = (
            _lay_out(request, calendar, last_day)
            if starts is None
            else _check_submitted(request, starts, calendar)
        )
        course = Course(
            practice=practice,
            patient=request.patient,
            therapist=request.therapist,
            massage_type=request.massage_type,
            room=request.room,
            screening_id=screening_id,
            sessions_count=request.sessions_count,
            cadence=request.cadence,
            # The day the course really starts: the requested one may have been closed (R10).
            start_date=planned[0].starts_at.astimezone(practice.zone).date(),
            preferred_time=request.preferred_time,
            warnings=[
                {"rule": w.rule, "code": w.code, "message": w.message}
                for w in (*rule_warnings, *warnings)
            ],
            created_by=booked_by,
        )
        # Related rows come from practice-scoped lookups (checked above), so skip the
        # one-query-per-foreign-key existence checks.
        course.full_clean(exclude=_RELATIONS, validate_constraints=False)
        buffer = timedelta(minutes=practice.settings.buffer_minutes)
        rows = [
            Session(
                practice=practice,
                course=course,
                sequence=item.sequence,
                patient=request.patient,
                therapist=request.therapist,
                room=room,
                massage_type=request.massage_type,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                blocks_until=item.ends_at + buffer,
                booked_by=booked_by,
            )
            for item, room in zip(planned, _rooms(request, planned, calendar), strict=True)
        ]

        def pick_rooms() -> None:
            # A concurrent booking took a room picked: the calendar as it is now.
            now_calendar, _last_day = _calendar(request, now)
            for row, room in zip(rows, _rooms(request, planned, now_calendar), strict=True):
                row.room = room

        def insert() -> None:
            # Repeatable after a deadlock's rollback to the savepoint (see r19_write).
            course.pk = None
            course._state.adding = True
            course.save()
            for row in rows:
                row.pk = None
                row.course = course
            Session.objects.bulk_create(rows)

        room_write(
            insert,
            lambda: _first_lost(practice, rows),
            pick_again=pick_rooms if request.room is None else None,
        )
        course_overrides_record(course=course, overrides=overrides)
        # R21: the course's confirmation and reminders commit with it or not at all.
        reminders_after_course_booked(course, rows, now=now)
    for override in overrides:
        logger.info(
            "override %s on course %s by %s: %s",
            override.rule,
            course.pk,
            booked_by.pk if booked_by else None,
            override.reason,
        )
    return course


_RELATIONS = [
    "practice",
    "patient",
    "therapist",
    "massage_type",
    "room",
    "screening",
    "created_by",
]


def _first_lost(practice: Practice, rows: list[Session]) -> Conflict:
    """After a lost race, name the first session of the course that is now taken."""
    for row in rows:
        # The rows' ids are those of the rolled-back insert: excluding them excludes nothing.
        named = taken_conflict(practice, row)
        if named is not None:
            return Conflict({"detail": named.detail, **named.body, "sequence": row.sequence})
    return lost_race_conflict(practice, rows[0])


@dataclass(frozen=True)
class CourseCancellation:
    course: Course
    # The course's sessions still to come that were cancelled with it.
    sessions_cancelled: int


def course_cancel(
    *, course: Course, by: User | None, reason: str = "", now: datetime | None = None
) -> CourseCancellation:
    """Cancel a course as a whole, in one transaction: its status (through the lifecycle), its
    sessions still to come (never a patient's late cancellation: the course was called off)
    and every pending reminder of the course and its sessions (R22). A session already begun
    keeps its state. A course already completed or cancelled is a conflict."""
    now = now or timezone.now()
    with transaction.atomic():
        # The course's lock, as session_cancel and the R13 sweep take it: none of them decides
        # on a course another is changing.
        locked = Course.objects.select_for_update().get(pk=course.pk)
        if not course_mark_cancelled(course_id=locked.pk, now=now):
            raise Conflict(
                {
                    "detail": str(
                        _("This course is %(status)s; it can no longer be cancelled.")
                        % {"status": locked.get_status_display().lower()}
                    ),
                    "course_status": locked.status,
                }
            )
        to_come = Session.objects.filter(
            course=locked, status=SessionStatus.BOOKED, starts_at__gt=now
        )
        # Their times, read under the course's lock before they are freed, for the waitlist.
        freed = list(to_come.select_for_update())
        cancelled = to_come.update(
            status=SessionStatus.CANCELLED,
            cancelled_by=by,
            cancelled_at=now,
            cancellation_reason=reason[:300],
            late_cancellation=False,
            updated_at=now,
        )
        reminders_after_course_cancelled(locked, sessions_cancelled=cancelled, now=now)
        for session in freed:
            session_time_freed.send(
                sender=Session,
                session=session,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                schedule_version=session.schedule_version,
                now=now,
            )
        locked.refresh_from_db()
        course_cancelled.send(sender=Course, course=locked, by=by, now=now)
    logger.info("course %s cancelled by %s with %d sessions", locked.pk, by, cancelled)
    return CourseCancellation(course=locked, sessions_cancelled=cancelled)
