"""The patient portal's booking pages through Django's test client: invitations, who may open
what (two patients, two practices, staff), booking only cleared types, moving, cancelling with
the late warning, the .ics and the calendar feed, and the upcoming list's query count."""

from __future__ import annotations

import re
from datetime import UTC, time, timedelta

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Course, CourseStatus
from patients import invitations
from patients.models import Patient
from practice.models import MassageType, Membership, Practice, Role, User
from sessions.availability import availability
from sessions.models import Session, SessionStatus
from sessions.portal.calendar_files import feed_token
from sessions.reminders.ics import ICS_CONTENT_TYPE
from tests.clock import local, today
from tests.factories import (
    PASSWORD,
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)
from tests.pages import field_errors, logged_in

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "lilac-harbour-917-kettle"


def url(name: str, practice: Practice, **kwargs: object) -> str:
    return reverse(f"portal:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


def offered_type_codes(html: str, practice: Practice) -> set[str]:
    select = re.search(r'<select name="massage_type".*?</select>', html, re.S)
    assert select is not None, "the booking page has no type choice"
    ids = {int(i) for i in re.findall(r'value="(\d+)"', select.group(0))}
    return set(MassageType.objects.filter(pk__in=ids).values_list("code", flat=True))


@pytest.fixture
def therapist(practice):
    return TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(20))


@pytest.fixture
def ann(practice, member) -> Patient:
    user = member(practice, Role.PATIENT, email="ann@example.com")
    patient = PatientFactory(practice=practice, user=user, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient)
    return patient


@pytest.fixture
def bob(practice, member) -> Patient:
    user = member(practice, Role.PATIENT, email="bob@example.com")
    patient = PatientFactory(practice=practice, user=user, given_name="Bob", family_name="Stone")
    ScreeningFactory(patient=patient)
    return patient


@pytest.fixture
def harbour_patient(other_practice, member) -> Patient:
    user = member(other_practice, Role.PATIENT, email="hal@example.com")
    return PatientFactory(practice=other_practice, user=user)


def patient_urls(practice: Practice, session: Session) -> list[str]:
    return [
        url("session", practice, pk=session.pk),
        url("move", practice, pk=session.pk),
        url("cancel", practice, pk=session.pk),
        url("session-ics", practice, pk=session.pk),
    ]


# --- Who may open what ---------------------------------------------------------------------


def test_another_patients_session_is_not_found(practice, therapist, ann, bob) -> None:
    bobs = SessionFactory(
        therapist=therapist,
        patient=bob,
        starts_at=local(practice, today(practice, days=1), 10),
    )
    client = logged_in(ann.user)
    for address in patient_urls(practice, bobs):
        assert client.get(address).status_code == 404, address
    # Nor by a crafted POST: Bob's session stays booked where it was.
    assert (
        client.post(url("cancel", practice, pk=bobs.pk), {"late_confirmed": "on"}).status_code
        == 404
    )
    moved_to = local(practice, today(practice, days=1), 15).isoformat()
    response = client.post(
        url("move", practice, pk=bobs.pk),
        {"day": today(practice, days=1), "starts_at": moved_to},
    )
    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.status == SessionStatus.BOOKED
    assert bobs.starts_at == local(practice, today(practice, days=1), 10)


def test_the_list_shows_only_the_patients_own_sessions(practice, therapist, ann, bob) -> None:
    day = today(practice, days=1)
    SessionFactory(therapist=therapist, patient=ann, starts_at=local(practice, day, 10), minutes=30)
    SessionFactory(therapist=therapist, patient=bob, starts_at=local(practice, day, 12), minutes=45)
    html = logged_in(ann.user).get(url("my-sessions", practice)).content.decode()
    assert "10:00–10:30" in html
    assert "12:00–12:45" not in html


def test_a_patient_of_another_practice_sees_nothing_here(
    practice, therapist, ann, harbour_patient
) -> None:
    anns = SessionFactory(
        therapist=therapist,
        patient=ann,
        starts_at=local(practice, today(practice, days=1), 10),
    )
    client = logged_in(harbour_patient.user)
    for address in [
        url("my-sessions", practice),
        url("book", practice),
        *patient_urls(practice, anns),
    ]:
        assert client.get(address).status_code == 404, address


def test_staff_are_refused_the_portal_pages(practice, therapist, ann, desk) -> None:
    anns = SessionFactory(
        therapist=therapist,
        patient=ann,
        starts_at=local(practice, today(practice, days=1), 10),
    )
    client = logged_in(desk)
    for address in [
        url("my-sessions", practice),
        url("book", practice),
        *patient_urls(practice, anns),
    ]:
        assert client.get(address).status_code == 403, address


def test_patients_cannot_send_invitations(practice, ann, bob) -> None:
    response = logged_in(ann.user).post(url("invite", practice, pk=bob.pk))
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(practice) -> None:
    response = Client().get(url("my-sessions", practice))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Booking --------------------------------------------------------------------------------


def test_types_the_screening_blocks_are_not_offered(practice, therapist, member) -> None:
    # R4: pregnancy blocks cupping (and only cupping).
    user = member(practice, Role.PATIENT)
    patient = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=patient, yes={"pregnancy": ""})
    html = logged_in(user).get(url("book", practice)).content.decode()
    codes = offered_type_codes(html, practice)
    assert "cupping" not in codes
    assert {"classical", "relaxing"} <= codes


def test_a_crafted_post_cannot_book_a_blocked_type(practice, therapist, member) -> None:
    user = member(practice, Role.PATIENT)
    patient = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=patient, yes={"pregnancy": ""})
    cupping = massage_type(practice, "cupping")
    day = today(practice, days=1)
    response = logged_in(user).post(
        url("book", practice),
        {"massage_type": cupping.pk, "day": day, "starts_at": local(practice, day, 10).isoformat()},
    )
    assert response.status_code == 400
    assert "valid choice" in field_errors(response.content.decode(), "massage_type")
    assert not Session.objects.exists()


def test_without_a_valid_screening_nothing_can_be_booked(practice, therapist, member) -> None:
    user = member(practice, Role.PATIENT)
    PatientFactory(practice=practice, user=user)  # never screened (R1)
    client = logged_in(user)
    html = client.get(url("book", practice)).content.decode()
    assert "a valid screening is needed first" in html
    day = today(practice, days=1)
    response = client.post(
        url("book", practice),
        {
            "massage_type": massage_type(practice).pk,
            "day": day,
            "starts_at": local(practice, day, 10).isoformat(),
        },
    )
    assert response.status_code == 400
    assert not Session.objects.exists()


def test_a_screening_running_out_before_the_day_blocks_that_day(practice, therapist, ann) -> None:
    # The screening is valid for the practice's 30 days (R1); 40 days ahead it is not.
    later = today(practice, days=40)
    response = logged_in(ann.user).get(
        url("book", practice), {"massage_type": massage_type(practice).pk, "day": later}
    )
    assert response.status_code == 400
    assert "R1" in field_errors(response.content.decode(), "massage_type")


def test_r8_a_reading_over_160_today_blocks_today_only(practice, therapist, ann) -> None:
    ScreeningFactory(patient=ann, systolic=168, diastolic=96)
    kind = massage_type(practice, "classical")
    client = logged_in(ann.user)

    assert "classical" in offered_type_codes(
        client.get(url("book", practice)).content.decode(), practice
    )
    later_today = local(practice, today(practice), 17)
    refused = client.post(
        url("book", practice),
        {"massage_type": kind.pk, "day": today(practice), "starts_at": later_today.isoformat()},
    )
    tomorrow = today(practice, days=1)
    booked = client.post(
        url("book", practice),
        {
            "massage_type": kind.pk,
            "day": tomorrow,
            "starts_at": local(practice, tomorrow, 17).isoformat(),
        },
    )

    assert refused.status_code == 400
    assert "R8" in field_errors(refused.content.decode(), "massage_type")
    assert booked.status_code == 302
    assert Session.objects.get().starts_at == local(practice, tomorrow, 17)


def test_a_patient_books_a_free_time(practice, therapist, ann) -> None:
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    client = logged_in(ann.user)
    page = client.get(url("book", practice), {"massage_type": kind.pk, "day": day})
    ten = local(practice, day, 10)
    assert ten.astimezone(UTC).isoformat() in page.content.decode()

    response = client.post(
        url("book", practice), {"massage_type": kind.pk, "day": day, "starts_at": ten.isoformat()}
    )

    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("session", practice, pk=session.pk) + "?notice=booked"
    assert (session.patient, session.therapist, session.massage_type) == (ann, therapist, kind)
    assert session.starts_at == ten
    assert session.minutes == kind.default_minutes
    assert session.booked_by == ann.user
    detail = client.get(response["Location"]).content.decode()
    assert "Your session is booked." in detail


def test_a_time_taken_meanwhile_is_refused_with_a_clear_message(
    practice, therapist, ann, bob
) -> None:
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    ten = local(practice, day, 10)
    # Between showing the free times and pressing "Book", Bob got 10:00.
    SessionFactory(therapist=therapist, patient=bob, starts_at=ten)
    response = logged_in(ann.user).post(
        url("book", practice), {"massage_type": kind.pk, "day": day, "starts_at": ten.isoformat()}
    )
    assert response.status_code == 409
    assert "This time is no longer free" in response.content.decode()
    assert Session.objects.filter(patient=ann).count() == 0


def test_times_overlapping_the_patients_own_session_are_not_offered(
    practice, therapist, ann
) -> None:
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    other = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(20))
    SessionFactory(therapist=other, patient=ann, starts_at=local(practice, day, 10))
    html = (
        logged_in(ann.user)
        .get(url("book", practice), {"massage_type": kind.pk, "day": day})
        .content.decode()
    )
    assert local(practice, day, 9).astimezone(UTC).isoformat() in html
    assert local(practice, day, 10).astimezone(UTC).isoformat() not in html


def test_the_portal_offers_exactly_the_times_availability_offers(
    practice, therapist, ann, bob
) -> None:
    """One computation of bookable times (R23, R19): the portal shows `availability()`'s
    answer for the type, the qualified therapists and the patient, on a busy day."""
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    other = TherapistFactory(practice=practice, week__starts=time(12), week__ends=time(16))
    SessionFactory(therapist=therapist, patient=bob, starts_at=local(practice, day, 11))
    SessionFactory(therapist=other, patient=ann, starts_at=local(practice, day, 14))

    html = (
        logged_in(ann.user)
        .get(url("book", practice), {"massage_type": kind.pk, "day": day})
        .content.decode()
    )

    offered = re.findall(r'name="starts_at" value="([^"]+)"', html)
    expected = availability(
        practice=practice,
        therapist_ids=[therapist.pk, other.pk],
        first=day,
        last=day,
        minutes=kind.default_minutes,
        now=timezone.now(),
        patient_id=ann.pk,
    )
    assert offered == [slot.starts_at.isoformat() for slot in expected]
    assert len(offered) > 10


@pytest.mark.parametrize("start", ["", "garbage", "2026-13-45T99:00", "2031-01-01T10:07:00+00:00"])
def test_a_typed_start_that_is_no_free_time_is_refused(practice, therapist, ann, start) -> None:
    kind = massage_type(practice, "classical")
    response = logged_in(ann.user).post(
        url("book", practice),
        {"massage_type": kind.pk, "day": today(practice, days=1), "starts_at": start},
    )
    assert response.status_code == 409
    assert not Session.objects.exists()


def test_a_day_beyond_the_horizon_is_an_error_next_to_the_field(practice, therapist, ann) -> None:
    far = today(practice, days=400)
    response = logged_in(ann.user).get(
        url("book", practice), {"massage_type": massage_type(practice).pk, "day": far}
    )
    assert response.status_code == 400
    assert "takes bookings up to" in field_errors(response.content.decode(), "day")


# --- Moving and cancelling ------------------------------------------------------------------


def test_a_patient_moves_a_session_to_another_free_time(practice, therapist, ann) -> None:
    day = today(practice, days=1)
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=local(practice, day, 10), minutes=30
    )
    client = logged_in(ann.user)
    page = client.get(url("move", practice, pk=session.pk), {"day": day}).content.decode()
    assert local(practice, day, 10).astimezone(UTC).isoformat() not in page
    two = local(practice, day, 14)

    response = client.post(
        url("move", practice, pk=session.pk), {"day": day, "starts_at": two.isoformat()}
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == two
    assert session.minutes == 30
    assert session.schedule_version == 2


def test_moving_to_a_taken_time_is_refused(practice, therapist, ann, bob) -> None:
    day = today(practice, days=1)
    session = SessionFactory(therapist=therapist, patient=ann, starts_at=local(practice, day, 10))
    SessionFactory(therapist=therapist, patient=bob, starts_at=local(practice, day, 14))
    response = logged_in(ann.user).post(
        url("move", practice, pk=session.pk),
        {"day": day, "starts_at": local(practice, day, 14).isoformat()},
    )
    assert response.status_code == 409
    session.refresh_from_db()
    assert session.starts_at == local(practice, day, 10)


def test_inside_the_notice_the_cancel_page_warns_of_a_late_cancellation(
    practice, therapist, ann
) -> None:
    # 24 h notice (the default); the session is in 3 hours.
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=timezone.now() + timedelta(hours=3)
    )
    client = logged_in(ann.user)
    page = client.get(url("cancel", practice, pk=session.pk)).content.decode()
    assert 'id="late-warning"' in page
    assert "recorded as a late cancellation" in page

    response = client.post(
        url("cancel", practice, pk=session.pk), {"reason": "Ill", "late_confirmed": "True"}
    )

    assert response.status_code == 302
    assert response["Location"].endswith("?notice=cancelled-late")
    session.refresh_from_db()
    # The warning and the service agree.
    assert session.status == SessionStatus.CANCELLED
    assert session.late_cancellation
    assert session.cancellation_reason == "Ill"
    assert session.cancelled_by == ann.user


def test_outside_the_notice_there_is_no_warning_and_no_late_mark(practice, therapist, ann) -> None:
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=timezone.now() + timedelta(days=3)
    )
    client = logged_in(ann.user)
    page = client.get(url("cancel", practice, pk=session.pk)).content.decode()
    assert "late-warning" not in page

    response = client.post(url("cancel", practice, pk=session.pk), {"reason": ""})

    assert response["Location"].endswith("?notice=cancelled")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert not session.late_cancellation


def test_a_cancel_sent_without_having_seen_the_warning_shows_it_first(
    practice, therapist, ann
) -> None:
    # The page was opened outside the notice; by the time it is sent, the session is near.
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=timezone.now() + timedelta(hours=2)
    )
    response = logged_in(ann.user).post(url("cancel", practice, pk=session.pk), {"reason": ""})
    assert response.status_code == 409
    assert 'id="late-warning"' in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_a_cancelled_session_cannot_be_cancelled_or_moved_again(practice, therapist, ann) -> None:
    session = SessionFactory(
        therapist=therapist,
        patient=ann,
        starts_at=timezone.now() + timedelta(days=2),
        status=SessionStatus.CANCELLED,
    )
    client = logged_in(ann.user)
    assert client.post(url("cancel", practice, pk=session.pk), {}).status_code == 409
    assert client.get(url("move", practice, pk=session.pk)).status_code == 409


# --- Calendar files -------------------------------------------------------------------------


def test_the_ics_download_holds_the_session(practice, therapist, ann) -> None:
    start = local(practice, today(practice, days=1), 10)
    session = SessionFactory(therapist=therapist, patient=ann, starts_at=start)
    response = logged_in(ann.user).get(url("session-ics", practice, pk=session.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == ICS_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body
    assert f"UID:session-{session.pk}@" in body
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in body


def test_the_feed_lists_the_patients_active_sessions_only(practice, therapist, ann, bob) -> None:
    day = today(practice, days=1)
    own = SessionFactory(therapist=therapist, patient=ann, starts_at=local(practice, day, 10))
    cancelled = SessionFactory(
        therapist=therapist,
        patient=ann,
        starts_at=local(practice, day, 12),
        status=SessionStatus.CANCELLED,
    )
    bobs = SessionFactory(therapist=therapist, patient=bob, starts_at=local(practice, day, 15))
    page = logged_in(ann.user).get(url("my-sessions", practice)).content.decode()
    feed = re.search(r'id="feed-url"[^>]*value="([^"]+)"', page)
    assert feed is not None

    response = Client().get(feed.group(1))  # no login: calendar apps cannot log in

    assert response.status_code == 200
    assert response["Content-Type"] == ICS_CONTENT_TYPE
    body = response.content.decode()
    assert f"UID:session-{own.pk}@" in body
    assert f"session-{cancelled.pk}@" not in body
    assert f"session-{bobs.pk}@" not in body


def test_a_bad_feed_token_is_not_found(practice, ann, bob) -> None:
    good = feed_token(ann)
    client = Client()
    assert client.get(url("feed", practice, token=good[:-2] + "xx")).status_code == 404
    assert client.get(url("feed", practice, token="nothing")).status_code == 404
    forged = signing.dumps({"patient": bob.pk, "user": bob.user_id}, salt="another-salt")
    assert client.get(url("feed", practice, token=forged)).status_code == 404


def test_a_feed_token_works_in_its_own_practice_only(practice, other_practice, ann) -> None:
    response = Client().get(url("feed", other_practice, token=feed_token(ann)))
    assert response.status_code == 404


def test_unlinking_the_account_ends_the_feed(practice, ann) -> None:
    token = feed_token(ann)
    Patient.objects.filter(pk=ann.pk).update(user=None)
    assert Client().get(url("feed", practice, token=token)).status_code == 404


# --- The upcoming list and the course -------------------------------------------------------


def test_the_upcoming_list_costs_the_same_queries_however_long(practice, therapist, ann) -> None:
    day = today(practice, days=1)
    client = logged_in(ann.user)
    SessionFactory(therapist=therapist, patient=ann, starts_at=local(practice, day, 9))
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("my-sessions", practice)).status_code == 200
    for hour in range(10, 16):
        SessionFactory(therapist=therapist, patient=ann, starts_at=local(practice, day, hour))
    with CaptureQueriesContext(connection) as seven:
        response = client.get(url("my-sessions", practice))
    assert response.content.decode().count('class="card"') == 7
    assert len(seven) == len(one)


def active_course(practice: Practice, therapist, patient: Patient) -> Course:
    """A course of 10 classical massages that began four days ago; no session of it yet."""
    return CourseFactory(
        patient=patient,
        therapist=therapist,
        kind="classical",
        screening=patient.screenings.first(),
        start_date=today(practice, days=-4),
        status=CourseStatus.ACTIVE,
        booked=0,
    )


def test_cancelling_a_course_session_asks_to_book_it_again(practice, therapist, ann) -> None:
    course = active_course(practice, therapist, ann)
    row = SessionFactory(course=course, sequence=3, starts_at=timezone.now() + timedelta(days=3))
    client = logged_in(ann.user)
    assert "belongs to a course" in client.get(url("cancel", practice, pk=row.pk)).content.decode()

    response = client.post(url("cancel", practice, pk=row.pk), {"reason": ""})

    assert response["Location"].endswith("?notice=cancelled-course")
    page = client.get(response["Location"]).content.decode()
    assert "please book it again soon" in page
    row.refresh_from_db()
    assert row.status == SessionStatus.CANCELLED


def test_the_course_progress_shows_done_and_left(practice, therapist, ann) -> None:
    course = active_course(practice, therapist, ann)
    for sequence, days_ago in ((1, 4), (2, 2)):
        SessionFactory(
            course=course,
            sequence=sequence,
            starts_at=timezone.now() - timedelta(days=days_ago),
            status=SessionStatus.COMPLETED,
        )
    html = logged_in(ann.user).get(url("my-sessions", practice)).content.decode()
    assert "2 of 10 sessions done, 8 left" in html


def test_the_portal_home_loads_the_summary_with_htmx(practice, therapist, ann) -> None:
    SessionFactory(
        therapist=therapist,
        patient=ann,
        starts_at=local(practice, today(practice, days=1), 10),
        minutes=30,
    )
    client = logged_in(ann.user)
    home = client.get(reverse("patients:portal", kwargs={"practice_slug": practice.slug}))
    assert f'hx-get="{url("my-sessions", practice)}"' in home.content.decode()
    fragment = client.get(url("my-sessions", practice), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert "10:00–10:30" in fragment


# --- Invitations ----------------------------------------------------------------------------


def invite(client: Client, practice: Practice, patient: Patient) -> str:
    response = client.post(url("invite", practice, pk=patient.pk))
    assert response.status_code == 200, response.content
    link = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', response.content.decode())
    assert link is not None
    return link.group(1)


def test_staff_invite_a_patient_and_the_link_is_emailed(practice, desk, mailoutbox) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    link = invite(logged_in(desk), practice, patient)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["erika@example.com"]
    assert practice.name in mailoutbox[0].subject
    assert link in mailoutbox[0].body
    assert f"/p/{practice.slug}/join/" in link


def test_the_record_page_offers_the_invitation(practice, desk) -> None:
    patient = PatientFactory(practice=practice)
    page = logged_in(desk).get(
        reverse(
            "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
        )
    )
    assert f'action="{url("invite", practice, pk=patient.pk)}"' in page.content.decode()


def test_a_patient_without_email_cannot_be_invited(practice, desk, mailoutbox) -> None:
    patient = PatientFactory(practice=practice, email="")
    response = logged_in(desk).post(url("invite", practice, pk=patient.pk))
    assert response.status_code == 400
    assert "Add an email address" in response.content.decode()
    assert mailoutbox == []


def test_staff_of_another_practice_cannot_invite_here(practice, other_practice, member) -> None:
    patient = PatientFactory(practice=practice)
    harbour_desk = member(other_practice, Role.FRONT_DESK)
    assert logged_in(harbour_desk).post(url("invite", practice, pk=patient.pk)).status_code == 404
    own_desk = member(other_practice, Role.MANAGER)
    response = logged_in(own_desk).post(url("invite", other_practice, pk=patient.pk))
    assert response.status_code == 404


def test_accepting_an_invitation_creates_the_account_and_links_the_record(practice) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com", given_name="Erika")
    token = invitations.invitation_token(patient=patient)
    client = Client()
    assert client.get(url("join", practice, token=token)).status_code == 200

    response = client.post(
        url("join", practice, token=token),
        {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "patients:portal", kwargs={"practice_slug": practice.slug}
    )
    user = User.objects.get(email="erika@example.com")
    assert user.check_password(STRONG_PASSWORD)
    assert Membership.objects.get(practice=practice, user=user).role == Role.PATIENT
    patient.refresh_from_db()
    assert patient.user == user
    # Logged in: the portal opens.
    assert client.get(response["Location"]).status_code == 200


def test_an_invitation_cannot_be_used_twice(practice) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    token = invitations.invitation_token(patient=patient)
    passwords = {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD}
    assert Client().post(url("join", practice, token=token), passwords).status_code == 302

    again = Client().post(url("join", practice, token=token), {"password": STRONG_PASSWORD})

    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert User.objects.filter(email="erika@example.com").count() == 1


def test_a_tampered_invitation_is_refused(practice, ann) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    token = invitations.invitation_token(patient=patient)
    for bad in (token[:-3] + "abc", "not-a-token", token + "x"):
        response = Client().get(url("join", practice, token=bad))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    # A token signed with another salt (say, a feed token) is no invitation either.
    forged = signing.dumps(
        {"practice": practice.pk, "patient": patient.pk, "email": patient.email},
        salt="sessions.portal.calendar-feed",
    )
    assert Client().get(url("join", practice, token=forged)).status_code == 400
    assert Client().post(url("join", practice, token=forged), {}).status_code == 400
    assert not User.objects.filter(email="erika@example.com").exists()


def test_an_expired_invitation_is_refused(practice, clock) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    clock.shift(timedelta(days=-8))
    token = invitations.invitation_token(patient=patient)
    clock.shift(timedelta(days=8))
    response = Client().get(url("join", practice, token=token))
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_an_invitation_for_another_practice_or_an_old_address_is_refused(
    practice, other_practice
) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    token = invitations.invitation_token(patient=patient)
    assert Client().get(url("join", other_practice, token=token)).status_code == 400
    Patient.objects.filter(pk=patient.pk).update(email="new@example.com")
    response = Client().get(url("join", practice, token=token))
    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()


def test_a_weak_password_is_refused_next_to_the_field(practice) -> None:
    patient = PatientFactory(practice=practice, email="erika@example.com")
    token = invitations.invitation_token(patient=patient)
    response = Client().post(
        url("join", practice, token=token), {"new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 400
    assert "too short" in field_errors(response.content.decode(), "new_password2")
    assert not User.objects.filter(email="erika@example.com").exists()


def test_an_existing_account_joins_with_its_own_password(practice, other_practice, member) -> None:
    # Hal is a patient of Harbour already; Linden invites the same address.
    hal = member(other_practice, Role.PATIENT, email="hal@example.com")
    patient = PatientFactory(practice=practice, email="hal@example.com")
    token = invitations.invitation_token(patient=patient)
    client = Client()
    wrong = client.post(url("join", practice, token=token), {"password": "guess"})
    assert wrong.status_code == 400
    assert "not the password" in field_errors(wrong.content.decode(), "password")

    response = client.post(url("join", practice, token=token), {"password": PASSWORD})

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.user == hal
    assert set(hal.memberships.values_list("practice__slug", "role")) == {
        ("harbour", Role.PATIENT),
        ("linden", Role.PATIENT),
    }


def test_a_staff_address_is_not_turned_into_a_patient(practice, member) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    patient = PatientFactory(practice=practice, email="desk@example.com")
    token = invitations.invitation_token(patient=patient)
    response = Client().post(url("join", practice, token=token), {"password": PASSWORD})
    assert response.status_code == 400
    assert "staff account" in response.content.decode()
    assert Membership.objects.get(user__email="desk@example.com").role == Role.FRONT_DESK
    patient.refresh_from_db()
    assert patient.user is None


# --- Nothing typed makes a 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"massage_type": "abc", "day": "x"},
        {"massage_type": "999999", "day": "2026-02-30"},
        {"day": "99999-01-01"},
        {"massage_type": "1' OR 1=1", "day": "-1"},
    ],
)
def test_junk_in_the_booking_search_is_an_error_next_to_the_fields(
    practice, therapist, ann, query
) -> None:
    response = logged_in(ann.user).get(url("book", practice), query)
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "day") or field_errors(html, "massage_type")


def test_junk_on_the_move_and_cancel_pages_is_refused_plainly(practice, therapist, ann) -> None:
    session = SessionFactory(
        therapist=therapist, patient=ann, starts_at=timezone.now() + timedelta(days=3)
    )
    client = logged_in(ann.user)
    assert client.get(url("move", practice, pk=session.pk), {"day": "soon"}).status_code == 400
    response = client.post(
        url("move", practice, pk=session.pk),
        {"day": today(practice, days=1), "starts_at": "9" * 300},
    )
    assert response.status_code == 409
    response = client.post(url("cancel", practice, pk=session.pk), {"reason": "x" * 1000})
    assert response.status_code == 400
    assert "at most 300 characters" in field_errors(response.content.decode(), "reason")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    assert session.starts_at > timezone.now() + timedelta(days=2)


def test_junk_invitation_and_feed_tokens_are_refused(practice) -> None:
    client = Client()
    for token in ("%00", "ä" * 50, ":" * 10, "a" * 2000):
        assert client.get(url("join", practice, token=token)).status_code == 400
        assert client.get(url("feed", practice, token=token)).status_code == 404


def test_htmx_asks_for_the_free_times_only(practice, therapist, ann) -> None:
    day = today(practice, days=1)
    response = logged_in(ann.user).get(
        url("book", practice),
        {"massage_type": massage_type(practice).pk, "day": day},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="slots"')
    assert local(practice, day, 9).astimezone(UTC).isoformat() in html


def test_an_account_created_meanwhile_is_not_taken_over(practice, other_practice, member) -> None:
    # The page offered "choose a password" (no account yet); before it was sent, the same
    # address got an account through another practice's invitation.
    patient = PatientFactory(practice=practice, email="erika@example.com")
    invitation = invitations.invitation_read(
        token=invitations.invitation_token(patient=patient), practice=practice
    )
    taken = member(other_practice, Role.PATIENT, email="erika@example.com")
    with pytest.raises(ValidationError, match="just created"):
        invitations.invitation_accept(invitation=invitation, account=None, password=STRONG_PASSWORD)
    patient.refresh_from_db()
    assert patient.user is None
    taken.refresh_from_db()
    assert not taken.check_password(STRONG_PASSWORD)
    assert not taken.memberships.filter(practice=practice).exists()
