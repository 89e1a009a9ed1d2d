"""The waitlist's pages: the desk's list (with the offers made) and its form, the patient's
own waitlist in the portal, and the page an offer's link opens, which claims with a POST and
answers every refusal with a page, never an error; for one session and for a whole course."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import Cadence, Course
from patients.models import Patient
from practice.models import Practice, Role
from sessions.booking.sessions import session_book, session_cancel
from sessions.models import (
    FreedSlot,
    Session,
    SessionStatus,
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOffer,
)
from sessions.reminders.links import waitlist_offer_token
from sessions.waitlist.claims import waitlist_offer_claim
from sessions.waitlist.offers import waitlist_offer_slot
from tests.clock import today
from tests.factories import PatientFactory, massage_type
from tests.pages import field_errors, logged_in, text
from tests.sessions.waitlist import (
    at,
    booked_session,
    claim_url,
    screened_patient,
    waiting,
    waiting_for_course,
)

pytestmark = pytest.mark.django_db


def desk_url(practice: Practice, name: str = "waitlist", **kwargs: object) -> str:
    return reverse(f"sessions:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


def portal_url(practice: Practice, name: str = "my-waitlist", **kwargs: object) -> str:
    return reverse(f"portal:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


@pytest.fixture
def ann(practice, member) -> Patient:
    return screened_patient(practice, user=member(practice, Role.PATIENT), given_name="Ann")


def an_offer(practice: Practice, patient: Patient | None = None) -> WaitlistOffer:
    session = booked_session(practice)
    waiting(practice, patient=patient)
    session_cancel(session=session, by=None)
    offer = waitlist_offer_slot(slot_id=FreedSlot.objects.get(session=session).pk)
    assert offer is not None
    return offer


# --- The desk ----------------------------------------------------------------------------------


def test_the_desk_sees_entries_and_the_offers_made(practice, desk) -> None:
    offer = an_offer(practice)
    waiting(practice, patient=PatientFactory(practice=practice, given_name="Zoe"))

    response = logged_in(desk).get(desk_url(practice))

    assert response.status_code == 200
    html = text(response)
    assert offer.entry.patient.full_name in html
    assert "Zoe" in html
    assert f'id="waitlist-entry-{offer.entry_id}"' in html
    assert "Offered" in html


def test_the_desk_adds_a_patient_through_the_form(practice, desk) -> None:
    patient = screened_patient(practice)
    form = {
        "patient": patient.pk,
        "massage_type": massage_type(practice).pk,
        "first_day": today(practice).isoformat(),
        "last_day": today(practice, 14).isoformat(),
        "weekdays": ["0", "4"],
        "earliest": "09:00",
    }

    response = logged_in(desk).post(desk_url(practice), form)

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.weekdays, entry.created_by) == (patient, [0, 4], desk)


def test_bad_input_on_the_desks_form_is_a_400_with_field_errors(practice, desk) -> None:
    form = {
        "patient": screened_patient(practice).pk,
        "massage_type": massage_type(practice).pk,
        "first_day": today(practice, -2).isoformat(),
        "last_day": "not a day",
    }

    response = logged_in(desk).post(desk_url(practice), form)

    assert response.status_code == 400
    assert field_errors(text(response), "last_day")
    form["last_day"] = today(practice, 3).isoformat()
    response = logged_in(desk).post(desk_url(practice), form)
    assert response.status_code == 400
    assert "past" in field_errors(text(response), "first_day")
    assert not WaitlistEntry.objects.exists()


def test_the_desk_takes_an_entry_off(practice, desk) -> None:
    entry = waiting(practice)
    response = logged_in(desk).post(desk_url(practice, "waitlist-withdraw", pk=entry.pk))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistEntryStatus.WITHDRAWN


def test_another_practices_desk_sees_and_withdraws_nothing(
    practice, other_practice, other_desk
) -> None:
    entry = waiting(practice)
    client = logged_in(other_desk)
    assert client.get(desk_url(practice)).status_code == 404
    listed = client.get(desk_url(other_practice))
    assert entry.patient.full_name not in text(listed)
    withdraw = desk_url(other_practice, "waitlist-withdraw", pk=entry.pk)
    assert client.post(withdraw).status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistEntryStatus.ACTIVE


def test_patients_are_refused_the_desks_waitlist(practice, ann) -> None:
    assert logged_in(ann.user).get(desk_url(practice)).status_code == 403


# --- The portal ----------------------------------------------------------------------------------


def test_a_patient_puts_themselves_on_the_waitlist_and_sees_only_their_own(practice, ann) -> None:
    others = waiting(practice)
    client = logged_in(ann.user)
    form = {
        "massage_type": massage_type(practice).pk,
        "first_day": today(practice).isoformat(),
        "last_day": today(practice, 5).isoformat(),
    }

    response = client.post(portal_url(practice), form)

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=ann)
    page = client.get(response.url)
    assert page.status_code == 200
    assert f'id="waitlist-entry-{entry.pk}"' in text(page)
    assert f'id="waitlist-entry-{others.pk}"' not in text(page)
    assert "You are on the waitlist" in text(page)


def test_a_patient_cannot_withdraw_another_patients_entry(practice, ann) -> None:
    others = waiting(practice)
    client = logged_in(ann.user)
    response = client.post(portal_url(practice, "my-waitlist-withdraw", pk=others.pk))
    assert response.status_code == 404
    own = waiting(practice, patient=ann)
    assert client.post(portal_url(practice, "my-waitlist-withdraw", pk=own.pk)).status_code == 302
    own.refresh_from_db()
    assert own.status == WaitlistEntryStatus.WITHDRAWN


def test_bad_input_on_the_portal_form_is_a_400_with_field_errors(practice, ann) -> None:
    form = {
        "massage_type": massage_type(practice).pk,
        "first_day": today(practice, 3).isoformat(),
        "last_day": today(practice, 1).isoformat(),
    }
    response = logged_in(ann.user).post(portal_url(practice), form)
    assert response.status_code == 400
    assert field_errors(text(response), "last_day")


# --- The offer's link ----------------------------------------------------------------------------


def test_the_offer_link_shows_the_offer_and_a_post_books_it(practice, client) -> None:
    offer = an_offer(practice)

    shown = client.get(claim_url(offer))
    assert shown.status_code == 200
    assert 'id="offer-slot"' in text(shown)
    assert not Session.objects.filter(status=SessionStatus.BOOKED).exists()

    claimed = client.post(claim_url(offer))
    assert claimed.status_code == 200
    assert 'id="offer-claimed"' in text(claimed)
    assert Session.objects.get(status=SessionStatus.BOOKED).patient == offer.entry.patient

    again = client.post(claim_url(offer))
    assert again.status_code == 410
    assert 'id="reply-refused"' in text(again)


def test_an_expired_offer_link_is_a_page_saying_so(practice, client, clock) -> None:
    offer = an_offer(practice)
    clock.move_to(at(offer))
    for response in (client.get(claim_url(offer)), client.post(claim_url(offer))):
        assert response.status_code == 410
        assert "run out" in text(response)
    assert not Session.objects.filter(status=SessionStatus.BOOKED).exists()


def test_a_time_taken_meanwhile_is_a_409_page(practice, client) -> None:
    offer = an_offer(practice)
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=offer.therapist,
        massage_type=offer.massage_type,
        starts_at=offer.starts_at,
    )
    response = client.post(claim_url(offer))
    assert response.status_code == 409
    assert "Someone else booked this time" in text(response)


def test_an_offer_link_under_another_practice_or_forged_is_a_400_page(
    practice, other_practice, client
) -> None:
    offer = an_offer(practice)
    for address in (
        claim_url(offer, other_practice),
        claim_url(offer).replace("/offer/", "/offer/x"),
    ):
        assert client.get(address).status_code == 400
        assert client.post(address).status_code == 400
    assert not Session.objects.filter(status=SessionStatus.BOOKED).exists()


def test_a_patient_sees_their_open_offer_with_its_link(practice, ann, desk) -> None:
    offer = an_offer(practice, patient=ann)

    page = text(logged_in(ann.user).get(portal_url(practice)))

    assert f'href="{claim_url(offer)}"' in page
    # The desk sees the offer, not the patient's link.
    assert claim_url(offer) not in text(logged_in(desk).get(desk_url(practice)))


# --- Waiting for a whole course ------------------------------------------------------------------


def a_course_offer(practice: Practice, patient: Patient | None = None) -> WaitlistOffer:
    session = booked_session(practice)
    waiting_for_course(practice, patient=patient)
    session_cancel(session=session, by=None)
    offer = waitlist_offer_slot(slot_id=FreedSlot.objects.get(session=session).pk)
    assert offer is not None
    return offer


def course_form(practice: Practice, **fields: object) -> dict:
    form: dict = {
        "kind": WaitlistEntryKind.COURSE,
        "massage_type": massage_type(practice).pk,
        "sessions_count": "12",
        "cadence": Cadence.DAILY,
        "first_day": today(practice).isoformat(),
        "last_day": today(practice, 14).isoformat(),
    }
    form.update(fields)
    return form


def test_the_desk_adds_a_course_entry_through_the_form(practice, desk) -> None:
    patient = screened_patient(practice)

    response = logged_in(desk).post(desk_url(practice), course_form(practice, patient=patient.pk))

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.kind, entry.sessions_count, entry.cadence) == (
        patient,
        WaitlistEntryKind.COURSE,
        12,
        Cadence.DAILY,
    )


def test_a_course_entry_out_of_shape_is_a_400_with_field_errors(practice, desk) -> None:
    form = course_form(practice, patient=screened_patient(practice).pk, sessions_count="")
    form["cadence"] = ""

    response = logged_in(desk).post(desk_url(practice), form)

    assert response.status_code == 400
    html = text(response)
    assert "number of sessions" in field_errors(html, "sessions_count")
    assert "R10" in field_errors(html, "cadence")
    form.update(sessions_count="20", cadence=Cadence.DAILY)
    response = logged_in(desk).post(desk_url(practice), form)
    assert response.status_code == 400
    assert "R9" in field_errors(text(response), "sessions_count")
    assert not WaitlistEntry.objects.exists()


def test_the_desk_sees_a_course_entry_its_offer_and_the_course_booked(practice, desk) -> None:
    offer = a_course_offer(practice)
    client = logged_in(desk)

    html = text(client.get(desk_url(practice)))

    assert "A course of 10, every other day:" in html
    assert "(a course of 10, the last on" in html
    waitlist_offer_claim(practice=practice, token=waitlist_offer_token(offer.pk))
    html = text(client.get(desk_url(practice) + "?status=booked"))
    offer.refresh_from_db()
    course_page = reverse(
        "courses:course-detail",
        kwargs={"practice_slug": practice.slug, "pk": offer.session.course_id},
    )
    assert f'href="{course_page}"' in html


def test_another_practices_desk_cannot_withdraw_a_course_entry(
    practice, other_practice, other_desk
) -> None:
    entry = waiting_for_course(practice)
    withdraw = desk_url(other_practice, "waitlist-withdraw", pk=entry.pk)
    assert logged_in(other_desk).post(withdraw).status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistEntryStatus.ACTIVE


def test_a_patient_waits_for_a_course_in_the_portal(practice, ann) -> None:
    client = logged_in(ann.user)

    response = client.post(portal_url(practice), course_form(practice))

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(patient=ann)
    assert entry.kind == WaitlistEntryKind.COURSE
    assert "A course of 12, daily:" in text(client.get(response.url))


def test_a_patient_sees_their_open_course_offer_with_its_link(practice, ann) -> None:
    offer = a_course_offer(practice, patient=ann)

    page = text(logged_in(ann.user).get(portal_url(practice)))

    assert f'href="{claim_url(offer)}"' in page
    assert "Book this course" in page


def test_the_course_offer_link_shows_the_course_and_a_post_books_it(practice, client) -> None:
    offer = a_course_offer(practice)

    shown = client.get(claim_url(offer))
    assert shown.status_code == 200
    assert text(shown).count("<li><time") == 10
    assert not Course.objects.exists()

    claimed = client.post(claim_url(offer))
    assert claimed.status_code == 200
    assert "Your course is booked" in text(claimed)
    course = Course.objects.get()
    assert course.patient == offer.entry.patient
    assert text(claimed).count("<li><time") == 10

    again = client.post(claim_url(offer))
    assert again.status_code == 410
    assert Course.objects.count() == 1


def test_a_course_whose_session_was_taken_meanwhile_is_a_409_page(practice, client) -> None:
    offer = a_course_offer(practice)
    session_book(
        practice=practice,
        patient=PatientFactory(practice=practice),
        therapist=offer.therapist,
        massage_type=offer.massage_type,
        starts_at=offer.course_start_times[2],
    )

    response = client.post(claim_url(offer))

    assert response.status_code == 409
    assert "session 3 of this course" in text(response)
    assert not Course.objects.exists()


def test_an_expired_course_offer_link_is_a_page_saying_so(practice, client, clock) -> None:
    offer = a_course_offer(practice)
    clock.move_to(at(offer))
    response = client.post(claim_url(offer))
    assert response.status_code == 410
    assert "run out" in text(response)
    assert not Course.objects.exists()
