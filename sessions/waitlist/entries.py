"""Joining the waitlist and leaving it. Joining is a booking in the making, so it goes
through booking's rules (`booking_inputs_validate`, `require_qualified`, `patient_may_book`);
an entry's offers are made by `sessions.waitlist.offers` and claimed through
`sessions.waitlist.claims`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import DEFAULT_SESSIONS, Cadence
from courses.services import CourseRequest, course_rule_findings
from patients.eligibility import patient_may_book
from patients.models import Patient
from practice.models import MassageType, Practice, Therapist, User
from sessions.booking.sessions import booking_inputs_validate, require_qualified
from sessions.models import (
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOfferStatus,
)
from sessions.waitlist.offers import waitlist_offer_close
from sessions.waitlist.tasks import offer_freed_slot

logger = logging.getLogger(__name__)


def waitlist_entry_add(
    *,
    practice: Practice,
    patient: Patient,
    massage_type: MassageType,
    first_day: date,
    last_day: date,
    therapist: Therapist | None = None,
    earliest: time | None = None,
    latest: time | None = None,
    weekdays: list[int] | None = None,
    note: str = "",
    kind: WaitlistEntryKind | str = WaitlistEntryKind.SESSION,
    sessions_count: int | None = None,
    cadence: Cadence | str = "",
    by: User | None = None,
    by_patient: bool = False,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist, for one session or (`kind` course) for a course of
    `sessions_count` sessions at `cadence` to start between `first_day` and `last_day`. The
    type must be one patients may book themselves (the patient takes the offer), and what a
    screening blocks is refused now rather than at the offer (R2-R8); a patient adding
    themselves needs a screening that clears the type on the first day (R1), as when
    booking. A course's shape is checked here (R9, R10), and R12 when the entry names its
    therapist; all of a course's rules again when a time is offered, for the course that
    time starts."""
    now = now or timezone.now()
    for_course = kind == WaitlistEntryKind.COURSE
    if therapist is not None:
        booking_inputs_validate(
            practice=practice, patient=patient, therapist=therapist, massage_type=massage_type
        )
        require_qualified(
            massage_type.therapists.filter(pk=therapist.pk).values_list("pk", flat=True),
            therapist,
        )
    entry = WaitlistEntry(
        practice=practice,
        patient=patient,
        massage_type=massage_type,
        therapist=therapist,
        first_day=first_day,
        last_day=last_day,
        earliest=earliest,
        latest=latest,
        weekdays=sorted(set(weekdays or [])),
        note=note[:300],
        kind=kind,
        # One session has no course's shape, whatever a form left in those fields.
        sessions_count=sessions_count if for_course else None,
        cadence=cadence if for_course else "",
        created_by=by,
    )
    entry.full_clean(exclude=["created_by"])
    errors: dict[str, str] = {}
    if patient.archived:
        errors["patient"] = str(_("This patient is archived."))
    if not (massage_type.active and massage_type.online_bookable):
        errors["massage_type"] = str(_("Only a type patients book online can be waited for."))
    today = now.astimezone(practice.zone).date()
    if first_day < today:
        errors["first_day"] = str(_("The first day must not be in the past."))
    if last_day > today + timedelta(days=practice.settings.booking_horizon_days):
        errors["last_day"] = str(_("This is further ahead than sessions can be booked."))
    if errors:
        raise ValidationError(errors)
    patient_may_book(
        patient=patient,
        massage_type=massage_type,
        on=max(first_day, today),
        by_patient=by_patient,
    )
    if for_course:
        _r12_validate(entry, start_date=max(first_day, today))
    entry.save()
    logger.info("waitlist entry %s added by %s", entry.pk, by)
    return entry


def _r12_validate(entry: WaitlistEntry, *, start_date: date) -> None:
    """R12 for a course entry naming its therapist: a course that would repeat the type of the
    patient's last course with the same therapist is only ever warned about, and the patient,
    who claims an offer themselves, cannot override the warning, so no offer could ever be
    made to the entry: it is refused now, with the rule. (An entry open to any therapist may
    be offered another one.) R11 depends on the day a course starts, so it is checked for
    each freed time, as R12 is again."""
    if entry.therapist is None:
        return
    request = CourseRequest(
        practice=entry.practice,
        patient=entry.patient,
        therapist=entry.therapist,
        massage_type=entry.massage_type,
        start_date=start_date,
        preferred_time=entry.earliest or time(),
        sessions_count=entry.sessions_count or DEFAULT_SESSIONS,
        cadence=entry.cadence,
    )
    try:
        warnings, _proposed = course_rule_findings(request)
    except ValidationError:
        return  # R11 on the window's first day; a later day may still allow it
    if warnings:
        raise ValidationError(
            {
                "therapist": [f"{w.rule}: {w.message}" for w in warnings]
                + [str(_("Choose another therapist, or any therapist."))]
            }
        )


def waitlist_entry_withdraw(
    *, entry: WaitlistEntry, by: User | None, now: datetime | None = None
) -> WaitlistEntry:
    """Take an entry off the waitlist. Its open offer is withdrawn and the time goes to the
    next entry. An entry already booked or withdrawn is left as it is (ValidationError)."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = WaitlistEntry.objects.filter(
            pk=entry.pk, status=WaitlistEntryStatus.ACTIVE
        ).update(status=WaitlistEntryStatus.WITHDRAWN, closed_at=now)
        if not changed:
            raise ValidationError({"status": _("This entry is no longer waiting.")})
        entry.refresh_from_db()
        for offer in entry.offers.filter(status=WaitlistOfferStatus.OPEN).select_related("entry"):
            if waitlist_offer_close(offer, status=WaitlistOfferStatus.WITHDRAWN, now=now):
                # As `waitlist_time_freed` queues it; the sweep covers a lost task.
                transaction.on_commit(partial(offer_freed_slot.delay, offer.slot_id), robust=True)
    logger.info("waitlist entry %s withdrawn by %s", entry.pk, by)
    return entry
