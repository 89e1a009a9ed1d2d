"""Reads of courses: what a request may see, with progress; who is due for a course (R11)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from courses.models import Course, CourseStatus
from courses.rules import YEAR, r11_course_due
from patients.models import Patient
from practice.models import Membership, Practice, Role
from sessions.models import FREEING_STATUSES, Session, SessionStatus


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
        courses = courses.prefetch_related(
            Prefetch("sessions", queryset=Session.objects.order_by("starts_at", "id"))
        )
    return courses


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
