"""Reads of the waitlist for the desk, the portal and the API, scoped to one practice (and,
for a patient, their own entries). Each entry comes with its offers in one more query."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from practice.models import Practice
from sessions.models import WaitlistEntry, WaitlistEntryStatus, WaitlistOffer


def waitlist_entries(
    *,
    practice: Practice,
    patient_id: int | None = None,
    status: WaitlistEntryStatus | str | None = None,
) -> QuerySet[WaitlistEntry]:
    """Entries oldest first (the order they are offered in), with their offers newest first."""
    entries = WaitlistEntry.objects.for_practice(practice)
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    if status:
        entries = entries.filter(status=status)
    # The booked session names a claimed course's offer's course.
    offers = WaitlistOffer.objects.for_practice(practice).select_related(
        "therapist", "massage_type", "session"
    )
    return entries.select_related("patient", "massage_type", "therapist").prefetch_related(
        Prefetch("offers", queryset=offers)
    )
