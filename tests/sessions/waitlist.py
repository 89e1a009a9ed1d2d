"""Building waitlist scenes through the real services: a booked session to free, screened
patients who consented to messages waiting for its time (or for a course to start at it),
and the claim link of an offer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse

from courses.models import Cadence
from patients.models import Patient
from practice.models import Practice, Therapist
from sessions.booking.sessions import session_book, session_cancel
from sessions.models import (
    FreedSlot,
    Reminder,
    Session,
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.reminders.links import waitlist_offer_token
from sessions.reminders.messages import ReminderKind
from sessions.waitlist.entries import waitlist_entry_add
from sessions.waitlist.tasks import offer_freed_slot
from tests.clock import local, today
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory, massage_type


def screened_patient(practice: Practice, **fields: object) -> Patient:
    patient = PatientFactory(practice=practice, consenting=True, **fields)
    ScreeningFactory(patient=patient)
    return patient


def booked_session(practice: Practice, *, days: int = 3, hour: int = 10) -> Session:
    """A classical massage `days` ahead at `hour`, with a therapist who works every day."""
    therapist: Therapist = TherapistFactory(practice=practice, week=True)
    return session_book(
        practice=practice,
        patient=screened_patient(practice),
        therapist=therapist,
        massage_type=massage_type(practice),
        starts_at=local(practice, today(practice, days), hour),
    )


def waiting(practice: Practice, patient: Patient | None = None, **fields: object) -> WaitlistEntry:
    """An entry for the classical massage over the next week, any therapist, any time."""
    values: dict[str, object] = {
        "massage_type": massage_type(practice),
        "first_day": today(practice),
        "last_day": today(practice, 7),
    }
    values.update(fields)
    return waitlist_entry_add(
        practice=practice,
        patient=patient or screened_patient(practice),
        **values,  # type: ignore[arg-type]
    )


def waiting_for_course(
    practice: Practice, patient: Patient | None = None, **fields: object
) -> WaitlistEntry:
    """An entry for a course of 10 classical massages every other day, to start within the
    next week, with any therapist at any time."""
    values: dict[str, object] = {
        "kind": WaitlistEntryKind.COURSE,
        "sessions_count": 10,
        "cadence": Cadence.EVERY_OTHER_DAY,
    }
    values.update(fields)
    return waiting(practice, patient, **values)


def cancel(session: Session) -> FreedSlot:
    session_cancel(session=session, by=None, reason="")
    return FreedSlot.objects.get(session=session)


def offered(slot: FreedSlot) -> WaitlistOffer | None:
    """The open offer of the freed slot once its task has run."""
    offer_freed_slot.apply(args=[slot.pk])
    return slot.offers.filter(status=WaitlistOfferStatus.OPEN).first()


def offer_rows(offer: WaitlistOffer) -> list[Reminder]:
    return list(
        Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER, details__offer_id=offer.pk)
    )


def token(offer: WaitlistOffer) -> str:
    return waitlist_offer_token(offer.pk)


def claim_url(offer: WaitlistOffer, practice: Practice | None = None) -> str:
    slug = (practice or offer.practice).slug
    return reverse(
        "portal:waitlist-offer",
        kwargs={"practice_slug": slug, "token": waitlist_offer_token(offer.pk)},
    )


def at(offer: WaitlistOffer) -> datetime:
    """A moment just after the offer ran out."""
    return offer.expires_at + timedelta(seconds=1)
