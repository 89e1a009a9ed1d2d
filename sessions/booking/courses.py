"""Planning and booking courses (R9 to R12, R14; screening R1 to R8 via patients).

`course_plan()` saves nothing: it checks the rules, then lays out the sessions. `course_book()`
books a plan (the one the client was shown, or a fresh one) in one transaction: all sessions
or none, and a session taken since the plan was shown fails the whole booking naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import DEFAULT_SESSIONS, Cadence, Course, CourseStatus
from courses.planning import NoOpenDay, PlannedSession, plan_sessions
from courses.rules import (
    Finding,
    r9_sessions_count_error,
    r10_cadence_error,
    r11_yearly_limit_error,
    r12_next_type,
    r12_repeats_previous,
    r14_minutes,
)
from patients.models import Patient
from patients.services import patient_may_receive
from practice.api_errors import Conflict
from practice.models import MassageType, Practice, Room, Therapist, User
from sessions.availability import Calendar, calendar_load, epoch, horizon_end
from sessions.models import Session
from sessions.reminders import reminders_after_course_booked
from sessions.services import (
    booking_inputs_validate,
    conflict,
    conflicting_session,
    lost_race_conflict,
    r19_write,
    r23_refusal,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CourseRequest:
    """What a course is asked to be; planning and booking both start from it."""

    practice: Practice
    patient: Patient
    therapist: Therapist
    massage_type: MassageType
    start_date: date
    preferred_time: time
    sessions_count: int = DEFAULT_SESSIONS
    cadence: Cadence | str = Cadence.EVERY_OTHER_DAY
    room: Room | None = None


@dataclass(frozen=True)
class CoursePlan:
    request: CourseRequest
    sessions: tuple[PlannedSession, ...]
    warnings: tuple[Finding, ...]
    # R12: the type the rotation proposes instead, when the requested one repeats the last.
    proposed_massage_type: MassageType | None
    override_required: bool


def _finding(rule: str, code: str, message: object) -> Finding:
    return Finding(rule, code, str(message))


def _screening_findings(request: CourseRequest) -> tuple[list[Finding], int | None]:
    """R1 to R8 through the patients app: refuse with its reasons, keep its warnings, and
    name the screening that opens the course."""
    eligibility = patient_may_receive(
        patient=request.patient, massage_type=request.massage_type, on=request.start_date
    )
    if not eligibility.allowed:
        raise ValidationError(
            {
                "patient": [f"{reason.rule}: {reason.message}" for reason in eligibility.reasons]
                or [str(_("The screening does not allow this massage type."))]
            }
        )
    warnings = [_finding(w.rule, w.code, w.message) for w in eligibility.warnings]
    return warnings, eligibility.screening_id


def _validate_request(request: CourseRequest, now: datetime) -> None:
    errors: dict[str, object] = {}
    if finding := r9_sessions_count_error(request.sessions_count):
        errors["sessions_count"] = f"R9: {finding.message}"
    if request.cadence not in Cadence.values:
        errors["cadence"] = _("Choose daily or every other day (R10).")
    practice = request.practice
    today = now.astimezone(practice.zone).date()
    if request.start_date < today:
        errors["start_date"] = _("The course cannot start in the past.")
    elif request.start_date > today + timedelta(days=practice.settings.booking_horizon_days):
        errors["start_date"] = _("This is beyond the booking horizon.")
    room = request.room
    if room is not None and (room.practice_id != practice.pk or not room.active):
        errors["room"] = _("Choose an active room of this practice.")
    if errors:
        raise ValidationError(errors)
    booking_inputs_validate(
        practice=practice,
        patient=request.patient,
        therapist=request.therapist,
        massage_type=request.massage_type,
    )


def _rules_findings(request: CourseRequest) -> tuple[list[Finding], MassageType | None]:
    """R11 (block) and R12 (warn and propose the next type in the rotation)."""
    practice, patient = request.practice, request.patient
    earlier = list(
        Course.objects.for_practice(practice)
        .filter(patient=patient)
        .exclude(status=CourseStatus.CANCELLED)
        .order_by("start_date", "id")
        .values_list("start_date", "massage_type_id", "therapist_id")
    )
    if finding := r11_yearly_limit_error([row[0] for row in earlier], request.start_date):
        raise ValidationError({"start_date": f"{finding.rule}: {finding.message}"})
    before = [row for row in earlier if row[0] <= request.start_date]
    previous_type_id, previous_therapist_id = before[-1][1:] if before else (None, None)
    repeat = r12_repeats_previous(
        previous_type_id=previous_type_id,
        previous_therapist_id=previous_therapist_id,
        type_id=request.massage_type.pk,
        therapist_id=request.therapist.pk,
    )
    if repeat is None:
        return [], None
    qualified = request.therapist.massage_types.through.objects.filter(
        therapist_id=request.therapist.pk, massagetype_id=OuterRef("pk")
    )
    catalogue = list(
        MassageType.objects.for_practice(practice)
        .filter(active=True)
        .annotate(qualified=Exists(qualified))
        .order_by("rotation_order", "name")
    )
    rotation = [t.pk for t in catalogue]
    by_id = {t.pk: t for t in catalogue}
    candidates = {t.pk for t in catalogue if t.qualified}
    # Skip the types the screening blocks, asking only as far down the rotation as needed.
    while (proposed_id := r12_next_type(rotation, request.massage_type.pk, candidates)) is not None:
        if patient_may_receive(
            patient=patient, massage_type=by_id[proposed_id], on=request.start_date
        ).allowed:
            return [repeat], by_id[proposed_id]
        candidates.discard(proposed_id)
    return [repeat], None


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
    )
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
    _validate_request(request, now)
    warnings, _screening_id = _screening_findings(request)
    rule_warnings, proposed = _rules_findings(request)
    calendar, last_day = _calendar(request, now)
    return CoursePlan(
        request=request,
        sessions=_lay_out(request, calendar, last_day),
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
    ordered = sorted(starts)
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
    _validate_request(request, now)
    with transaction.atomic():
        # One booking per patient at a time: R11 counts the patient's courses, and two
        # concurrent bookings must not both count four.
        Patient.objects.select_for_update().filter(pk=request.patient.pk).first()
        warnings, screening_id = _screening_findings(request)
        rule_warnings, proposed = _rules_findings(request)
        overrides = []
        if rule_warnings:
            reason = override_reason.strip()
            if not reason:
                hint = (
                    _(" The rotation proposes %(type)s.") % {"type": proposed.name}
                    if proposed
                    else ""
                )
                first = rule_warnings[0]
                raise ValidationError({"override_reason": f"{first.rule}: {first.message}{hint}"})
            if not may_override:
                raise ValidationError(
                    {"override_reason": _("Only the practice's staff may override a rule.")}
                )
            overrides = [
                {
                    "rule": finding.rule,
                    "reason": reason,
                    "by": booked_by.pk if booked_by else None,
                    "at": now.isoformat(),
                }
                for finding in rule_warnings
            ]
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
            override_reasons=overrides,
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
                room=request.room,
                massage_type=request.massage_type,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                blocks_until=item.ends_at + buffer,
                booked_by=booked_by,
            )
            for item in planned
        ]

        def insert() -> None:
            # Repeatable after a deadlock's rollback to the savepoint (see r19_write).
            course.pk = None
            course._state.adding = True
            course.save()
            for row in rows:
                row.pk = None
                row.course = course
            Session.objects.bulk_create(rows)

        r19_write(insert, lambda: _first_lost(practice, rows))
        # R21: the course's confirmation and reminders commit with it or not at all.
        reminders_after_course_booked(course, rows, now=now)
    for finding in overrides:
        logger.info(
            "override %s on course %s by %s: %s",
            finding["rule"],
            course.pk,
            finding["by"],
            finding["reason"],
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
        taken = conflicting_session(
            practice=practice,
            therapist_id=row.therapist_id,
            room_id=row.room_id,
            patient_id=row.patient_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            buffer=row.blocks_until - row.ends_at,
        )
        if taken is not None:
            named = conflict(
                taken,
                practice,
                therapist_id=row.therapist_id,
                room_id=row.room_id,
                patient_id=row.patient_id,
            )
            body = {"detail": str(named.detail), **named.body, "sequence": row.sequence}
            return Conflict(body)
    return lost_race_conflict(practice, rows[0])
