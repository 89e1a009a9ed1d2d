"""Waiting for a whole course: a freed time is offered to a course entry when a whole course
can start at it (planned by the course planning service), the offer keeps the plan, and
claiming books the whole course through the course booking service, or nothing."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses.models import Cadence, Course, CourseStatus
from practice.errors import Conflict
from practice.models import Practice, PracticeSettings
from sessions.booking.sessions import session_book
from sessions.models import (
    Reminder,
    ReminderStatus,
    Session,
    SessionStatus,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from sessions.reminders.composing import reminder_message
from sessions.reminders.messages import ReminderKind
from sessions.waitlist.claims import OFFER_EXPIRED, waitlist_offer_claim
from sessions.waitlist.offers import waitlist_offers_sweep
from tests.clock import local, today
from tests.factories import CourseFactory, PatientFactory, ScreeningFactory, massage_type
from tests.sessions.waitlist import (
    at,
    booked_session,
    cancel,
    offer_rows,
    offered,
    screened_patient,
    token,
    waiting,
    waiting_for_course,
)

pytestmark = pytest.mark.django_db


def course_offer(practice: Practice, **entry: object) -> WaitlistOffer:
    """A classical session three days ahead at 10:00 cancelled, and offered to a course entry."""
    waiting_for_course(practice, **entry)
    offer = offered(cancel(booked_session(practice)))
    assert offer is not None
    return offer


def take_the_time(offer: WaitlistOffer, sequence: int) -> Session:
    """Another patient books the time of the offered course's session `sequence`."""
    return session_book(
        practice=offer.practice,
        patient=PatientFactory(practice=offer.practice),
        therapist=offer.therapist,
        massage_type=offer.massage_type,
        starts_at=offer.course_start_times[sequence - 1],
    )


def test_a_freed_time_a_whole_course_can_start_at_is_offered_with_the_plan(
    practice: Practice,
) -> None:
    session = booked_session(practice, days=3, hour=10)
    entry = waiting_for_course(practice)

    offer = offered(cancel(session))

    assert offer is not None
    assert offer.entry == entry
    starts = [start.astimezone(practice.zone) for start in offer.course_start_times]
    assert starts[0] == offer.starts_at == session.starts_at
    # R10: every other day; R24: at the freed time's local wall-clock time.
    assert [start.date() for start in starts] == [today(practice, 3 + 2 * n) for n in range(10)]
    assert {start.time() for start in starts} == {time(10)}
    assert offer.therapist_id == session.therapist_id


def test_the_course_offer_message_names_the_course(practice: Practice) -> None:
    offer = course_offer(practice)
    email = next(row for row in offer_rows(offer) if row.channel == "email")

    message = reminder_message(email, now=timezone.now())

    assert "10 Classical massage sessions" in message.text
    assert "every other day" in message.text
    assert message.subject.startswith("Your course can start")
    assert f"/waitlist/offer/{token(offer)}/" in message.text


def test_claiming_a_course_offer_books_the_whole_course(practice: Practice) -> None:
    offer = course_offer(practice, cadence=Cadence.DAILY, sessions_count=12)
    entry = offer.entry

    course = waitlist_offer_claim(practice=practice, token=token(offer))

    assert isinstance(course, Course)
    assert (course.patient_id, course.therapist_id, course.massage_type_id) == (
        entry.patient_id,
        offer.therapist_id,
        entry.massage_type_id,
    )
    assert (course.sessions_count, course.cadence) == (12, Cadence.DAILY)
    booked = course.sessions.filter(status=SessionStatus.BOOKED).order_by("starts_at")
    assert [s.starts_at for s in booked] == offer.course_start_times
    # R14: the first session is the gentle one.
    assert booked[0].minutes == 10
    offer.refresh_from_db()
    entry.refresh_from_db()
    offer.slot.refresh_from_db()
    assert (offer.status, offer.session_id) == (WaitlistOfferStatus.CLAIMED, booked[0].pk)
    assert entry.status == WaitlistEntryStatus.BOOKED
    assert offer.slot.closed_at is not None
    assert {r.status for r in offer_rows(offer)} == {ReminderStatus.CANCELLED}
    # R21: the course's confirmation, as for any course booked.
    assert Reminder.objects.filter(course=course, kind=ReminderKind.BOOKING_CONFIRMATION).exists()


def test_an_expired_course_offer_cannot_be_claimed(practice: Practice, clock) -> None:
    offer = course_offer(practice)
    clock.move_to(at(offer))

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=practice, token=token(offer))

    assert refused.value.code == OFFER_EXPIRED
    assert not Course.objects.exists()
    waitlist_offers_sweep()
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.EXPIRED


def test_a_course_whose_session_was_taken_meanwhile_is_a_conflict_and_books_nothing(
    practice: Practice,
) -> None:
    offer = course_offer(practice)
    take_the_time(offer, 3)

    with pytest.raises(Conflict) as lost:
        waitlist_offer_claim(practice=practice, token=token(offer))

    assert lost.value.body["sequence"] == 3
    assert not Course.objects.exists()
    assert not Session.objects.filter(patient=offer.entry.patient).exists()
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.OPEN


def test_a_freed_time_no_whole_course_fits_is_offered_to_the_single_session_entry(
    practice: Practice,
) -> None:
    # Ten sessions every other day from day 3 end on day 21, past a horizon of 20 days.
    PracticeSettings.objects.filter(practice=practice).update(booking_horizon_days=20)
    practice.refresh_from_db()
    course_entry = waiting_for_course(practice)
    single = waiting(practice)

    offer = offered(cancel(booked_session(practice, days=3)))

    assert offer is not None
    assert offer.entry == single
    assert offer.course_starts == []
    assert not course_entry.offers.exists()


def test_every_session_of_an_offered_course_keeps_to_the_entrys_time_of_day(
    practice: Practice,
) -> None:
    session = booked_session(practice, days=3, hour=10)
    # Day 7 at 10:00 is taken: the plan moves that session to the nearest free time, before.
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=session.therapist,
        massage_type=session.massage_type,
        starts_at=local(practice, today(practice, 7), 10),
    )
    mornings_from_ten = waiting_for_course(practice, earliest=time(10), latest=time(10, 30))
    any_time = waiting_for_course(practice)

    offer = offered(cancel(session))

    assert offer is not None
    assert offer.entry == any_time
    assert not mornings_from_ten.offers.exists()
    third = offer.course_start_times[2].astimezone(practice.zone)
    assert third.date() == today(practice, 7)
    assert third.time() < time(10)


def test_a_course_entrys_weekdays_are_the_days_its_course_may_start_on(
    practice: Practice,
) -> None:
    session = booked_session(practice, days=3)
    start_day = session.starts_at.astimezone(practice.zone).weekday()
    waiting_for_course(practice, weekdays=[(start_day + 1) % 7])
    starts_that_day = waiting_for_course(practice, weekdays=[start_day])

    offer = offered(cancel(session))

    assert offer is not None
    assert offer.entry == starts_that_day


def test_r2_a_contraindication_found_after_the_offer_refuses_the_claim(
    practice: Practice,
) -> None:
    offer = course_offer(practice)
    ScreeningFactory(patient=offer.entry.patient, yes={"oncology": ""})

    with pytest.raises(ValidationError) as refused:
        waitlist_offer_claim(practice=practice, token=token(offer))

    assert "R2" in refused.value.message_dict["patient"][0]
    assert not Course.objects.exists()
    assert not Session.objects.filter(status=SessionStatus.BOOKED).exists()


def test_r1_a_course_entry_without_a_valid_screening_on_the_start_day_is_passed_over(
    practice: Practice,
) -> None:
    lapsing = waiting_for_course(practice)
    lapsing.patient.screenings.update(valid_until=today(practice, 1))
    screened = waiting_for_course(practice)

    offer = offered(cancel(booked_session(practice, days=3)))

    assert offer is not None
    assert offer.entry == screened


def test_r11_a_patient_with_four_courses_this_year_is_not_offered_a_fifth(
    practice: Practice,
) -> None:
    patient = screened_patient(practice)
    for months in (1, 3, 5, 7):
        CourseFactory(patient=patient, start_date=today(practice, -30 * months), bare=True)
    waiting_for_course(practice, patient=patient)
    free_to_start = waiting_for_course(practice)

    offer = offered(cancel(booked_session(practice)))

    assert offer is not None
    assert offer.entry == free_to_start


def test_r12_a_course_entry_is_not_offered_the_therapist_of_its_last_course_of_that_type(
    practice: Practice,
) -> None:
    patient = screened_patient(practice)
    with_the_same = booked_session(practice, days=3)
    CourseFactory(
        patient=patient,
        therapist=with_the_same.therapist,
        kind="classical",
        start_date=today(practice, -60),
        status=CourseStatus.COMPLETED,
        bare=True,
    )
    entry = waiting_for_course(practice, patient=patient)
    # The patient claims it themselves and cannot override R12's warning: not offered.
    assert offered(cancel(with_the_same)) is None

    # Another therapist is the other way to stop the body adapting (R12).
    offer = offered(cancel(booked_session(practice, days=4)))

    assert offer is not None
    assert offer.entry == entry


@pytest.mark.parametrize("count", [None, 9, 16])
def test_r9_a_course_entry_needs_ten_to_fifteen_sessions(practice: Practice, count) -> None:
    with pytest.raises(ValidationError) as refused:
        waiting_for_course(practice, sessions_count=count)
    assert "sessions_count" in refused.value.message_dict


@pytest.mark.parametrize("cadence", ["", "weekly"])
def test_r10_a_course_entry_needs_a_cadence_of_daily_or_every_other_day(
    practice: Practice, cadence: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        waiting_for_course(practice, cadence=cadence)
    assert "cadence" in refused.value.message_dict


def test_a_single_session_entry_keeps_no_course_shape(practice: Practice) -> None:
    entry = waiting(practice, sessions_count=12, cadence=Cadence.DAILY)
    assert (entry.kind, entry.sessions_count, entry.cadence) == (
        WaitlistEntryKind.SESSION,
        None,
        "",
    )


def test_a_course_entry_may_not_be_for_a_type_the_practice_books_itself(
    practice: Practice,
) -> None:
    kind = massage_type(practice)
    kind.online_bookable = False
    kind.save()
    with pytest.raises(ValidationError) as refused:
        waiting_for_course(practice, massage_type=kind)
    assert "massage_type" in refused.value.message_dict


def test_r12_a_course_entry_naming_the_therapist_of_the_last_course_of_its_type_is_refused(
    practice: Practice,
) -> None:
    """No offer could ever be made to it (the patient cannot override R12's warning), so it
    is refused when added, naming the rule; open to any therapist, it waits."""
    patient = screened_patient(practice)
    last = booked_session(practice, days=3)
    CourseFactory(
        patient=patient,
        therapist=last.therapist,
        kind="classical",
        start_date=today(practice, -60),
        status=CourseStatus.COMPLETED,
        bare=True,
    )
    with pytest.raises(ValidationError) as refused:
        waiting_for_course(practice, patient=patient, therapist=last.therapist)
    assert refused.value.message_dict["therapist"][0].startswith("R12:")
    assert waiting_for_course(practice, patient=patient).therapist is None
