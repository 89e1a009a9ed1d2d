"""Course rules that need the database (R1-R8 through patients, R9 to R12): what a course
request must satisfy before any session is laid out. Planning and booking the sessions
themselves live in `sessions.booking.courses`, which calls these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from courses.models import DEFAULT_SESSIONS, Cadence, Course, CourseStatus
from courses.planning import PlannedSession
from courses.rules import (
    Finding,
    r9_sessions_count_error,
    r11_yearly_limit_error,
    r12_next_type,
    r12_repeats_previous,
)
from patients.eligibility import patient_may_receive
from patients.models import Patient
from practice.audit.models import Action
from practice.audit.services import record
from practice.models import MassageType, Practice, Room, Therapist


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


def course_screening_findings(request: CourseRequest) -> tuple[list[Finding], int | None]:
    """R1 to R8 through the patients app: refuse with its reasons, keep its warnings, and
    name the screening that opens the course."""
    eligibility = patient_may_receive(
        patient=request.patient, massage_type=request.massage_type, on=request.start_date
    )
    if not eligibility.allowed:
        raise ValidationError(
            {
                "patient": [f"{reason.rule}: {reason.text}" for reason in eligibility.reasons]
                or [str(_("The screening does not allow this massage type."))]
            }
        )
    warnings = [_finding(w.rule, w.code, w.text) for w in eligibility.warnings]
    return warnings, eligibility.screening_id


def course_request_validate(request: CourseRequest, now: datetime) -> None:
    """R9, R10's cadence, a start date from today to the booking horizon, an active room."""
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


def course_rule_findings(request: CourseRequest) -> tuple[list[Finding], MassageType | None]:
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


@dataclass(frozen=True)
class Override:
    rule: str
    reason: str


def course_overrides(
    *,
    rule_warnings: list[Finding],
    proposed: MassageType | None,
    override_reason: str,
    may_override: bool,
) -> list[Override]:
    """R12: a warned rule is booked only with a reason, from someone who may override (staff).
    Returns the overrides to record with the course; refuses naming the rule otherwise."""
    if not rule_warnings:
        return []
    reason = override_reason.strip()
    if not reason:
        hint = _(" The rotation proposes %(type)s.") % {"type": proposed.name} if proposed else ""
        first = rule_warnings[0]
        raise ValidationError({"override_reason": f"{first.rule}: {first.message}{hint}"})
    if not may_override:
        raise ValidationError(
            {"override_reason": _("Only the practice's staff may override a rule.")}
        )
    return [Override(rule=finding.rule, reason=reason) for finding in rule_warnings]


def course_overrides_record(*, course: Course, overrides: list[Override]) -> None:
    """Each override is an entry of the audit trail (who, when, from where, and why), in the
    booking's transaction; the entry's values name the rule."""
    for override in overrides:
        record(
            action=Action.OVERRIDE,
            subject=course,
            patient_id=course.patient_id,
            reason=override.reason,
            values={"rule": override.rule},
        )
