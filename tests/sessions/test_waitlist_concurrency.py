"""Claiming waitlist offers under real concurrency: threads with their own PostgreSQL
connections claim at once. One booking wins; the other claim is a clean refusal (a Conflict
or the offer's ValidationError), never a second booking, a half-booked course or an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from courses.models import Course
from practice.models import Practice
from sessions.booking.sessions import session_book, session_cancel
from sessions.models import FreedSlot, Session, SessionStatus, WaitlistOffer, WaitlistOfferStatus
from sessions.reminders.links import waitlist_offer_token
from sessions.waitlist.claims import waitlist_offer_claim
from sessions.waitlist.offers import waitlist_offer_slot
from tests.factories import PatientFactory
from tests.sessions.test_concurrency import race
from tests.sessions.waitlist import booked_session, waiting, waiting_for_course

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class OfferAtOnce:
    """Stands in for the Celery task after commit: the offer is made right away."""

    @staticmethod
    def delay(slot_id: int) -> None:
        waitlist_offer_slot(slot_id=slot_id)


@pytest.fixture(autouse=True)
def _offers_without_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sessions.waitlist.freeing.offer_freed_slot", OfferAtOnce)
    monkeypatch.setattr("sessions.waitlist.entries.offer_freed_slot", OfferAtOnce)


def claiming(practice: Practice, offer: WaitlistOffer) -> Callable[[], object]:
    token = waitlist_offer_token(offer.pk)
    return lambda: waitlist_offer_claim(practice=practice, token=token)


def refused_cleanly(outcomes: list[str]) -> list[str]:
    # race() names a Conflict "conflict"; the offer's own refusal is a ValidationError.
    return ["refused" if o.startswith("ValidationError") else o for o in outcomes]


def offered_twice(practice: Practice, first_session: Session) -> list[WaitlistOffer]:
    """A time freed twice: the first cancel offers it to the first entry; it is booked again
    and cancelled again before she answers, so the second entry is offered it too."""
    session_cancel(session=first_session, by=None)
    again = session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=first_session.therapist,
        massage_type=first_session.massage_type,
        starts_at=first_session.starts_at,
    )
    session_cancel(session=again, by=None)
    offers = list(WaitlistOffer.objects.filter(status=WaitlistOfferStatus.OPEN))
    assert len({(o.therapist_id, o.starts_at) for o in offers}) == 1
    return offers


def test_two_patients_claiming_one_freed_time_at_once_book_it_once(practice: Practice) -> None:
    first_session = booked_session(practice)
    first, second = waiting(practice), waiting(practice)
    offers = offered_twice(practice, first_session)
    assert {o.entry_id for o in offers} == {first.pk, second.pk}

    outcomes = race([claiming(practice, offer) for offer in offers])

    assert sorted(outcomes) == ["booked", "conflict"]
    booked = Session.objects.filter(status=SessionStatus.BOOKED)
    assert booked.count() == 1
    assert booked.get().patient_id in {first.patient_id, second.patient_id}
    assert WaitlistOffer.objects.filter(status=WaitlistOfferStatus.CLAIMED).count() == 1


@pytest.mark.parametrize(
    ("wait", "courses", "sessions"), [(waiting, 0, 1), (waiting_for_course, 1, 10)]
)
def test_one_offer_claimed_twice_at_once_books_once(
    practice: Practice, wait: Callable[[Practice], object], courses: int, sessions: int
) -> None:
    session = booked_session(practice)
    wait(practice)
    session_cancel(session=session, by=None)
    offer = WaitlistOffer.objects.get(slot=FreedSlot.objects.get())

    outcomes = refused_cleanly(race([claiming(practice, offer), claiming(practice, offer)]))

    assert sorted(outcomes) == ["booked", "refused"]
    assert Course.objects.count() == courses
    assert Session.objects.filter(status=SessionStatus.BOOKED).count() == sessions
    with pytest.raises(ValidationError):
        claiming(practice, offer)()


def test_two_patients_claiming_one_course_at_once_book_one_course_and_nothing_of_the_other(
    practice: Practice,
) -> None:
    first_session = booked_session(practice)
    first, second = waiting_for_course(practice), waiting_for_course(practice)
    offers = offered_twice(practice, first_session)
    assert {o.entry_id for o in offers} == {first.pk, second.pk}
    # The same plan: every session of one course collides with the other's.
    assert len({tuple(o.course_starts) for o in offers}) == 1

    outcomes = race([claiming(practice, offer) for offer in offers])

    assert sorted(outcomes) == ["booked", "conflict"]
    course = Course.objects.get()
    booked = Session.objects.filter(status=SessionStatus.BOOKED)
    assert booked.count() == course.sessions_count
    assert set(booked.values_list("patient_id", flat=True)) == {course.patient_id}
    assert WaitlistOffer.objects.filter(status=WaitlistOfferStatus.CLAIMED).count() == 1
