"""The portal's choices and the practice's whereabouts: a therapist or anyone, each type's
length and price, only types bookable online, the practice's address, phone and map link on
the pages, in calendar files and reminders, and a calendar-feed link the patient can renew."""

from __future__ import annotations

import re
from datetime import UTC, time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from practice.models import MassageType, Practice, Role
from practice.prices import price_set
from sessions.models import Channel, Session
from sessions.portal.calendar_files import feed_token
from sessions.reminders.composing import reminder_message
from sessions.reminders.messages import ReminderKind
from tests.clock import local, today
from tests.factories import (
    PatientFactory,
    ReminderFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)
from tests.pages import field_errors, logged_in

pytestmark = pytest.mark.django_db

ADDRESS = "Lindenstraße 5\n10115 Berlin"
MAP_URL = "https://www.openstreetmap.org/search?query=Lindenstra%C3%9Fe+5%2C+10115+Berlin"


def url(name: str, practice: Practice, **kwargs: object) -> str:
    return reverse(f"portal:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


def patient_of(practice: Practice, member, email: str) -> Patient:
    patient = PatientFactory(practice=practice, user=member(practice, Role.PATIENT, email=email))
    ScreeningFactory(patient=patient)
    return patient


@pytest.fixture
def ann(practice, member) -> Patient:
    return patient_of(practice, member, "ann@example.com")


@pytest.fixture
def bob(practice, member) -> Patient:
    return patient_of(practice, member, "bob@example.com")


@pytest.fixture
def located(practice) -> Practice:
    practice.settings.address = ADDRESS
    practice.settings.phone = "+49 30 1234567"
    practice.settings.save()
    return practice


def free_starts(html: str) -> list[str]:
    return re.findall(r'name="starts_at" value="([^"]+)"', html)


# --- Therapist and type -----------------------------------------------------------------------


def test_a_chosen_therapist_offers_only_their_times_and_is_booked(practice, ann) -> None:
    TherapistFactory(practice=practice, name="Mara", week__starts=time(9), week__ends=time(12))
    lena = TherapistFactory(
        practice=practice, name="Lena", week__starts=time(14), week__ends=time(18)
    )
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    client = logged_in(ann.user)

    anyone = client.get(url("book", practice), {"massage_type": kind.pk, "day": day})
    with_lena = client.get(
        url("book", practice), {"massage_type": kind.pk, "therapist": lena.pk, "day": day}
    )

    nine = local(practice, day, 9).astimezone(UTC).isoformat()
    two = local(practice, day, 14).astimezone(UTC).isoformat()
    assert {nine, two} <= set(free_starts(anyone.content.decode()))
    lenas = free_starts(with_lena.content.decode())
    assert two in lenas
    assert nine not in lenas
    # "Book" carries the therapist along, and the session is hers.
    assert f'name="therapist" value="{lena.pk}"' in with_lena.content.decode()
    response = client.post(
        url("book", practice),
        {"massage_type": kind.pk, "therapist": lena.pk, "day": day, "starts_at": two},
    )
    assert response.status_code == 302
    assert Session.objects.get().therapist == lena


def test_a_therapist_of_another_practice_cannot_be_chosen(practice, other_practice, ann) -> None:
    TherapistFactory(practice=practice, week=True)
    theirs = TherapistFactory(practice=other_practice, week=True)
    kind = massage_type(practice, "classical")

    response = logged_in(ann.user).get(
        url("book", practice),
        {"massage_type": kind.pk, "therapist": theirs.pk, "day": today(practice, days=1)},
    )

    assert response.status_code == 400
    assert "valid choice" in field_errors(response.content.decode(), "therapist")


def test_a_therapist_who_does_not_give_the_type_is_an_error(practice, ann) -> None:
    classical = massage_type(practice, "classical")
    others = MassageType.objects.for_practice(practice).exclude(pk=classical.pk)
    TherapistFactory(practice=practice, week=True)
    lena = TherapistFactory(practice=practice, name="Lena", week=True, massage_types=others)

    response = logged_in(ann.user).get(
        url("book", practice),
        {"massage_type": classical.pk, "therapist": lena.pk, "day": today(practice, days=1)},
    )

    assert response.status_code == 400
    assert "Lena does not give" in field_errors(response.content.decode(), "therapist")
    assert not free_starts(response.content.decode())


def test_each_type_shows_its_length_and_price(practice, ann) -> None:
    TherapistFactory(practice=practice, week=True)
    priced = massage_type(practice, "classical")
    price_set(massage_type=priced, minutes=priced.default_minutes, amount=Decimal("55.00"))
    unpriced = MassageType.objects.for_practice(practice).exclude(pk=priced.pk).first()
    assert unpriced is not None

    page = logged_in(ann.user).get(url("book", practice)).content.decode()

    assert f"{priced.display_name}, {priced.default_minutes} min, 55.00 EUR" in page
    assert f"{unpriced.display_name}, {unpriced.default_minutes} min, price on request" in page


def test_types_not_bookable_online_are_not_offered(practice, ann) -> None:
    TherapistFactory(practice=practice, week=True)
    desk_only = massage_type(practice, "classical")
    desk_only.online_bookable = False
    desk_only.save()

    page = logged_in(ann.user).get(url("book", practice)).content.decode()
    select = re.search(r'<select name="massage_type".*?</select>', page, re.S)

    assert select is not None
    assert f'value="{desk_only.pk}"' not in select.group(0)


def test_the_booking_page_costs_the_same_queries_however_many_therapists(practice, ann) -> None:
    TherapistFactory(practice=practice, week=True)
    client = logged_in(ann.user)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("book", practice)).status_code == 200
    for _ in range(5):
        TherapistFactory(practice=practice, week=True)
    with CaptureQueriesContext(connection) as six:
        page = client.get(url("book", practice)).content.decode()
    select = re.search(r'<select name="therapist".*?</select>', page, re.S)
    assert select is not None
    assert select.group(0).count("<option") == 1 + 6  # "Anyone" and the six
    assert len(six) == len(one)


# --- The practice's whereabouts -----------------------------------------------------------------


def test_the_portal_pages_show_the_practice_address_phone_and_map_link(located, ann) -> None:
    client = logged_in(ann.user)
    home = reverse("patients:portal", kwargs={"practice_slug": located.slug})
    for page_url in (home, url("my-sessions", located), url("book", located)):
        page = client.get(page_url).content.decode()
        assert "Lindenstraße 5<br>10115 Berlin" in page
        assert 'href="tel:+49 30 1234567"' in page
        assert f'href="{MAP_URL}"' in page
        # A link, not an embedded map: no third-party script on the page.
        assert '<script src="http' not in page


def test_the_session_ics_locates_the_practice_by_its_address(located, ann) -> None:
    therapist = TherapistFactory(practice=located, week=True)
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=local(located, today(located, days=1), 10)
    )

    body = logged_in(ann.user).get(url("session-ics", located, pk=session.pk)).content.decode()

    assert "LOCATION:Linden\\, Lindenstraße 5\\, 10115 Berlin" in body.replace("\r\n ", "")


def test_r21_a_reminder_names_the_practice_address_in_text_and_calendar(located, ann) -> None:
    therapist = TherapistFactory(practice=located, week=True)
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=local(located, today(located, days=1), 10)
    )
    reminder = ReminderFactory(
        session=session, kind=ReminderKind.BOOKING_CONFIRMATION, channel=Channel.EMAIL
    )

    message = reminder_message(reminder, now=timezone.now())

    assert "Lindenstraße 5\n10115 Berlin" in message.text
    assert "Lindenstraße 5<br>10115 Berlin" in (message.html or "")
    [attachment] = message.attachments
    assert "LOCATION:Linden\\, Lindenstraße 5\\, 10115 Berlin" in attachment.content.replace(
        "\r\n ", ""
    )


# --- Renewing the calendar feed -----------------------------------------------------------------


def feed_url_on(client: Client, practice: Practice) -> str:
    page = client.get(url("my-sessions", practice)).content.decode()
    found = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_new_feed_link_ends_the_old_one(practice, ann, bob) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    day = today(practice, days=1)
    SessionFactory(therapist=therapist, patient=bob, starts_at=local(practice, day, 15))
    client = logged_in(ann.user)
    old = feed_url_on(client, practice)
    bobs = feed_token(bob)

    response = client.post(url("feed-renew", practice))

    assert response.status_code == 302
    assert response["Location"] == url("my-sessions", practice) + "?notice=feed-renewed"
    new = feed_url_on(client, practice)
    assert new != old
    assert Client().get(old).status_code == 404
    fresh = Client().get(new)
    assert fresh.status_code == 200
    assert "SUMMARY" not in fresh.content.decode()  # none of Bob's sessions
    # Bob's link is his own: Ann's renewal leaves it working.
    assert Client().get(url("feed", practice, token=bobs)).status_code == 200


def test_renewing_the_feed_link_needs_the_csrf_token_and_a_post(practice, ann) -> None:
    client = logged_in(ann.user, enforce_csrf_checks=True)

    assert client.post(url("feed-renew", practice)).status_code == 403
    assert client.get(url("feed-renew", practice)).status_code == 405
    ann.refresh_from_db()
    assert ann.calendar_feed_version == 0


def test_staff_and_other_practices_patients_cannot_renew_here(
    practice, other_practice, member, desk
) -> None:
    theirs = patient_of(other_practice, member, "hal@example.com")

    assert logged_in(theirs.user).post(url("feed-renew", practice)).status_code in (403, 404)
    assert logged_in(desk).post(url("feed-renew", practice)).status_code == 403
    theirs.refresh_from_db()
    assert theirs.calendar_feed_version == 0
