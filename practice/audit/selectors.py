"""Reads of the audit trail: a practice's log with filters, one patient's access history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet

from practice.audit.models import AuditEntry
from practice.models import Practice


@dataclass(frozen=True)
class EntryFilter:
    user_id: int | None = None
    model: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None
    patient_id: int | None = None


_MARGIN = timedelta(days=2)


def _start_of(day: date, practice: Practice) -> datetime:
    return datetime.combine(day, time.min, tzinfo=practice.zone)


def practice_entries(*, practice: Practice, only: EntryFilter) -> QuerySet[AuditEntry]:
    """The practice's entries, newest first; `since` and `until` are days in its zone (R24),
    both included."""
    entries = AuditEntry.objects.filter(practice=practice).select_related("user")
    if only.user_id is not None:
        entries = entries.filter(user_id=only.user_id)
    if only.model:
        entries = entries.filter(model=only.model)
    if only.action:
        entries = entries.filter(action=only.action)
    if only.patient_id is not None:
        entries = entries.filter(patient_id=only.patient_id)
    # The first and last days a date can name bound nothing, and would overflow in UTC.
    if only.since is not None and only.since > date.min + _MARGIN:
        entries = entries.filter(at__gte=_start_of(only.since, practice))
    if only.until is not None and only.until < date.max - _MARGIN:
        entries = entries.filter(at__lt=_start_of(only.until + timedelta(days=1), practice))
    return entries


def patient_access_history(*, practice: Practice, patient_id: int) -> QuerySet[AuditEntry]:
    """Who read or changed one patient's data, newest first."""
    return practice_entries(practice=practice, only=EntryFilter(patient_id=patient_id))


def recorded_models(*, practice: Practice) -> list[str]:
    """The record types the practice's log names, for its filter."""
    return sorted(
        AuditEntry.objects.filter(practice=practice)
        .order_by()
        .values_list("model", flat=True)
        .distinct()
    )
