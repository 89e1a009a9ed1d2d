"""Entries that the database cannot see for itself: reads, overrides, exports, erasures,
and the retention purge, the only way an entry is ever deleted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pgtrigger
from django.db import models, transaction

from practice.audit.capture import APPEND_ONLY
from practice.audit.context import commit_without_waiting, current
from practice.audit.models import Action, AuditEntry
from practice.audit.policy import DEFAULT_RETENTION_YEARS
from practice.models import PracticeSettings


def record(
    *,
    action: Action,
    subject: models.Model,
    patient_id: int | None,
    reason: str = "",
    fields: Iterable[str] = (),
    values: dict[str, object] | None = None,
) -> AuditEntry:
    """One entry about `subject` (a practice-owned row), by the current actor."""
    actor = current()
    return AuditEntry.objects.create(
        practice_id=getattr(subject, "practice_id", None) or (actor.practice_id if actor else None),
        user_id=actor.user_id if actor else None,
        ip=actor.ip if actor else None,
        user_agent=actor.user_agent if actor else "",
        action=action,
        model=subject._meta.label_lower,
        object_id=str(subject.pk),
        patient_id=patient_id,
        fields=list(fields),
        values=values or {},
        reason=reason,
    )


def record_read(subject: models.Model, *, patient_id: int) -> AuditEntry:
    """A read of a patient's health data: call it once where the data is served. Committed
    without waiting for the disk (`practice.audit.context`)."""
    with commit_without_waiting():
        return record(action=Action.READ, subject=subject, patient_id=patient_id)


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar day `years` earlier (28 February for a 29th with no leap year)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def purge_expired_entries(*, now: datetime) -> int:
    """Delete the entries older than their practice's retention: the only deletion the
    append-only trigger lets through (see `practice.audit.capture`). Returns how many."""
    cutoffs = {
        practice_id: years_before(now, years)
        for practice_id, years in PracticeSettings.objects.values_list(
            "practice_id", "retention_years"
        )
    }
    deleted = 0
    with transaction.atomic(), pgtrigger.ignore(APPEND_ONLY):
        for practice_id, cutoff in cutoffs.items():
            deleted += AuditEntry.objects.filter(practice_id=practice_id, at__lt=cutoff).delete()[0]
        # Entries of no practice (a platform user's own account) keep the default retention.
        deleted += (
            AuditEntry.objects.filter(practice_id__isnull=True)
            .filter(at__lt=years_before(now, DEFAULT_RETENTION_YEARS))
            .delete()[0]
        )
    return deleted


def scrub_actor(*, user_id: int) -> int:
    """Forget where a person's own requests came from (IP address, browser) when their
    identity is erased: through the purge path, the only one allowed to change entries."""
    with transaction.atomic(), pgtrigger.ignore(APPEND_ONLY):
        return AuditEntry.objects.filter(user_id=user_id).update(ip=None, user_agent="")
