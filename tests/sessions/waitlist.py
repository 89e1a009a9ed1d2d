"""Building waitlist scenes through the real services: a booked session to free, screened
patients who consented to messages waiting for its time, and the claim link of an offer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse

from patients.models import Patient
from practice.models import Practice, Therapist
from sessions.booking.sessions import session_book
from sessions.booking.waitlist import waitlist_entry_add
from sessions.models import Session, WaitlistEntry, WaitlistOffer
from sessions.reminders.links import waitlist_offer_token
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


def claim_url(offer: WaitlistOffer, practice: Practice | None = None) -> str:
    slug = (practice or offer.practice).slug
    return reverse(
        "portal:waitlist-offer",
        kwargs={"practice_slug": slug, "token": waitlist_offer_token(offer.pk)},
    )


def at(offer: WaitlistOffer) -> datetime:
    """A moment just after the offer ran out."""
    return offer.expires_at + timedelta(seconds=1)
