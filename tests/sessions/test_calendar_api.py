"""The time-grid calendar's JSON endpoints (/api/v1/calendar/...): what they hold, practice
isolation, staff only, a constant number of queries, daylight-saving days (R24), and moving or
resizing a session through the reschedule service (R19, R23, R10), refused with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from practice.models import Role
from sessions.models import Session, SessionStatus
from tests.clock import local, today
from tests.factories import (
    ClosureFactory,
    CourseFactory,
    PatientFactory,
    RoomFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
)

pytestmark = pytest.mark.django_db

RESOURCES = "/api/v1/calendar/resources/"
EVENTS = "/api/v1/calendar/events/"
FREE = "/api/v1/calendar/free/"


def move_url(session: Session) -> str:
    return f"/api/v1/calendar/sessions/{session.pk}/move/"


def reading(practice, day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00"


@pytest.fixture
def therapist(practice):
    return TherapistFactory(
        practice=practice, name="Tess", colour="#aa3300", week__starts=time(9), week__ends=time(17)
    )


@pytest.fixture
def day(practice) -> date:
    return today(practice, days=2)


@pytest.fixture
def booked(practice, therapist, day) -> Session:
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    return SessionFactory(
        practice=practice, patient=patient, therapist=therapist, starts_at=local(practice, day, 10)
    )


def test_resources_are_the_active_therapists_with_their_colours_or_the_rooms(
    practice, desk, therapist, api_as
) -> None:
    TherapistFactory(practice=practice, active=False)
    room = RoomFactory(practice=practice, name="Blue")
    client = api_as(desk)
    body = client.get(RESOURCES).json()
    assert body["resources"] == [{"id": therapist.pk, "name": "Tess", "colour": "#aa3300"}]
    rooms = client.get(RESOURCES, {"by": "room"}).json()["resources"]
    assert [(r["id"], r["name"]) for r in rooms] == [(room.pk, "Blue"), (0, "No room")]


def test_events_hold_sessions_with_status_patient_type_and_colour_and_the_shading(
    practice, desk, therapist, booked, day, api_as
) -> None:
    ClosureFactory(
        practice=practice, starts_at=local(practice, day, 15), ends_at=local(practice, day, 16)
    )
    TimeOffFactory(
        therapist=therapist, starts_at=local(practice, day, 12), ends_at=local(practice, day, 13)
    )
    body = api_as(desk).get(EVENTS, {"from": day, "to": day}).json()
    [session] = body["sessions"]
    assert session["id"] == booked.pk
    assert session["resource"] == therapist.pk
    assert session["patient_name"] == "Ann Berg"
    assert session["status"] == "booked"
    assert session["therapist_colour"] == "#aa3300"
    assert session["massage_type_name"] == booked.massage_type.display_name
    assert session["starts"] == reading(practice, day, 10)
    assert session["movable"] is True
    assert body["time_zone"] == "Europe/Berlin"
    shading = {
        (s["kind"], s["resource"], s["starts"][11:16], s["ends"][11:16]) for s in body["shading"]
    }
    assert shading == {
        ("working", therapist.pk, "09:00", "17:00"),
        ("closure", None, "15:00", "16:00"),
        ("time_off", therapist.pk, "12:00", "13:00"),
    }


def test_events_by_room_put_a_session_in_its_rooms_column(
    practice, desk, therapist, day, api_as
) -> None:
    room = RoomFactory(practice=practice)
    in_room = SessionFactory(therapist=therapist, room=room, starts_at=local(practice, day, 10))
    roomless = SessionFactory(therapist=therapist, starts_at=local(practice, day, 14))
    body = api_as(desk).get(EVENTS, {"from": day, "to": day, "by": "room"}).json()
    assert {(s["id"], s["resource"]) for s in body["sessions"]} == {
        (in_room.pk, room.pk),
        (roomless.pk, 0),
    }
    assert not [s for s in body["shading"] if s["kind"] == "working"]


def test_free_time_leaves_out_sessions_with_their_buffer(
    practice, desk, therapist, booked, day, api_as
) -> None:
    body = api_as(desk).get(FREE, {"from": day, "to": day}).json()
    stretches = [(f["starts"][11:16], f["ends"][11:16]) for f in body["free"]]
    settings = practice.settings
    held = booked.minutes + settings.buffer_minutes
    grid = settings.slot_grid_minutes
    after = local(practice, day, 10) + timedelta(minutes=-(-held // grid) * grid)
    # Free again on the first grid line after the session and its buffer (R23).
    assert stretches[0][0] == "09:00"
    assert stretches[1][0] == after.strftime("%H:%M")
    assert stretches[-1][1] == "17:00"
    assert {f["resource"] for f in body["free"]} == {therapist.pk}


def test_a_booked_week_of_ten_therapists_takes_constant_queries(
    practice, desk, api_as, django_assert_num_queries
) -> None:
    monday = today(practice, days=7)
    monday -= timedelta(days=monday.weekday())
    therapists = [TherapistFactory(practice=practice, week=True) for _ in range(10)]
    for therapist in therapists:
        TimeOffFactory(
            therapist=therapist,
            starts_at=local(practice, monday, 18),
            ends_at=local(practice, monday, 19),
        )
        for offset in range(7):
            for hour in (9, 11, 14):
                SessionFactory(
                    therapist=therapist,
                    starts_at=local(practice, monday + timedelta(days=offset), hour),
                )
    client = api_as(desk)
    week = {"from": monday, "to": monday + timedelta(days=6)}
    # The membership (every API request), the sessions, then the working hours, closures
    # and time off as one union: however many therapists and sessions.
    with django_assert_num_queries(3):
        response = client.get(EVENTS, week)
    assert len(response.json()["sessions"]) == 210
    assert len([s for s in response.json()["shading"] if s["kind"] == "working"]) == 70
    with django_assert_num_queries(2):
        assert len(client.get(RESOURCES).json()["resources"]) == 10


@pytest.mark.clock(datetime(2026, 3, 20, 9, tzinfo=UTC))
def test_r24_a_spring_forward_day_keeps_the_local_hours(practice, desk, api_as) -> None:
    change = date(2026, 3, 29)  # Berlin: 02:00 becomes 03:00
    therapist = TherapistFactory(practice=practice, week__starts=time(1), week__ends=time(12))
    session = SessionFactory(therapist=therapist, starts_at=local(practice, change, 10))
    body = api_as(desk).get(EVENTS, {"from": change, "to": change}).json()
    [row] = body["sessions"]
    assert row["starts"] == reading(practice, change, 10)
    assert datetime.fromisoformat(row["starts_at"]) == session.starts_at
    [working] = [s for s in body["shading"] if s["kind"] == "working"]
    # 01:00-12:00 on the wall clock, ten real hours.
    assert (working["starts"], working["ends"]) == (
        reading(practice, change, 1),
        reading(practice, change, 12),
    )
    free = api_as(desk).get(FREE, {"from": change, "to": change}).json()["free"]
    assert all(not f["starts"].startswith(f"{change}T02:") for f in free)


@pytest.mark.clock(datetime(2026, 3, 20, 9, tzinfo=UTC))
def test_r24_a_move_to_a_time_the_clocks_skip_is_refused(practice, desk, api_as) -> None:
    change = date(2026, 3, 29)
    therapist = TherapistFactory(practice=practice, week__starts=time(1), week__ends=time(12))
    session = SessionFactory(therapist=therapist, starts_at=local(practice, change, 10))
    response = api_as(desk).post(move_url(session), {"starts": f"{change}T02:30"}, format="json")
    assert response.status_code == 400
    assert "daylight-saving" in str(response.json()["errors"])
    moved = api_as(desk).post(move_url(session), {"starts": f"{change}T03:00"}, format="json")
    assert moved.status_code == 200, moved.json()
    session.refresh_from_db()
    assert session.starts_at == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST


def test_isolation_another_practices_desk_sees_and_moves_nothing(
    practice, other_desk, booked, therapist, day, api_as
) -> None:
    client = api_as(other_desk)
    body = client.get(EVENTS, {"from": day, "to": day}).json()
    assert body["sessions"] == []
    assert client.get(RESOURCES).json()["resources"] == []
    assert client.get(FREE, {"from": day, "to": day}).json()["free"] == []
    named = client.get(EVENTS, {"from": day, "to": day, "therapist": therapist.pk})
    assert named.status_code == 400
    response = client.post(move_url(booked), {"starts": reading(practice, day, 11)}, format="json")
    assert response.status_code == 404
    booked.refresh_from_db()
    assert booked.starts_at == local(practice, day, 10)


@pytest.mark.parametrize("path", [RESOURCES, EVENTS, FREE])
def test_a_patient_cannot_read_the_desk_grid(practice, member, api_as, day, path) -> None:
    patient = member(practice, Role.PATIENT)
    assert api_as(patient).get(path, {"from": day, "to": day}).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-07-20", "to": "2026-07-19"}, "to"),
        ({"from": "2026-07-01", "to": "2026-08-15"}, "to"),
        ({"from": "soon", "to": "2026-07-19"}, "from"),
        ({"from": "2026-07-20", "to": "2026-07-21", "by": "cupboard"}, "by"),
        ({"from": "3000-01-01", "to": "3000-01-02"}, "from"),
    ],
)
def test_a_bad_range_is_a_400_naming_the_field(desk, api_as, params, field) -> None:
    response = api_as(desk).get(EVENTS, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_drag_moves_the_session_to_another_time_and_therapist(
    practice, desk, booked, day, api_as
) -> None:
    other = TherapistFactory(practice=practice, week=True)
    version = booked.schedule_version
    response = api_as(desk).post(
        move_url(booked),
        {"starts": reading(practice, day, 13), "therapist": other.pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["resource"] == other.pk
    booked.refresh_from_db()
    assert (booked.therapist, booked.starts_at) == (other, local(practice, day, 13))
    assert booked.schedule_version == version + 1


def test_dragging_the_end_gives_the_session_another_length(
    practice, desk, booked, day, api_as
) -> None:
    response = api_as(desk).post(
        move_url(booked), {"starts": reading(practice, day, 10), "minutes": 45}, format="json"
    )
    assert response.status_code == 200, response.json()
    booked.refresh_from_db()
    assert booked.minutes == 45
    assert booked.ends_at == local(practice, day, 10, 45)


def test_r19_a_drag_onto_a_taken_time_is_a_409_with_the_reason(
    practice, desk, therapist, booked, day, api_as
) -> None:
    SessionFactory(therapist=therapist, starts_at=local(practice, day, 14))
    response = api_as(desk).post(
        move_url(booked), {"starts": reading(practice, day, 14)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"]
    booked.refresh_from_db()
    assert booked.starts_at == local(practice, day, 10)


def test_r23_a_drag_outside_working_hours_is_a_400_with_the_reason(
    practice, desk, booked, day, api_as
) -> None:
    response = api_as(desk).post(
        move_url(booked), {"starts": reading(practice, day, 18)}, format="json"
    )
    assert response.status_code == 400
    assert "R23" in response.json()["errors"]["starts_at"][0]


def test_a_drag_to_a_therapist_not_qualified_for_the_type_is_refused(
    practice, desk, booked, day, api_as
) -> None:
    other = TherapistFactory(practice=practice, week=True, massage_types=[])
    response = api_as(desk).post(
        move_url(booked),
        {"starts": reading(practice, day, 10), "therapist": other.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "massage_type" in response.json()["errors"]
    booked.refresh_from_db()
    assert booked.therapist_id != other.pk


def test_r10_a_course_session_cannot_be_dragged_onto_a_day_of_the_same_course(
    practice, desk, therapist, day, api_as
) -> None:
    course = CourseFactory(practice=practice)  # every other day from today, at noon
    second = course.sessions.get(sequence=2)
    response = api_as(desk).post(
        move_url(second), {"starts": reading(practice, today(practice), 15)}, format="json"
    )
    assert response.status_code == 400
    assert "R10" in response.json()["errors"]["starts_at"][0]


@pytest.mark.parametrize("starts", ["9999-12-31T23:30", "soon", ""])
def test_a_bad_start_is_a_400_never_a_500(practice, desk, booked, api_as, starts) -> None:
    response = api_as(desk).post(move_url(booked), {"starts": starts}, format="json")
    assert response.status_code == 400
    assert "starts" in response.json()["errors"]


def test_a_session_not_booked_cannot_be_dragged(practice, desk, booked, day, api_as) -> None:
    Session.objects.filter(pk=booked.pk).update(status=SessionStatus.CANCELLED)
    response = api_as(desk).post(
        move_url(booked), {"starts": reading(practice, day, 11)}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_the_schema_documents_the_calendar_endpoints() -> None:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"get"} <= set(paths["/api/v1/calendar/events/"])
    assert "409" in paths["/api/v1/calendar/sessions/{id}/move/"]["post"]["responses"]
    events = paths["/api/v1/calendar/events/"]["get"]
    assert {p["name"] for p in events["parameters"]} >= {"from", "to", "by", "therapist"}
    assert "/api/v1/calendar/free/" in paths
    assert "/api/v1/calendar/resources/" in paths
