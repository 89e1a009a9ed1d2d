"""The waitlist's Celery tasks: thin, each calls one service and is safe to run twice (the
slot's lock and the one-open-offer constraints make a repeat a no-op). Registered with the
worker through CELERY_IMPORTS."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sessions.waitlist.offers import waitlist_offer_slot, waitlist_offers_sweep


@shared_task(ignore_result=True)
def offer_freed_slot(slot_id: int) -> int | None:
    """Queued when a booked time comes free (after its transaction commits)."""
    offer = waitlist_offer_slot(slot_id=slot_id, now=timezone.now())
    return offer.pk if offer is not None else None


@shared_task
def sweep_waitlist_offers() -> int:
    """Beat: expired offers pass their slot on; freed slots a lost task missed are offered."""
    return waitlist_offers_sweep(now=timezone.now())
