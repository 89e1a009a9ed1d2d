"""The calendar pages through Django's test client: who may open what (two practices, two staff
roles, a patient), the day and week views with closures, time off and free time, a constant
number of queries, moving and cancelling through the services, and bad input that is a
message, never a 500."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Course
from practice.models import Practice, Role, Therapist
from sessions.models import Session, SessionStatus
from tests.clock import local, today
from tests.factories import (
    ClosureFactory,
    CourseFactory,
    PatientFactory,
    RoomFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
    massage_type,
)
from tests.pages import field_errors, logged_in, text

pytestmark = pytest.mark.django_db


def url(name: str, practice: Practice, **kwargs: object) -> str:
    return reverse(f"sessions:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


@pytest.fixture
def therapist_user(practice, member):
    return member(practice, Role.THERAPIST, email="therapist@example.com")


@pytest.fixture
def therapist(practice):
    return TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(17))


@pytest.fixture
def tomorrow(practice) -> date:
    return today(practice, days=1)


@pytest.fixture
def booked(practice, therapist, tomorrow) -> Session:
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    return SessionFactory(
        therapist=therapist, patient=patient, starts_at=local(practice, tomorrow, 10), minutes=30
    )


def session_urls(practice: Practice, session: Session) -> list[str]:
    return [
        url("session-move", practice, pk=session.pk),
        url("session-cancel", practice, pk=session.pk),
        url("session-cancelled", practice, pk=session.pk),
    ]


# --- Who may open what ------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(practice, booked) -> None:
    for page in [url("calendar", practice), *session_urls(practice, booked)]:
        response = Client().get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_the_calendar_pages_to_patients(practice, member, booked) -> None:
    patient_user = member(practice, Role.PATIENT, email="ann@example.com")
    booked.patient.user = patient_user
    booked.patient.save()
    client = logged_in(patient_user)
    for page in [url("calendar", practice), *session_urls(practice, booked)]:
        assert client.get(page).status_code == 403, page
    assert (
        client.post(url("session-cancel", practice, pk=booked.pk), {"reason": "x"}).status_code
        == 403
    )
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


def test_both_staff_roles_see_the_calendar(
    practice, desk, therapist_user, booked, tomorrow
) -> None:
    # A therapist sees their own patients' sessions (tests/patients/test_therapist_visibility.py).
    Therapist.objects.filter(pk=booked.therapist_id).update(user=therapist_user)
    for user in (desk, therapist_user):
        response = logged_in(user).get(url("calendar", practice), {"date": tomorrow.isoformat()})
        assert response.status_code == 200
        assert "Ann Berg" in text(response)


def test_staff_of_another_practice_get_404(practice, other_practice, other_desk, booked) -> None:
    client = logged_in(other_desk)
    # Through the other practice's slug: not a member.
    for page in [url("calendar", practice), *session_urls(practice, booked)]:
        assert client.get(page).status_code == 404, page
    # Through their own practice's slug: the session is not theirs to see.
    for page in session_urls(other_practice, booked):
        assert client.get(page).status_code == 404, page
    response = client.post(
        url("session-cancel", other_practice, pk=booked.pk), {"reason": "Not mine"}
    )
    assert response.status_code == 404
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


def test_the_calendar_of_one_practice_shows_none_of_another(
    practice, other_practice, desk, booked, tomorrow
) -> None:
    elsewhere = TherapistFactory(practice=other_practice, week=True)
    SessionFactory(
        therapist=elsewhere,
        patient=PatientFactory(practice=other_practice, given_name="Hal", family_name="Harbour"),
        starts_at=local(practice, tomorrow, 11),
    )
    response = logged_in(desk).get(url("calendar", practice), {"date": tomorrow.isoformat()})
    assert "Ann Berg" in text(response)
    assert "Hal Harbour" not in text(response)
    assert elsewhere.name not in text(response)


# --- What the calendar shows ------------------------------------------------------------------


def test_the_day_shows_sessions_with_their_status_closures_time_off_and_free_time(
    practice, desk, therapist, booked, tomorrow
) -> None:
    other = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(17))
    TimeOffFactory(
        therapist=other,
        starts_at=local(practice, tomorrow, 13),
        ends_at=local(practice, tomorrow, 15),
    )
    cancelled = SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice, given_name="Cid", family_name="Moss"),
        starts_at=local(practice, tomorrow, 14),
        minutes=30,
        status=SessionStatus.CANCELLED,
    )
    response = logged_in(desk).get(url("calendar", practice), {"date": tomorrow.isoformat()})
    html = text(response)
    assert response.status_code == 200
    # Times in the practice's zone (R24), with the status as text, not colour alone.
    assert re.search(r"10:00–10:30.*?Ann Berg.*?Booked", html, re.S)
    assert re.search(r"14:00–14:30.*?Cid Moss.*?Cancelled", html, re.S)
    assert f"status-{cancelled.status}" in html
    # Free time is what availability offers on the 15-minute grid: a session ending at 10:00
    # would leave no 10-minute buffer (R23) before the booked one, nor one starting before
    # 10:40; the cancelled session holds nothing.
    column = html.split(f">{therapist.name}</h3>")[1].split("</section>")[0]
    assert re.search(r"09:00–09:45</span>\s*<span class=\"what\">Free", column)
    assert re.search(r"10:45–17:00</span>\s*<span class=\"what\">Free", column)
    other_column = html.split(f">{other.name}</h3>")[1].split("</section>")[0]
    assert re.search(r"13:00–15:00</span>\s*<span class=\"what\">Time off", other_column)
    assert re.search(r"15:00–17:00</span>\s*<span class=\"what\">Free", other_column)


def test_a_closure_is_shaded_and_leaves_no_free_time(practice, desk, therapist, tomorrow) -> None:
    ClosureFactory(
        practice=practice,
        starts_at=local(practice, tomorrow, 0),
        ends_at=local(practice, tomorrow + timedelta(days=1), 0),
    )
    html = text(logged_in(desk).get(url("calendar", practice), {"date": tomorrow.isoformat()}))
    assert "Practice closed" in html
    column = html.split(f">{therapist.name}</h3>")[1].split("</section>")[0]
    assert 'class="what">Free' not in column


def test_a_day_off_says_not_working(practice, desk, tomorrow) -> None:
    weekday = tomorrow.weekday()
    idle = TherapistFactory(
        practice=practice, week__days=tuple(d for d in range(7) if d != weekday)
    )
    html = text(logged_in(desk).get(url("calendar", practice), {"date": tomorrow.isoformat()}))
    column = html.split(f">{idle.name}</h3>")[1].split("</section>")[0]
    assert "Not working" in column


def test_the_week_shows_seven_days_from_monday(practice, desk, booked, tomorrow) -> None:
    response = logged_in(desk).get(
        url("calendar", practice), {"view": "week", "date": tomorrow.isoformat()}
    )
    html = text(response)
    monday = tomorrow - timedelta(days=tomorrow.weekday())
    assert response.status_code == 200
    assert html.count('<th scope="col"><a href=') == 7
    assert f"date={monday.isoformat()}" in html
    assert "Ann Berg" in html
    # Previous and next move a week.
    assert f"date={(tomorrow - timedelta(days=7)).isoformat()}" in html
    assert f"date={(tomorrow + timedelta(days=7)).isoformat()}" in html


def test_the_room_view_shows_each_rooms_sessions(practice, desk, therapist, tomorrow) -> None:
    room = RoomFactory(practice=practice, name="Blue room")
    SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Berg"),
        starts_at=local(practice, tomorrow, 10),
        room=room,
    )
    SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice, given_name="Bob", family_name="Stone"),
        starts_at=local(practice, tomorrow, 12),
    )
    html = text(
        logged_in(desk).get(url("calendar", practice), {"date": tomorrow.isoformat(), "by": "room"})
    )
    blue = html.split(">Blue room</h3>")[1].split("</section>")[0]
    no_room = html.split(">No room</h3>")[1].split("</section>")[0]
    assert "Ann Berg" in blue
    assert "Bob Stone" not in blue
    assert "Bob Stone" in no_room


def test_one_therapist_can_be_chosen(practice, desk, therapist, booked, tomorrow) -> None:
    other = TherapistFactory(practice=practice, week=True)
    SessionFactory(
        therapist=other,
        patient=PatientFactory(practice=practice, given_name="Bob", family_name="Stone"),
        starts_at=local(practice, tomorrow, 11),
    )
    html = text(
        logged_in(desk).get(
            url("calendar", practice), {"date": tomorrow.isoformat(), "therapist": therapist.pk}
        )
    )
    assert "Ann Berg" in html
    assert "Bob Stone" not in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "not-a-date"}, "date"),
        ({"date": "9999-12-31"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"therapist": "999999"}, "therapist"),
        ({"therapist": "abc"}, "therapist"),
        ({"room": "-1"}, "room"),
        ({"view": "month"}, "view"),
        ({"by": "<script>"}, "by"),
    ],
)
def test_bad_calendar_input_is_a_message_next_to_the_field(
    practice, desk, booked, query: dict, field: str
) -> None:
    response = logged_in(desk).get(url("calendar", practice), query)
    assert response.status_code == 400
    assert field_errors(text(response), field)
    assert "<script>" not in text(response)


def test_a_bad_field_leaves_the_good_ones_in_force(practice, desk, booked, tomorrow) -> None:
    response = logged_in(desk).get(
        url("calendar", practice), {"date": tomorrow.isoformat(), "room": "nonsense"}
    )
    assert response.status_code == 400
    assert field_errors(text(response), "room")
    assert "Ann Berg" in text(response)


def test_another_practices_therapist_cannot_be_chosen(
    practice, other_practice, desk, tomorrow
) -> None:
    elsewhere = TherapistFactory(practice=other_practice, week=True)
    response = logged_in(desk).get(url("calendar", practice), {"therapist": elsewhere.pk})
    assert response.status_code == 400
    assert field_errors(text(response), "therapist")
    assert elsewhere.name not in text(response)


@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_reads_a_constant_number_of_queries(
    practice, desk, tomorrow, view: str, django_assert_num_queries
) -> None:
    client = logged_in(desk)
    rooms = [RoomFactory(practice=practice) for _ in range(2)]
    therapists = [TherapistFactory(practice=practice, week=True) for _ in range(3)]

    def add_sessions(hour: int) -> None:
        for index, therapist in enumerate(therapists):
            SessionFactory(
                therapist=therapist,
                starts_at=local(practice, tomorrow, hour),
                room=rooms[index % 2] if index < 2 else None,
            )

    def read() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("calendar", practice), {"view": view, "date": tomorrow})
        assert response.status_code == 200
        return len(queries)

    add_sessions(9)
    few = read()
    for hour in range(10, 17):
        add_sessions(hour)
    assert Session.objects.count() == 24
    # The session, the user and the membership, then the calendar's own reads: form choices
    # (therapists, rooms), the therapists, the sessions, calendar_load's three and the
    # failed reminders of the days (R21).
    with django_assert_num_queries(few):
        client.get(url("calendar", practice), {"view": view, "date": tomorrow})
    assert few <= 13


# --- Moving a session -------------------------------------------------------------------------


def test_the_move_page_offers_free_times_from_availability(
    practice, desk, therapist, booked, tomorrow
) -> None:
    SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice),
        starts_at=local(practice, tomorrow, 12),
        minutes=30,
    )
    html = text(logged_in(desk).get(url("session-move", practice, pk=booked.pk)))
    offered = re.findall(r'type="radio" name="starts_at" value="([^"]+)"', html)
    times = {datetime.fromisoformat(v).astimezone(practice.zone).strftime("%H:%M") for v in offered}
    # Its own current time counts as free; 12:00 is taken, and so are 11:30 (the buffer) and
    # 12:15 (12:30 plus the buffer).
    assert {"09:00", "10:00", "13:00", "16:30"} <= times
    assert not {"11:30", "11:45", "12:00", "12:15", "16:45"} & times


def test_moving_to_a_free_time_calls_the_service(practice, desk, booked, tomorrow) -> None:
    new = local(practice, tomorrow, 15)
    response = logged_in(desk).post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": new.isoformat()},
    )
    assert response.status_code == 302
    assert "notice=moved" in response["Location"]
    booked.refresh_from_db()
    assert booked.starts_at == new
    assert booked.schedule_version == 2  # R22: reminders see the move


def test_moving_onto_a_taken_time_is_a_conflict_message(
    practice, desk, therapist, booked, tomorrow
) -> None:
    taken = local(practice, tomorrow, 14)
    SessionFactory(therapist=therapist, patient=PatientFactory(practice=practice), starts_at=taken)
    response = logged_in(desk).post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": taken.isoformat()},
    )
    assert response.status_code == 409
    assert "overlaps a session from" in text(response)
    booked.refresh_from_db()
    assert booked.starts_at == local(practice, tomorrow, 10)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("garbage", "Enter a valid date/time"),
        ("", "This field is required"),
        ("9999-12-31T23:59:00+00:00", "between 2000 and 2100"),
        ("0001-01-01T00:00:00+00:00", "between 2000 and 2100"),
    ],
)
def test_a_garbled_time_is_an_error_next_to_the_field(
    practice, desk, booked, tomorrow, value: str, message: str
) -> None:
    response = logged_in(desk).post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": value},
    )
    assert response.status_code == 400
    assert message in field_errors(text(response), "starts_at")


def test_a_time_outside_working_hours_names_r23(practice, desk, booked, tomorrow) -> None:
    response = logged_in(desk).post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": local(practice, tomorrow, 19).isoformat()},
    )
    assert response.status_code == 400
    assert "R23" in field_errors(text(response), "starts_at")


def test_r4_the_desk_cannot_move_a_session_onto_a_type_the_screening_now_blocks(
    practice, desk, booked, tomorrow
) -> None:
    # Given a cupping session booked ahead of the screening, which then finds a pregnancy
    Session.objects.filter(pk=booked.pk).update(massage_type=massage_type(practice, "cupping"))
    ScreeningFactory(patient=booked.patient, yes={"pregnancy": ""})

    response = logged_in(desk).post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": local(practice, tomorrow, 15).isoformat()},
    )

    assert response.status_code == 400
    assert "R4" in field_errors(text(response), "starts_at")
    booked.refresh_from_db()
    assert booked.starts_at == local(practice, tomorrow, 10)


def test_r1_the_calendar_marks_a_session_booked_ahead_of_a_screening(
    practice, desk, booked, tomorrow
) -> None:
    screened = SessionFactory(
        therapist=booked.therapist, starts_at=local(practice, tomorrow, 14), screened=True
    )
    html = text(logged_in(desk).get(url("calendar", practice), {"date": tomorrow}))

    blocks = re.findall(r'<li class="block block-session.*?</li>', html, re.S)
    assert len(blocks) == 2
    needed = [block for block in blocks if "Screening needed (R1)" in block]
    assert len(needed) == 1
    assert booked.patient.full_name in needed[0]
    assert screened.patient.full_name not in needed[0]


def test_a_bad_day_on_the_move_page_is_an_error_not_a_500(practice, desk, booked) -> None:
    for day in ("31-31-2020", "9999-12-31"):
        response = logged_in(desk).get(url("session-move", practice, pk=booked.pk), {"day": day})
        assert response.status_code == 200
        assert field_errors(text(response), "day")


def test_a_cancelled_session_cannot_be_moved(practice, desk, booked, tomorrow) -> None:
    booked.status = SessionStatus.CANCELLED
    booked.save()
    client = logged_in(desk)
    assert "Only a booked session can be moved." in text(
        client.get(url("session-move", practice, pk=booked.pk))
    )
    response = client.post(
        url("session-move", practice, pk=booked.pk),
        {"day": tomorrow.isoformat(), "starts_at": local(practice, tomorrow, 15).isoformat()},
    )
    assert response.status_code == 400
    assert "Only a booked session can be moved." in text(response)


# --- Cancelling and rebooking -----------------------------------------------------------------


def test_cancelling_needs_a_reason(practice, desk, booked) -> None:
    response = logged_in(desk).post(url("session-cancel", practice, pk=booked.pk), {"reason": ""})
    assert response.status_code == 400
    assert "required" in field_errors(text(response), "reason")
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


def test_cancelling_in_time_is_not_late(practice, desk, therapist) -> None:
    later = SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice),
        starts_at=local(practice, today(practice, days=3), 10),
    )
    client = logged_in(desk)
    assert "cancelling it now" not in text(client.get(url("session-cancel", practice, pk=later.pk)))
    response = client.post(url("session-cancel", practice, pk=later.pk), {"reason": "Ill"})
    assert response.status_code == 302
    later.refresh_from_db()
    assert later.status == SessionStatus.CANCELLED
    assert later.cancellation_reason == "Ill"
    assert later.cancelled_by == desk
    html = text(client.get(response["Location"]))
    assert "Cancelled in time." in html
    assert "late cancellation" not in html


def test_cancelling_inside_the_notice_period_says_late(practice, desk, therapist) -> None:
    soon = timezone.now().astimezone(practice.zone) + timedelta(hours=2)
    start = soon.replace(minute=0, second=0, microsecond=0)
    # The therapist works around the clock here, so a session two hours from now is bookable.
    night = TherapistFactory(practice=practice, week__starts=time(0), week__ends=time(23, 59))
    session = SessionFactory(
        therapist=night, patient=PatientFactory(practice=practice), starts_at=start
    )
    client = logged_in(desk)
    warning = text(client.get(url("session-cancel", practice, pk=session.pk)))
    response = client.post(url("session-cancel", practice, pk=session.pk), {"reason": "Traffic"})
    session.refresh_from_db()
    assert "cancelling it now is recorded as a late cancellation" in warning
    assert session.late_cancellation
    assert "recorded as a late cancellation" in text(client.get(response["Location"]))


def test_cancelling_twice_is_a_message_not_a_500(practice, desk, booked) -> None:
    client = logged_in(desk)
    client.post(url("session-cancel", practice, pk=booked.pk), {"reason": "Ill"})
    response = client.post(url("session-cancel", practice, pk=booked.pk), {"reason": "Again"})
    assert response.status_code == 409
    assert "Only a booked session can be cancelled." in text(response)
    booked.refresh_from_db()
    assert booked.cancellation_reason == "Ill"


def test_r13_a_cancelled_course_session_is_offered_times_and_rebooked(practice, desk) -> None:
    course: Course = CourseFactory(practice=practice, start_date=today(practice, days=2), booked=10)
    third = course.sessions.get(sequence=3)
    client = logged_in(desk)
    response = client.post(url("session-cancel", practice, pk=third.pk), {"reason": "Away"})
    assert response.status_code == 302
    html = text(client.get(response["Location"]))
    assert "Rebook within the course (R13)" in html
    offered = re.findall(r'type="radio" name="starts_at" value="([^"]+)"', html)
    assert offered
    # Within the cadence: before the course's next session (the 4th).
    fourth = course.sessions.get(sequence=4)
    assert all(datetime.fromisoformat(v) < fourth.starts_at for v in offered)

    response = client.post(url("session-rebook", practice, pk=third.pk), {"starts_at": offered[0]})
    assert response.status_code == 302
    assert "notice=rebooked" in response["Location"]
    again = course.sessions.get(sequence=3, status=SessionStatus.BOOKED)
    assert again.starts_at == datetime.fromisoformat(offered[0])
    assert again.minutes == third.minutes


@pytest.mark.parametrize(
    ("language", "day_format"), [("en", "%a %m/%d/%Y"), ("ru", "%d.%m.%Y")], ids=["en", "ru"]
)
def test_r13_the_times_offered_to_rebook_name_their_local_day(
    practice, desk, language, day_format
) -> None:
    # The times offered may fall on any day before the course's next session: each says which.
    course = CourseFactory(practice=practice, start_date=today(practice, days=2), booked=10)
    third = course.sessions.get(sequence=3)
    client = logged_in(desk)
    client.cookies["django_language"] = language
    cancelled = client.post(url("session-cancel", practice, pk=third.pk), {"reason": "Away"})

    html = client.get(cancelled["Location"]).content.decode()

    offered = re.findall(
        r'<input type="radio" name="starts_at" value="([^"]+)"[^>]*>\s*([^<]+?)\s*</label>', html
    )
    assert offered
    for value, label in offered:
        moment = datetime.fromisoformat(value).astimezone(practice.zone)
        assert moment.strftime(day_format) in label
        assert label.endswith(moment.strftime("%H:%M"))


def test_r13_rebooking_a_time_taken_since_it_was_offered_is_a_message(practice, desk) -> None:
    course = CourseFactory(practice=practice, start_date=today(practice, days=2), booked=10)
    third = course.sessions.get(sequence=3)
    client = logged_in(desk)
    response = client.post(url("session-cancel", practice, pk=third.pk), {"reason": "Away"})
    html = text(client.get(response["Location"]))
    offered = re.findall(r'type="radio" name="starts_at" value="([^"]+)"', html)
    # Someone else takes the first offered time before the desk confirms it.
    SessionFactory(
        therapist=course.therapist,
        patient=PatientFactory(practice=practice),
        starts_at=datetime.fromisoformat(offered[0]),
    )
    response = client.post(url("session-rebook", practice, pk=third.pk), {"starts_at": offered[0]})
    assert response.status_code == 409
    assert "overlaps a session from" in text(response)
    assert course.sessions.filter(sequence=3, status=SessionStatus.BOOKED).count() == 0


def test_r10_rebooking_on_a_day_of_the_course_names_the_rule(practice, desk) -> None:
    course = CourseFactory(practice=practice, start_date=today(practice, days=2), booked=10)
    third = course.sessions.get(sequence=3)
    client = logged_in(desk)
    client.post(url("session-cancel", practice, pk=third.pk), {"reason": "Away"})
    fourth = course.sessions.get(sequence=4)
    response = client.post(
        url("session-rebook", practice, pk=third.pk),
        {"starts_at": (fourth.starts_at + timedelta(hours=3)).isoformat()},
    )
    assert response.status_code == 400
    assert "R10" in text(response)
    assert course.sessions.filter(sequence=3, status=SessionStatus.BOOKED).count() == 0


def test_a_single_session_is_not_rebooked_from_the_cancelled_page(practice, desk, booked) -> None:
    client = logged_in(desk)
    client.post(url("session-cancel", practice, pk=booked.pk), {"reason": "Ill"})
    response = client.post(
        url("session-rebook", practice, pk=booked.pk),
        {"starts_at": booked.starts_at.isoformat()},
    )
    assert response.status_code == 400
    assert Session.objects.filter(status=SessionStatus.BOOKED).count() == 0


def test_every_form_carries_a_csrf_token_and_posts_without_one_are_refused(
    practice, desk, booked
) -> None:
    client = logged_in(desk)
    for page in (
        url("session-move", practice, pk=booked.pk),
        url("session-cancel", practice, pk=booked.pk),
    ):
        html = text(client.get(page))
        assert html.count('method="post"') == html.count('name="csrfmiddlewaretoken"'), page
    strict = logged_in(desk, enforce_csrf_checks=True)
    response = strict.post(url("session-cancel", practice, pk=booked.pk), {"reason": "Ill"})
    assert response.status_code == 403
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
