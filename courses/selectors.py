"""Reads of courses: a patient's earlier courses, who is due for one (R11) and which type the
rotation proposes next (R12). Reads that need the course's sessions live in
`sessions.selectors`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from courses.models import Course, CourseStatus
from courses.rules import NEXT_COURSE_NOTICE, r11_next_course_due_on, r12_next_type
from patients.models import Patient, Screening
from patients.screening import eligibility
from patients.selectors import latest_screenings, patient_screening_status
from practice.audit.models import Action, AuditEntry
from practice.models import MassageType, Practice


def previous_course(patient: Patient) -> Course | None:
    """The patient's latest course that was not cancelled (R12 compares with it)."""
    return (
        Course.objects.for_practice(patient.practice_id)
        .filter(patient=patient)
        .exclude(status=CourseStatus.CANCELLED)
        .select_related("massage_type", "therapist")
        .order_by("-start_date", "-id")
        .first()
    )


def course_booked_since(*, patient: Patient, course: Course | None) -> bool:
    """R11: has the patient a course (not cancelled) starting with or after `course`, other
    than it; any course at all when `course` is None? Then the next course is booked."""
    courses = (
        Course.objects.for_practice(patient.practice_id)
        .filter(patient=patient)
        .exclude(status=CourseStatus.CANCELLED)
    )
    if course is not None:
        courses = courses.filter(start_date__gte=course.start_date).exclude(pk=course.pk)
    return courses.exists()


def _rotation(practice: Practice | int) -> list[MassageType]:
    return list(
        MassageType.objects.for_practice(practice)
        .filter(active=True)
        .order_by("rotation_order", "name")
    )


def _r12_proposal(
    *,
    rotation: list[MassageType],
    previous_type_id: int | None,
    patient: Patient,
    screening: Screening | None,
) -> MassageType | None:
    """R12: the type after `previous_type_id` in the rotation (its first without one) that
    `screening` does not block, as of that screening: it will have expired by the next course,
    when a new one is taken. Without a screening nothing is known to block."""
    by_id = {t.pk: t for t in rotation}
    candidates = set(by_id)
    order = list(by_id)
    while (proposed := r12_next_type(order, previous_type_id, candidates)) is not None:
        # The screening's own verdict (pure): R8's day block of a past day has no say in
        # the next course, and reading it would cost a query per patient listed as due.
        if (
            screening is None
            or eligibility(
                outcome=screening.outcome,
                screened_on=screening.screened_on,
                on=screening.screened_on,
                massage_type_code=by_id[proposed].code,
                hypertensive=patient.hypertensive,
                allergic_to_honey=patient.allergic_to_honey,
            ).allowed
        ):
            return by_id[proposed]
        candidates.discard(proposed)
    return None


def r12_proposed_type(course: Course) -> MassageType | None:
    """R12: the type the rotation proposes after this course, or None."""
    status = patient_screening_status(patient=course.patient, on=course.start_date)
    return _r12_proposal(
        rotation=_rotation(course.practice_id),
        previous_type_id=course.massage_type_id,
        patient=course.patient,
        screening=status.screening or course.screening,
    )


@dataclass(frozen=True)
class CourseDue:
    """R11: a patient in a chronic/prevention plan due for their next course."""

    patient: Patient
    # The course the next one follows; None before the patient's first course.
    last_course: Course | None
    due_on: date
    # R12: what the rotation proposes after the last course, or None when the screening
    # blocks every type.
    proposed_type: MassageType | None


def patients_due_for_course(*, practice: Practice, today: date) -> list[CourseDue]:
    """R11, R12: the practice's patients in a chronic/prevention plan whose next course is due
    by `today` plus the notice (when they and the front desk are told), with no course booked
    from today on, soonest due first; a patient with no course yet is due today. Four queries
    however many are due."""
    patients = list(
        Patient.objects.for_practice(practice).filter(chronic_plan=True, archived=False)
    )
    courses: dict[int, list[Course]] = defaultdict(list)
    for course in (
        Course.objects.for_practice(practice)
        .filter(patient__in=patients)
        .exclude(status=CourseStatus.CANCELLED)
        .select_related("massage_type")
        .order_by("start_date", "id")
    ):
        courses[course.patient_id].append(course)
    due: list[tuple[Patient, Course | None, date]] = []
    for patient in patients:
        held = courses[patient.pk]
        if held and held[-1].start_date >= today:
            continue  # the next course is booked
        due_on = r11_next_course_due_on(c.start_date for c in held) or today
        if due_on - NEXT_COURSE_NOTICE <= today:
            due.append((patient, held[-1] if held else None, due_on))
    if not due:
        return []
    rotation = _rotation(practice)
    screenings = latest_screenings(patients=[patient for patient, _, _ in due], on=today)
    rows = [
        CourseDue(
            patient=patient,
            last_course=last,
            due_on=due_on,
            proposed_type=_r12_proposal(
                rotation=rotation,
                previous_type_id=last.massage_type_id if last else None,
                patient=patient,
                screening=screenings.get(patient.pk),
            ),
        )
        for patient, last, due_on in due
    ]
    return sorted(rows, key=lambda row: (row.due_on, row.patient.full_name, row.patient.pk))


@dataclass(frozen=True)
class RecordedOverride:
    rule: str
    reason: str
    by: int | None
    at: datetime


def course_overrides_recorded(*, course: Course) -> list[RecordedOverride]:
    """The rules overridden when the course was booked (R12), from the audit trail."""
    entries = AuditEntry.objects.filter(
        practice_id=course.practice_id,
        action=Action.OVERRIDE,
        model=Course._meta.label_lower,
        object_id=str(course.pk),
    ).order_by("at", "id")
    return [
        RecordedOverride(
            rule=str(entry.values.get("rule", "")),
            reason=entry.reason,
            by=entry.user_id,
            at=entry.at,
        )
        for entry in entries
    ]
