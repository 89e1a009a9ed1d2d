"""The waitlist: a freed time is offered to the first entry it fits, through the outbox with a
signed claim link; an offer runs out to the next entry; claiming books through the booking
service."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from practice.errors import Conflict
from practice.models import Practice, PracticeSettings
from sessions.booking.courses import course_cancel
from sessions.booking.replies import session_cancel_by_link
from sessions.booking.sessions import session_book, session_cancel, session_reschedule
from sessions.models import (
    FreedSlot,
    Reminder,
    ReminderStatus,
    Session,
    SessionStatus,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.reminders.composing import reminder_message
from sessions.reminders.links import session_link_token
from sessions.reminders.messages import ReminderKind
from sessions.waitlist.claims import OFFER_CLOSED, OFFER_EXPIRED, waitlist_offer_claim
from sessions.waitlist.entries import waitlist_entry_withdraw
from sessions.waitlist.offers import waitlist_offers_sweep
from sessions.waitlist.tasks import offer_freed_slot, sweep_waitlist_offers
from tests.clock import local, today
from tests.factories import PatientFactory, TherapistFactory, massage_type
from tests.sessions.outbox import NOW, book_course
from tests.sessions.waitlist import (
    at,
    booked_session,
    cancel,
    offer_rows,
    offered,
    token,
    waiting,
)

pytestmark = pytest.mark.django_db


def test_cancelling_a_session_offers_its_time_to_the_entry_waiting_longest(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    session = booked_session(practice)
    first, second = waiting(practice), waiting(practice)
    with django_capture_on_commit_callbacks() as queued:
        slot = cancel(session)
    assert len(queued) == 1  # the task, queued once the cancel commits

    offer = offered(slot)

    assert offer is not None
    assert offer.entry == first
    assert second.offers.count() == 0
    assert (offer.therapist_id, offer.starts_at) == (session.therapist_id, session.starts_at)
    # The practice's default hold: two hours (the test's clock runs on, by milliseconds).
    assert abs(offer.expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(seconds=5)
    rows = offer_rows(offer)
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    assert {r.patient_id for r in rows} == {first.patient_id}


def test_the_offer_message_carries_a_signed_claim_link(practice: Practice) -> None:
    slot = cancel(booked_session(practice))
    waiting(practice)
    offer = offered(slot)
    assert offer is not None
    email = next(r for r in offer_rows(offer) if r.channel == "email")

    message = reminder_message(email, now=timezone.now())

    assert f"/p/linden/waitlist/offer/{token(offer)}/" in message.text
    assert f"/p/linden/waitlist/offer/{token(offer)}/" in message.html


def test_a_task_delivered_twice_makes_one_offer_and_one_message_per_channel(
    practice: Practice,
) -> None:
    slot = cancel(booked_session(practice))
    waiting(practice), waiting(practice)

    offer_freed_slot.apply(args=[slot.pk])
    offer_freed_slot.apply(args=[slot.pk])

    assert WaitlistOffer.objects.count() == 1
    assert Reminder.objects.filter(kind=ReminderKind.WAITLIST_OFFER).count() == 2


def test_moving_a_session_away_frees_its_old_time(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    session = booked_session(practice)
    old_start = session.starts_at
    with django_capture_on_commit_callbacks() as queued:
        session_reschedule(session=session, starts_at=old_start + timedelta(hours=3))

    slot = FreedSlot.objects.get(session=session)
    assert (slot.starts_at, slot.schedule_version) == (old_start, 1)
    assert len(queued) == 1


def test_claiming_an_offer_books_the_session_and_closes_the_entry(practice: Practice) -> None:
    slot = cancel(booked_session(practice))
    entry = waiting(practice)
    offer = offered(slot)
    assert offer is not None

    session = waitlist_offer_claim(practice=practice, token=token(offer))

    assert session.patient_id == entry.patient_id
    assert (session.starts_at, session.status) == (slot.starts_at, SessionStatus.BOOKED)
    offer.refresh_from_db()
    entry.refresh_from_db()
    slot.refresh_from_db()
    assert (offer.status, offer.session_id) == (WaitlistOfferStatus.CLAIMED, session.pk)
    assert entry.status == WaitlistEntryStatus.BOOKED
    assert slot.closed_at is not None
    assert {r.status for r in offer_rows(offer)} == {ReminderStatus.CANCELLED}


def test_a_claimed_offer_cannot_be_claimed_again(practice: Practice) -> None:
    slot = cancel(booked_session(practice))
    waiting(practice)
    offer = offered(slot)
    assert offer is not None
    waitlist_offer_claim(practice=practice, token=token(offer))

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=practice, token=token(offer))

    assert refused.value.code == OFFER_CLOSED
    assert Session.objects.filter(status=SessionStatus.BOOKED).count() == 1


def test_an_expired_offer_cannot_be_claimed_and_the_next_entry_gets_one(
    practice: Practice, clock
) -> None:
    slot = cancel(booked_session(practice))
    first, second = waiting(practice), waiting(practice)
    offer = offered(slot)
    assert offer is not None
    clock.move_to(at(offer))

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=practice, token=token(offer))
    assert refused.value.code == OFFER_EXPIRED

    assert sweep_waitlist_offers.apply().get() == 1
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.EXPIRED
    assert {r.status for r in offer_rows(offer)} == {ReminderStatus.CANCELLED}
    following = slot.offers.get(status=WaitlistOfferStatus.OPEN)
    assert following.entry == second
    # The first entry still waits, for another time: this one it let run out.
    first.refresh_from_db()
    assert first.status == WaitlistEntryStatus.ACTIVE
    assert waitlist_offers_sweep() == 0


def test_a_withdrawn_entrys_offer_cannot_be_claimed_and_passes_to_the_next(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    slot = cancel(booked_session(practice))
    first, second = waiting(practice), waiting(practice)
    offer = offered(slot)
    assert offer is not None

    with django_capture_on_commit_callbacks() as queued:
        waitlist_entry_withdraw(entry=first, by=None)
    assert len(queued) == 1

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=practice, token=token(offer))
    assert refused.value.code == OFFER_CLOSED
    following = offered(slot)
    assert following is not None
    assert following.entry == second


def test_an_offer_lost_to_a_booking_meanwhile_is_a_conflict_not_a_second_booking(
    practice: Practice,
) -> None:
    session = booked_session(practice)
    slot = cancel(session)
    waiting(practice)
    offer = offered(slot)
    assert offer is not None
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=session.therapist,
        massage_type=session.massage_type,
        starts_at=session.starts_at,
    )

    with pytest.raises(Conflict):
        waitlist_offer_claim(practice=practice, token=token(offer))

    assert Session.objects.filter(status=SessionStatus.BOOKED).count() == 1


def test_a_time_taken_before_the_task_runs_is_offered_to_nobody(practice: Practice) -> None:
    session = booked_session(practice)
    slot = cancel(session)
    waiting(practice)
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=session.therapist,
        massage_type=session.massage_type,
        starts_at=session.starts_at,
    )

    assert offered(slot) is None
    slot.refresh_from_db()
    assert slot.closed_at is not None


def test_entries_the_time_does_not_fit_are_passed_over(practice: Practice) -> None:
    session = booked_session(practice, hour=10)
    day = session.starts_at.astimezone(practice.zone)
    other_therapist = TherapistFactory(practice=practice, week=True)
    waiting(practice, earliest=time(14))
    waiting(practice, latest=time(10, 10))  # the 15 minutes would end after it
    waiting(practice, therapist=other_therapist)
    waiting(practice, weekdays=[(day.weekday() + 1) % 7])
    waiting(practice, first_day=today(practice, 4))
    fits = waiting(practice, earliest=time(9), latest=time(12), weekdays=[day.weekday()])

    offer = offered(cancel(session))

    assert offer is not None
    assert offer.entry == fits


def test_r1_a_patient_whose_screening_does_not_clear_the_day_is_passed_over(
    practice: Practice, clock
) -> None:
    session = booked_session(practice, days=3)
    lapsing = waiting(practice)
    # The screening is valid for 30 days: on day 3 of a later month it has run out.
    lapsing.patient.screenings.update(valid_until=today(practice, 1))
    cleared = waiting(practice)

    offer = offered(cancel(session))

    assert offer is not None
    assert offer.entry == cleared


def test_a_session_cancelled_after_it_began_frees_nothing(practice: Practice, clock) -> None:
    session = booked_session(practice, days=0, hour=12)
    clock.move_to(session.starts_at + timedelta(minutes=5))
    session_cancel(session=session, by=None)
    assert not FreedSlot.objects.exists()


def test_each_practice_offers_only_to_its_own_waitlist(
    practice: Practice, other_practice: Practice
) -> None:
    session = booked_session(practice)
    waiting(other_practice)
    assert offered(cancel(session)) is None
    assert not WaitlistOffer.objects.exists()


def test_an_offer_of_another_practice_is_an_invalid_link(
    practice: Practice, other_practice: Practice
) -> None:
    slot = cancel(booked_session(practice))
    waiting(practice)
    offer = offered(slot)
    assert offer is not None

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=other_practice, token=token(offer))

    assert refused.value.code == "invalid_link"
    assert not Session.objects.filter(status=SessionStatus.BOOKED).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_day": "past"}, "first_day"),
        ({"last_day": "before_first"}, "last_day"),
        ({"latest": time(9), "earliest": time(10)}, "latest"),
        ({"weekdays": [9]}, "weekdays"),
        ({"last_day": "beyond_horizon"}, "last_day"),
    ],
)
def test_bad_entries_are_refused_with_the_field_named(
    practice: Practice, change: dict, field: str
) -> None:
    days = {
        "past": today(practice, -1),
        "before_first": today(practice, -1),
        "beyond_horizon": today(practice, practice.settings.booking_horizon_days + 1),
    }
    fields = {k: days.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    if field == "last_day" and change["last_day"] == "before_first":
        fields["first_day"] = today(practice)

    with pytest.raises(ValidationError) as refused:
        waiting(practice, **fields)

    assert field in refused.value.message_dict


def test_a_type_the_practice_books_itself_cannot_be_waited_for(practice: Practice) -> None:
    kind = massage_type(practice)
    kind.online_bookable = False
    kind.save()
    with pytest.raises(ValidationError) as refused:
        waiting(practice, massage_type=kind)
    assert "massage_type" in refused.value.message_dict


def test_r1_a_patient_adding_themselves_needs_a_screening(practice: Practice) -> None:
    unscreened = PatientFactory(practice=practice)
    with pytest.raises(ValidationError) as refused:
        waiting(practice, patient=unscreened, by_patient=True)
    assert "massage_type" in refused.value.message_dict
    # The desk may add them ahead of the screening.
    assert waiting(practice, patient=unscreened).status == WaitlistEntryStatus.ACTIVE


def test_the_offer_never_holds_past_the_slots_start(practice: Practice, clock) -> None:
    session = booked_session(practice, days=0, hour=12)
    clock.move_to(local(practice, today(practice), 11))
    waiting(practice)
    offer = offered(cancel(session))
    assert offer is not None
    assert offer.expires_at == session.starts_at


def test_cancelling_a_course_frees_each_of_its_sessions_to_come(
    practice: Practice, django_capture_on_commit_callbacks
) -> None:
    course = book_course(practice)
    with django_capture_on_commit_callbacks() as queued:
        result = course_cancel(course=course, by=None, now=NOW)

    freed = FreedSlot.objects.filter(session__course=course)
    assert freed.count() == result.sessions_cancelled == course.sessions_count
    assert set(freed.values_list("starts_at", flat=True)) == set(
        course.sessions.values_list("starts_at", flat=True)
    )
    assert len(queued) == result.sessions_cancelled


def test_a_freed_time_whose_task_was_lost_is_offered_by_the_sweep(practice: Practice) -> None:
    slot = cancel(booked_session(practice))  # the task queued on commit never arrives
    entry = waiting(practice)

    assert waitlist_offers_sweep() == 1

    assert slot.offers.get().entry == entry


def test_a_cancel_through_a_reminders_link_frees_the_time(practice: Practice) -> None:
    session = booked_session(practice)
    entry = waiting(practice)

    session_cancel_by_link(practice=practice, token=session_link_token(session))

    offer = offered(FreedSlot.objects.get(session=session))
    assert offer is not None
    assert offer.entry == entry


def test_the_practice_sets_how_long_an_offer_holds(practice: Practice) -> None:
    PracticeSettings.objects.filter(practice=practice).update(waitlist_offer_hours=5)
    practice.refresh_from_db()
    slot = cancel(booked_session(practice, days=3))
    waiting(practice)

    offer = offered(slot)

    assert offer is not None
    assert abs(offer.expires_at - (timezone.now() + timedelta(hours=5))) < timedelta(seconds=5)
