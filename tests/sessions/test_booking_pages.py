"""The desk books a single session from the pages (sessions/pages/booking.py): the patient pick
keeps the slot, the form is prefilled from the grid or the list view, offers only the types the
screening allows (R2-R6, R8), and shows the service's refusals on the form (400/409, never a
500); "start a course here" prefills course planning; R8's rebook links lead here."""

from __future__ import annotations

from datetime import date, time
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from practice.models import Practice
from sessions.models import Session
from tests.clock import local, today
from tests.factories import (
    PatientFactory,
    RoomFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)
from tests.pages import field_errors, logged_in, text
from tests.sessions.test_session_page import answers_no
from tests.sessions.test_session_page import url as session_url

pytestmark = pytest.mark.django_db


def book_url(practice: Practice) -> str:
    return reverse("sessions:session-book", kwargs={"practice_slug": practice.slug})


@pytest.fixture
def therapist(practice):
    return TherapistFactory(
        practice=practice, name="Tess Ward", week__starts=time(9), week__ends=time(17)
    )


@pytest.fixture
def day(practice) -> date:
    return today(practice, days=2)


@pytest.fixture
def ann(practice):
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient, screened_on=today(practice))
    return patient


def form_post(patient, therapist, day, /, **changes: object) -> dict[str, object]:
    return {
        "patient": patient.pk,
        "therapist": therapist.pk,
        "starts_at": f"{day.isoformat()}T11:00",
        "massage_type": massage_type(patient.practice, "classical").pk,
        "minutes": "",
        "room": "",
        **changes,
    }


def test_without_a_patient_the_page_asks_for_one_and_keeps_the_slot(
    practice, desk, therapist, ann, day
) -> None:
    PatientFactory(practice=practice, given_name="Bo", family_name="Stahl")
    response = logged_in(desk).get(
        book_url(practice), {"therapist": therapist.pk, "starts_at": f"{day}T11:00", "q": "Berg"}
    )
    assert response.status_code == 200
    html = text(response)
    assert "Book for Ann Berg" in html
    assert "Bo Stahl" not in html
    link = response.content.decode().split('href="?')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(link) == {
        "therapist": [str(therapist.pk)],
        "starts_at": [f"{day}T11:00"],
        "patient": [str(ann.pk)],
    }


def test_the_form_is_prefilled_from_the_slot(practice, desk, therapist, ann, day) -> None:
    room = RoomFactory(practice=practice, name="Blue")
    response = logged_in(desk).get(
        book_url(practice),
        {
            "patient": ann.pk,
            "therapist": therapist.pk,
            "starts_at": f"{day}T11:00",
            "room": room.pk,
        },
    )
    html = response.content.decode()
    assert f'value="{day}T11:00"' in html
    assert f'<option value="{therapist.pk}" selected>' in html
    assert f'<option value="{room.pk}" selected>' in html
    course = urlparse(_course_href(html))
    assert parse_qs(course.query) == {
        "patient": [str(ann.pk)],
        "therapist": [str(therapist.pk)],
        "start_date": [day.isoformat()],
        "preferred_time": ["11:00"],
        "room": [str(room.pk)],
    }


def _course_href(html: str) -> str:
    before = html.split("Start a course here instead")[0]
    return before.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")


def test_start_a_course_here_prefills_course_planning(practice, desk, therapist, ann, day) -> None:
    response = logged_in(desk).get(
        reverse("courses:course-plan", kwargs={"practice_slug": practice.slug}),
        {
            "patient": ann.pk,
            "therapist": therapist.pk,
            "start_date": day.isoformat(),
            "preferred_time": "11:00",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{day.isoformat()}"' in html
    assert 'value="11:00"' in html
    assert f'<option value="{therapist.pk}" selected>' in html


def test_booking_a_single_session_from_the_page(practice, desk, therapist, ann, day) -> None:
    response = logged_in(desk).post(book_url(practice), form_post(ann, therapist, day))
    assert response.status_code == 302
    assert "notice=booked" in response["Location"]
    assert f"date={day.isoformat()}" in response["Location"]
    session = Session.objects.get()
    assert (session.patient, session.therapist) == (ann, therapist)
    assert session.starts_at == local(practice, day, 11)
    assert session.minutes == massage_type(practice, "classical").default_minutes
    assert session.booked_by == desk


def test_booked_from_the_grid_it_returns_to_the_grid(practice, desk, therapist, ann, day) -> None:
    response = logged_in(desk).post(
        book_url(practice), form_post(ann, therapist, day, view="grid-week", by="therapist")
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(
        reverse("sessions:calendar-grid", kwargs={"practice_slug": practice.slug})
    )
    assert "view=grid-week" in location


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": ""}, "starts_at"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"starts_at": "3000-01-01T10:00"}, "starts_at"),
        ({"massage_type": ""}, "massage_type"),
        ({"minutes": "1"}, "minutes"),
        ({"minutes": "999"}, "minutes"),
        ({"therapist": "999999"}, "therapist"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(
    practice, desk, therapist, ann, day, changes, field
) -> None:
    response = logged_in(desk).post(book_url(practice), form_post(ann, therapist, day, **changes))
    assert response.status_code == 400
    assert field_errors(text(response), field)
    assert not Session.objects.exists()


def test_r23_a_time_outside_working_hours_is_refused_with_the_rule(
    practice, desk, therapist, ann, day
) -> None:
    response = logged_in(desk).post(
        book_url(practice), form_post(ann, therapist, day, starts_at=f"{day}T18:00")
    )
    assert response.status_code == 400
    assert "R23" in text(response)
    assert not Session.objects.exists()


def test_r19_a_taken_time_is_a_409_with_the_reason(practice, desk, therapist, ann, day) -> None:
    SessionFactory(therapist=therapist, starts_at=local(practice, day, 11))
    response = logged_in(desk).post(book_url(practice), form_post(ann, therapist, day))
    assert response.status_code == 409
    assert Session.objects.count() == 1
    assert "Book the session" in text(response)


def test_r8_only_types_the_screening_allows_are_offered(practice, desk, therapist, day) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    ScreeningFactory(patient=patient, screened_on=today(practice))
    vibration = massage_type(practice, "vibration")
    classical = massage_type(practice, "classical")
    response = logged_in(desk).get(
        book_url(practice), {"patient": patient.pk, "starts_at": f"{day}T11:00"}
    )
    html = response.content.decode()
    assert f'<option value="{classical.pk}"' in html
    assert f'<option value="{vibration.pk}"' not in html
    refused = logged_in(desk).post(
        book_url(practice),
        {**form_post(patient, therapist, day), "massage_type": vibration.pk},
    )
    assert refused.status_code == 400
    assert not Session.objects.exists()


def test_isolation_another_practices_patient_or_desk_gets_nothing(
    practice, other_practice, desk, other_desk, therapist, ann, day
) -> None:
    foreign = PatientFactory(practice=other_practice, given_name="Zed", family_name="Far")
    response = logged_in(desk).get(book_url(practice), {"patient": foreign.pk})
    assert response.status_code == 200
    assert "Zed Far" not in text(response)
    assert "First choose the patient." in text(response)
    posted = logged_in(desk).post(book_url(practice), form_post(foreign, therapist, day))
    assert posted.status_code == 400
    assert logged_in(other_desk).get(book_url(practice)).status_code == 404
    assert not Session.objects.exists()


def test_the_list_view_offers_booking_on_free_time(practice, desk, therapist, day) -> None:
    response = logged_in(desk).get(
        reverse("sessions:calendar", kwargs={"practice_slug": practice.slug}), {"date": day}
    )
    html = response.content.decode().replace("&amp;", "&")
    assert f"{book_url(practice)}?therapist={therapist.pk}&starts_at={day}T09:00" in html


def test_the_grid_page_passes_its_configuration_in_data_attributes(
    practice, desk, therapist, day
) -> None:
    response = logged_in(desk).get(
        reverse("sessions:calendar-grid", kwargs={"practice_slug": practice.slug}),
        {"date": day, "view": "week", "by": "room"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-view="week"' in html
    assert 'data-by="room"' in html
    assert f'data-date="{day.isoformat()}"' in html
    assert 'data-locale="en-GB"' in html
    assert 'data-offset="+02:00"' in html
    assert "<script>" not in html
    assert " style=" not in html.split('id="calendar-grid"')[1]


def test_r8_rebook_links_after_a_blood_pressure_block_lead_to_the_booking_page(
    practice, desk
) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    ScreeningFactory(patient=patient, screened_on=today(practice))
    session = SessionFactory(practice=practice, patient=patient)
    response = logged_in(desk).post(
        session_url("session-check-in", session), answers_no(systolic="172", diastolic="96")
    )
    html = response.content.decode().replace("&amp;", "&")
    assert "R8" in text(response)
    link = html.split("Free times with the same therapist:")[1].split('href="')[1].split('"')[0]
    target = urlparse(link)
    assert target.path == book_url(practice)
    query = parse_qs(target.query)
    assert query["patient"] == [str(patient.pk)]
    assert query["therapist"] == [str(session.therapist_id)]
    assert query["massage_type"] == [str(session.massage_type_id)]
    # The linked page is the booking form for that patient, prefilled with the time.
    page = logged_in(desk).get(link)
    assert page.status_code == 200
    assert f'value="{query["starts_at"][0]}"' in page.content.decode()
