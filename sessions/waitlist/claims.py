"""Taking an offer from the waitlist: the patient's own booking, so it goes through booking's
rules (`session_book`, and for a whole course `course_book` through
`sessions.waitlist.courses`). The offers themselves are made by `sessions.waitlist.offers`.

Claiming is the patient's booking through the signed link of the offer's message
(`sessions.reminders.links`): the offer's row lock queues two clicks on one offer, and the
booking's exclusion constraints decide between two offers of one time (R19), so a lost race is
a plain refusal, never a second booking.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course
from practice.models import Practice
from sessions.booking.sessions import session_book
from sessions.models import (
    FreedSlot,
    Session,
    WaitlistEntry,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.reminders.links import invalid_link, waitlist_offer_read
from sessions.waitlist.courses import waitlist_course_book
from sessions.waitlist.offers import waitlist_offer_close

logger = logging.getLogger(__name__)

# The codes of a claim's refusals, for a page to tell them apart.
OFFER_CLOSED = "offer_closed"
OFFER_EXPIRED = "offer_expired"


def _offer_refusal(offer: WaitlistOffer, now: datetime) -> ValidationError | None:
    if offer.status == WaitlistOfferStatus.CLAIMED:
        return ValidationError(
            _("This time has already been booked from this offer."), OFFER_CLOSED
        )
    if offer.status != WaitlistOfferStatus.OPEN:
        return ValidationError(
            _("This offer is %(status)s.") % {"status": offer.get_status_display().lower()},
            OFFER_CLOSED,
        )
    if now >= offer.expires_at:
        return ValidationError(
            _("This offer has run out: the time was offered to the next patient waiting."),
            OFFER_EXPIRED,
        )
    return None


def waitlist_offer_from_link(
    *, practice: Practice, token: str, now: datetime | None = None, lock: bool = False
) -> WaitlistOffer:
    """The offer a claim link names while it may be claimed; ValidationError otherwise
    (codes "invalid_link", OFFER_CLOSED, OFFER_EXPIRED). Another practice's offer is as
    unknown as a forged link."""
    now = now or timezone.now()
    offers = WaitlistOffer.objects.for_practice(practice).select_related(
        "entry__patient", "entry__practice__settings", "therapist", "massage_type", "slot__room"
    )
    if lock:
        offers = offers.select_for_update(of=("self",))
    offer = offers.filter(pk=waitlist_offer_read(token)).first()
    if offer is None:
        raise invalid_link()
    if refusal := _offer_refusal(offer, now):
        raise refusal
    return offer


def waitlist_offer_claim(
    *, practice: Practice, token: str, now: datetime | None = None
) -> Session | Course:
    """Book what the offer holds for the entry's patient, as the patient's own booking: the
    time with `session_book`, or a course entry's whole course with `course_book` at the
    times the offer planned (`waitlist_course_book`). Every rule applies; a time taken
    meanwhile is a Conflict (R19), and nothing of a course is booked then. The offer is
    claimed, its entry booked and its slot closed, in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = waitlist_offer_from_link(practice=practice, token=token, now=now, lock=True)
        entry = offer.entry
        booked: Session | Course
        if entry.for_course:
            booked = waitlist_course_book(offer, now=now)
        else:
            booked = session_book(
                practice=practice,
                patient=entry.patient,
                therapist=offer.therapist,
                massage_type=offer.massage_type,
                starts_at=offer.starts_at,
                room=offer.slot.room,
                now=now,
                by_patient=True,
            )
        waitlist_offer_close(offer, status=WaitlistOfferStatus.CLAIMED, now=now)
        # A course's first session is the one at the freed time.
        session = booked if isinstance(booked, Session) else booked.sessions.get(sequence=1)
        WaitlistOffer.objects.filter(pk=offer.pk).update(session=session)
        WaitlistEntry.objects.filter(pk=entry.pk).update(
            status=WaitlistEntryStatus.BOOKED, closed_at=now
        )
        FreedSlot.objects.filter(pk=offer.slot_id).update(closed_at=now)
    logger.info("waitlist offer %s claimed as %s %s", offer.pk, booked._meta.model_name, booked.pk)
    return booked
