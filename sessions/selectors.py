"""Reads of sessions that a request may see."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from patients.models import Patient
from practice.models import Membership, Role
from sessions.availability import local_range
from sessions.models import Reminder, Session


def session_list(
    *,
    membership: Membership,
    first: date | None = None,
    last: date | None = None,
    **filters: object,
) -> QuerySet[Session]:
    """The practice's sessions (a patient's own only), from local day `first` to `last`,
    with what the list shows joined in, so a page costs one query however long it is."""
    practice = membership.practice
    sessions = Session.objects.for_practice(practice).select_related(
        "patient", "therapist", "massage_type"
    )
    if membership.role == Role.PATIENT:
        sessions = sessions.filter(patient__user=membership.user_id)
    if first is not None:
        sessions = sessions.filter(starts_at__gte=local_range(practice, first, first)[0])
    if last is not None:
        sessions = sessions.filter(starts_at__lt=local_range(practice, last, last)[1])
    return sessions.filter(**{name: value for name, value in filters.items() if value})


def patient_reminders(*, patient: Patient, limit: int = 20) -> QuerySet[Reminder]:
    """A patient's latest reminders, sent or not, newest first (for the staff record page)."""
    return (
        Reminder.objects.for_practice(patient.practice_id)
        .filter(patient=patient)
        .order_by("-due_at", "-id")[:limit]
    )
