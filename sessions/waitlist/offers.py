"""Offering freed time to the waitlist: first come, first offered.

A freed time (`FreedSlot`, written by `sessions.waitlist.freeing` in the transaction that
freed it, when booking announces it) is offered to the oldest active entry it fits: the
entry's massage type, with the slot's therapist (or any, if the entry says so), on one of its
days and weekdays, inside its time of day, still free for the type's length (the one
availability computation, `calendar_load`) and open to the patient's screening
(`patient_may_book`, R1-R8). The offer holds for the practice's `waitlist_offer_hours` (never
past the slot's start) and is sent through the reminder outbox (R21, R22). An offer that runs
out passes the slot on to the next entry (`waitlist_offers_sweep`, from beat).

An entry waiting for a whole course is offered the freed time when a whole course can start
at it: planned by booking's course planning (`sessions.waitlist.courses`: all sessions free,
R1-R12, R14, R23, nothing R12 would ask the patient to override), its first session at the
freed time and every session inside the entry's time of day. The offer keeps the plan's
times, which claiming books as they are.

Safe to run twice, or beside the sweep: the slot's row lock queues the callers, and the
database allows one open offer per slot and per entry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from courses.rules import r14_minutes
from patients.eligibility import patient_may_book
from practice.calendar import epoch
from sessions.availability import calendar_load
from sessions.models import (
    FreedSlot,
    WaitlistEntry,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.reminders.outbox import (
    reminders_after_waitlist_offer_closed,
    reminders_for_waitlist_offer,
)
from sessions.waitlist.courses import waitlist_course_plan

logger = logging.getLogger(__name__)


def _in_time_of_day(entry: WaitlistEntry, starts_at: datetime, minutes: int) -> bool:
    """The entry's time of day, in the practice's wall-clock time (R24)."""
    local = starts_at.astimezone(entry.practice.zone)
    if entry.earliest is not None and local.time() < entry.earliest:
        return False
    ends = local + timedelta(minutes=minutes)
    # A window ending at midnight or past it is no window a session would cross.
    return entry.latest is None or (ends.date() == local.date() and ends.time() <= entry.latest)


def _fits_the_day(entry: WaitlistEntry, starts_at: datetime, minutes: int) -> bool:
    """The entry's weekdays and time of day, in the practice's wall-clock time (R24)."""
    local = starts_at.astimezone(entry.practice.zone)
    if entry.weekdays and local.weekday() not in entry.weekdays:
        return False
    return _in_time_of_day(entry, starts_at, minutes)


def _candidates(slot: FreedSlot) -> list[WaitlistEntry]:
    """The active entries the slot may fit, oldest first. An entry holding an open offer waits
    for its answer, and one offered this slot before (it let the offer run out) is not asked
    again."""
    day = slot.starts_at.astimezone(slot.practice.zone).date()
    return list(
        WaitlistEntry.objects.for_practice(slot.practice_id)
        .filter(
            status=WaitlistEntryStatus.ACTIVE,
            first_day__lte=day,
            last_day__gte=day,
            patient__archived=False,
            massage_type__active=True,
            massage_type__in=slot.therapist.massage_types.all(),
        )
        .filter(Q(therapist__isnull=True) | Q(therapist=slot.therapist_id))
        .exclude(offers__slot=slot)
        .exclude(offers__status=WaitlistOfferStatus.OPEN)
        .select_related("practice__settings", "patient", "massage_type")
        .order_by("created_at", "id")
    )


def _may_take(entry: WaitlistEntry, slot: FreedSlot, now: datetime) -> bool:
    minutes = entry.massage_type.default_minutes
    if not _fits_the_day(entry, slot.starts_at, minutes):
        return False
    practice = slot.practice
    day = slot.starts_at.astimezone(practice.zone).date()
    calendar = calendar_load(
        practice=practice,
        therapist_ids=[slot.therapist_id],
        first=day,
        last=day,
        now=now,
        patient_id=entry.patient_id,
        massage_type_id=entry.massage_type_id,
    )
    if not calendar.is_free(slot.therapist_id, epoch(slot.starts_at), minutes):
        return False
    try:
        # The patient claims it themselves, so their screening must clear it (R1-R8).
        patient_may_book(
            patient=entry.patient, massage_type=entry.massage_type, on=day, by_patient=True
        )
    except ValidationError:
        return False
    return True


def _course_from(entry: WaitlistEntry, slot: FreedSlot, now: datetime) -> list[datetime] | None:
    """The starts of the course the entry could begin at the slot's time, or None. Its
    weekdays say which days the course may start on; its time of day holds for every
    session, whose time the plan may move on a busy day."""
    # R14: the first session is shorter than the type's default.
    if not _fits_the_day(entry, slot.starts_at, r14_minutes(1, entry.massage_type.default_minutes)):
        return None
    planned = waitlist_course_plan(entry, slot, now)
    if planned is None or planned[0].starts_at != slot.starts_at:
        return None
    if not all(_in_time_of_day(entry, item.starts_at, item.minutes) for item in planned):
        return None
    return [item.starts_at for item in planned]


def _offer(
    entry: WaitlistEntry, slot: FreedSlot, now: datetime, course: list[datetime] | None
) -> WaitlistOffer | None:
    hold = timedelta(hours=slot.practice.settings.waitlist_offer_hours)
    offer = WaitlistOffer(
        practice_id=slot.practice_id,
        entry=entry,
        slot=slot,
        therapist=slot.therapist,
        massage_type=entry.massage_type,
        starts_at=slot.starts_at,
        expires_at=min(now + hold, slot.starts_at),
        course_starts=[start.isoformat() for start in course or ()],
    )
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:
        # The entry was offered another slot at this very moment: it answers that one first.
        return None
    reminders_for_waitlist_offer(offer, now=now)
    return offer


def waitlist_offer_slot(*, slot_id: int, now: datetime | None = None) -> WaitlistOffer | None:
    """Offer a freed slot to the first entry it fits; close the slot when none fits or its
    time has begun. Nothing when the slot is closed or already offered (a task delivered
    twice). Returns the new offer."""
    now = now or timezone.now()
    with transaction.atomic():
        slot = (
            FreedSlot.objects.select_for_update(of=("self",))
            .select_related("practice__settings", "therapist", "room")
            .filter(pk=slot_id, closed_at__isnull=True)
            .first()
        )
        if slot is None or slot.offers.filter(status=WaitlistOfferStatus.OPEN).exists():
            return None
        if slot.starts_at > now:
            for entry in _candidates(slot):
                if entry.for_course:
                    course = _course_from(entry, slot, now)
                    fits = course is not None
                else:
                    course, fits = None, _may_take(entry, slot, now)
                if fits and (offer := _offer(entry, slot, now, course)):
                    logger.info("slot %s offered to waitlist entry %s", slot.pk, entry.pk)
                    return offer
        slot.closed_at = now
        slot.save(update_fields=["closed_at"])
    return None


def waitlist_offer_close(
    offer: WaitlistOffer, *, status: WaitlistOfferStatus, now: datetime
) -> bool:
    """Close an open offer (claimed, withdrawn, expired) and stop its message (R22). A
    conditional update: of two closers one wins. True when this call closed it."""
    closed = WaitlistOffer.objects.filter(pk=offer.pk, status=WaitlistOfferStatus.OPEN).update(
        status=status, closed_at=now
    )
    if closed:
        offer.status, offer.closed_at = status, now
        reminders_after_waitlist_offer_closed(offer)
    return bool(closed)


def waitlist_offers_sweep(*, now: datetime | None = None) -> int:
    """Beat: offers that ran out expire and their slot goes to the next entry; a freed slot
    whose task was lost is offered now; slots whose time has begun close. Returns the offers
    made."""
    now = now or timezone.now()
    overdue = WaitlistOffer.objects.filter(
        status=WaitlistOfferStatus.OPEN, expires_at__lte=now
    ).select_related("entry")
    for offer in overdue:
        waitlist_offer_close(offer, status=WaitlistOfferStatus.EXPIRED, now=now)
    FreedSlot.objects.filter(closed_at__isnull=True, starts_at__lte=now).update(closed_at=now)
    waiting = (
        FreedSlot.objects.filter(closed_at__isnull=True)
        .exclude(offers__status=WaitlistOfferStatus.OPEN)
        .order_by("starts_at", "id")
        .values_list("pk", flat=True)
    )
    offered = 0
    for slot_id in list(waiting):
        if waitlist_offer_slot(slot_id=slot_id, now=now) is not None:
            offered += 1
    return offered
