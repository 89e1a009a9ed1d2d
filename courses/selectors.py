"""Reads of courses: a patient's earlier courses, who is due for one (R11) and which type the
rotation proposes next (R12). Reads that need the course's sessions live in
`sessions.selectors`."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from courses.models import Course, CourseStatus
from courses.rules import YEAR, r11_course_due, r12_next_type
from patients.eligibility import screening_eligibility
from patients.models import Patient
from patients.selectors import patient_screening_status
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
