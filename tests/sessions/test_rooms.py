"""Rooms as resources (R19): a practice with rooms puts every session in one that is free and
suits its type, through the API, the desk's pages and the services; a practice without rooms
books without one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from practice.errors import Conflict
from practice.models import Practice, Role, Room
from sessions.booking import sessions as sessions_module
from sessions.booking.sessions import session_book, session_cancel, session_reschedule
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
from tests.pages import logged_in, text
from tests.sessions.outbox import book_course

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def day(practice: Practice) -> date:
    return today(practice, days=2)


@pytest.fixture
def two_rooms(practice: Practice) -> list[Room]:
    return [
        RoomFactory(practice=practice, name="Room 1"),
        RoomFactory(practice=practice, name="Room 2"),
    ]


def book(practice: Practice, starts_at: datetime, kind: str = "classical", **extra) -> Session:
    """A session for a new patient with a new therapist, so only the rooms can collide."""
    return session_book(
        practice=practice,
        patient=extra.pop("patient", None) or PatientFactory(practice=practice),
        therapist=extra.pop("therapist", None) or TherapistFactory(practice=practice, week=True),
        massage_type=massage_type(practice, kind),
        starts_at=starts_at,
        **extra,
    )


def api_booking(practice: Practice, starts_at: datetime, **extra) -> dict:
    return {
        "patient": PatientFactory(practice=practice).pk,
        "therapist": TherapistFactory(practice=practice, week=True).pk,
        "massage_type": massage_type(practice, "classical").pk,
        "starts_at": starts_at.isoformat(),
        **extra,
    }


# --- Capacity ---------------------------------------------------------------------------------


def test_r19_a_two_room_practice_refuses_a_third_simultaneous_session_in_the_api(
    practice, desk, api_as, two_rooms, day
) -> None:
    client = api_as(desk)
    at_ten = local(practice, day, 10)
    first = client.post(SESSIONS, api_booking(practice, at_ten), format="json")
    second = client.post(SESSIONS, api_booking(practice, at_ten), format="json")
    third = client.post(SESSIONS, api_booking(practice, at_ten), format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert {first.json()["room_name"], second.json()["room_name"]} == {"Room 1", "Room 2"}
    assert {first.json()["room"], second.json()["room"]} == {r.pk for r in two_rooms}
    assert third.status_code == 409
    assert "No room is free at that time" in third.json()["detail"]
    assert Session.objects.count() == 2


def test_r19_the_api_offers_no_time_at_which_every_room_is_taken(
    practice, desk, api_as, two_rooms, day
) -> None:
    """Free times are room-aware: two rooms held at 10:00 by other therapists' sessions, a
    free therapist is not offered 10:00, and is offered it again once a room frees."""
    therapist = TherapistFactory(practice=practice, week=True)
    kind = massage_type(practice, "classical")
    at_ten = local(practice, day, 10)
    held = [book(practice, at_ten) for _room in two_rooms]
    query = {"therapist": therapist.pk, "massage_type": kind.pk, "from": day, "to": day}

    def offered() -> set[datetime]:
        response = api_as(desk).get("/api/v1/availability/", query)
        assert response.status_code == 200
        return {datetime.fromisoformat(slot["starts_at"]) for slot in response.json()["slots"]}

    assert at_ten not in offered()
    assert local(practice, day, 12) in offered()
    session_cancel(session=held[0], by=None)
    assert at_ten in offered()


def test_r19_a_two_room_practice_refuses_a_third_simultaneous_session_on_the_desk_pages(
    practice, desk, two_rooms, day
) -> None:
    at_two = local(practice, day, 14)
    book(practice, at_two)
    book(practice, at_two)
    moving = book(practice, local(practice, day, 10))
    response = logged_in(desk).post(
        reverse("sessions:session-move", kwargs={"practice_slug": practice.slug, "pk": moving.pk}),
        {"day": day.isoformat(), "starts_at": at_two.isoformat()},
    )
    assert response.status_code == 409
    assert "No room is free at that time" in text(response)
    moving.refresh_from_db()
    assert moving.starts_at == local(practice, day, 10)


def test_r19_the_buffer_holds_the_room_too(practice, day) -> None:
    RoomFactory(practice=practice)
    book(practice, local(practice, day, 10))  # 10:00-10:15, room ready at 10:25
    with pytest.raises(Conflict, match="No room is free"):
        book(practice, local(practice, day, 10, 15))
    assert book(practice, local(practice, day, 10, 30)).room is not None


def test_a_practice_without_rooms_books_without_one(practice, day) -> None:
    first = book(practice, local(practice, day, 10))
    second = book(practice, local(practice, day, 10))
    assert first.room is None
    assert second.room is None


def test_an_inactive_room_is_never_picked(practice, day) -> None:
    RoomFactory(practice=practice, name="Closed", active=False)
    kept = RoomFactory(practice=practice, name="Open")
    assert book(practice, local(practice, day, 10)).room == kept
    with pytest.raises(Conflict, match="No room is free"):
        book(practice, local(practice, day, 10))


# --- Suitability ------------------------------------------------------------------------------


def test_a_room_kept_for_some_types_is_not_picked_for_another(practice, day) -> None:
    honey_room = RoomFactory(practice=practice, name="A honey room")
    honey_room.massage_types.set([massage_type(practice, "honey")])
    general = RoomFactory(practice=practice, name="B general")
    at_ten = local(practice, day, 10)
    assert book(practice, at_ten).room == general
    # The only other room is free, but it is not for classical massage.
    with pytest.raises(Conflict, match="No room is free"):
        book(practice, at_ten)
    assert book(practice, at_ten, "honey").room == honey_room


def test_a_type_goes_to_its_own_room_first_leaving_the_general_one_free(practice, day) -> None:
    general = RoomFactory(practice=practice, name="A general")
    honey_room = RoomFactory(practice=practice, name="B honey room")
    honey_room.massage_types.set([massage_type(practice, "honey")])
    at_ten = local(practice, day, 10)
    assert book(practice, at_ten, "honey").room == honey_room
    assert book(practice, at_ten).room == general


def test_booking_is_refused_when_no_room_suits_the_type(practice, desk, api_as, day) -> None:
    room = RoomFactory(practice=practice)
    room.massage_types.set([massage_type(practice, "honey")])
    with pytest.raises(ValidationError) as caught:
        book(practice, local(practice, day, 10))
    assert caught.value.message_dict["massage_type"] == ["No room suits Classical."]
    response = api_as(desk).post(
        SESSIONS, api_booking(practice, local(practice, day, 10)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["massage_type"] == ["No room suits Classical."]
    assert not Session.objects.exists()


def test_a_room_asked_for_is_honoured_when_free_and_suitable(
    practice, desk, api_as, two_rooms, day
) -> None:
    response = api_as(desk).post(
        SESSIONS,
        api_booking(practice, local(practice, day, 10), room=two_rooms[1].pk),
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["room"], response.json()["room_name"]) == (two_rooms[1].pk, "Room 2")


def test_a_room_asked_for_that_does_not_suit_the_type_is_refused(
    practice, desk, api_as, two_rooms, day
) -> None:
    two_rooms[0].massage_types.set([massage_type(practice, "honey")])
    response = api_as(desk).post(
        SESSIONS,
        api_booking(practice, local(practice, day, 10), room=two_rooms[0].pk),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["room"] == ["Room 1 does not suit Classical."]


def test_a_room_asked_for_that_is_taken_is_refused_though_another_is_free(
    practice, desk, api_as, two_rooms, day
) -> None:
    at_ten = local(practice, day, 10)
    book(practice, at_ten, room=two_rooms[0])
    response = api_as(desk).post(
        SESSIONS, api_booking(practice, at_ten, room=two_rooms[0].pk), format="json"
    )
    assert response.status_code == 409
    assert response.json()["conflicts_with"]["holder"] == "room"


def test_another_practices_room_cannot_be_used(practice, other_practice, desk, api_as, day) -> None:
    foreign = RoomFactory(practice=other_practice)
    response = api_as(desk).post(
        SESSIONS, api_booking(practice, local(practice, day, 10), room=foreign.pk), format="json"
    )
    assert response.status_code == 400
    assert "room" in response.json()["errors"]
    with pytest.raises(ValidationError) as caught:
        book(practice, local(practice, day, 10), room=foreign)
    assert "room" in caught.value.message_dict
    # Nor is it picked: this practice has no room of its own.
    assert book(practice, local(practice, day, 10)).room is None


def test_another_practices_sessions_do_not_hold_this_practices_rooms(
    practice, other_practice, day
) -> None:
    room = RoomFactory(practice=practice)
    other_room = RoomFactory(practice=other_practice)
    SessionFactory(room=other_room, starts_at=local(practice, day, 10))
    assert book(practice, local(practice, day, 10)).room == room


# --- Moving -----------------------------------------------------------------------------------


def test_a_moved_session_keeps_its_room_when_free(practice, two_rooms, day) -> None:
    session = book(practice, local(practice, day, 10), room=two_rooms[1])
    moved = session_reschedule(session=session, starts_at=local(practice, day, 15))
    assert moved.room == two_rooms[1]
    moved.refresh_from_db()
    assert moved.room == two_rooms[1]


def test_a_moved_session_takes_another_room_when_its_own_is_taken(practice, two_rooms, day) -> None:
    session = book(practice, local(practice, day, 10), room=two_rooms[0])
    book(practice, local(practice, day, 15), room=two_rooms[0])
    moved = session_reschedule(session=session, starts_at=local(practice, day, 15))
    moved.refresh_from_db()
    assert moved.room == two_rooms[1]


def test_a_moved_session_leaves_a_room_that_no_longer_suits_its_type(
    practice, two_rooms, day
) -> None:
    session = book(practice, local(practice, day, 10), room=two_rooms[0])
    two_rooms[0].massage_types.set([massage_type(practice, "honey")])
    moved = session_reschedule(session=session, starts_at=local(practice, day, 11))
    assert moved.room == two_rooms[1]


def test_a_move_is_refused_when_no_room_is_free(practice, two_rooms, day) -> None:
    session = book(practice, local(practice, day, 10))
    at_three = local(practice, day, 15)
    book(practice, at_three)
    book(practice, at_three)
    with pytest.raises(Conflict, match="No room is free"):
        session_reschedule(session=session, starts_at=at_three)
    session.refresh_from_db()
    assert session.starts_at == local(practice, day, 10)


def test_a_session_moved_within_its_own_time_keeps_its_room(practice, day) -> None:
    room = RoomFactory(practice=practice)
    session = book(practice, local(practice, day, 10))
    # 10:15 overlaps its own old time: that does not hold the room against it.
    moved = session_reschedule(session=session, starts_at=local(practice, day, 10, 15))
    assert moved.room == room


# --- Courses ----------------------------------------------------------------------------------


def test_a_course_puts_its_sessions_in_one_free_room(practice, two_rooms) -> None:
    course = book_course(practice)
    rooms = set(course.sessions.values_list("room", flat=True))
    assert rooms == {two_rooms[0].pk}


def test_a_course_is_refused_when_no_room_suits_its_type(practice) -> None:
    room = RoomFactory(practice=practice)
    room.massage_types.set([massage_type(practice, "honey")])
    with pytest.raises(ValidationError, match="No room suits Classical"):
        book_course(practice)
    assert not Session.objects.exists()


# --- Races ------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r19_two_threads_booking_the_last_room_one_wins_one_hears_no_room_is_free(
    practice: Practice,
) -> None:
    RoomFactory(practice=practice)
    starts_at = local(practice, today(practice, days=3), 10)
    bookings = [
        (PatientFactory(practice=practice), TherapistFactory(practice=practice, week=True))
        for _ in range(2)
    ]
    barrier = threading.Barrier(len(bookings))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
            outcome = "booked"
        except Conflict as refused:
            outcome = refused.detail.split(" (")[0]
        except Exception as error:  # shown by the assertion below
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(
            target=run,
            args=(
                lambda patient=patient, therapist=therapist: session_book(
                    practice=practice,
                    patient=patient,
                    therapist=therapist,
                    massage_type=massage_type(practice),
                    starts_at=starts_at,
                ),
            ),
        )
        for patient, therapist in bookings
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["No room is free at that time", "booked"]
    assert Session.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("rooms", [1, 2])
def test_r19_a_room_taken_after_the_check_is_picked_again_or_refused_cleanly(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, rooms: int
) -> None:
    """The lost race made deterministic: a concurrent booking takes the room between the
    check and the insert; the exclusion constraint refuses the insert."""
    for number in range(rooms):
        RoomFactory(practice=practice, name=f"Room {number + 1}")
    starts_at = local(practice, today(practice, days=3), 10)
    choose = sessions_module.rooms_choose
    calls = []

    def choose_then_lose_the_room(calendar, **kwargs):
        chosen = choose(calendar, **kwargs)
        if not calls:
            SessionFactory(room=chosen[0], starts_at=starts_at)
        calls.append(chosen)
        return chosen

    monkeypatch.setattr(sessions_module, "rooms_choose", choose_then_lose_the_room)
    if rooms == 1:
        with pytest.raises(Conflict, match="No room is free at that time"):
            book(practice, starts_at)
        assert Session.objects.count() == 1
    else:
        session = book(practice, starts_at)
        assert session.room is not None
        assert session.room.name == "Room 2"
        assert Session.objects.count() == 2


# --- The patients' portal ---------------------------------------------------------------------


def test_a_patient_booking_online_gets_a_room_or_hears_none_is_free(practice, member) -> None:
    room = RoomFactory(practice=practice)
    user = member(practice, Role.PATIENT, email="ann@example.com")
    ann = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=ann)
    TherapistFactory(practice=practice, week=True)
    kind = massage_type(practice, "classical")
    day = today(practice, days=1)
    client = logged_in(user)
    book_url = reverse("portal:book", kwargs={"practice_slug": practice.slug})

    # Another therapist's session holds the only room at 10:00.
    book(practice, local(practice, day, 10))
    refused = client.post(
        book_url,
        {"massage_type": kind.pk, "day": day, "starts_at": local(practice, day, 10).isoformat()},
    )
    # The page offered 10:00 to nobody (no room is free then), so a posted 10:00 is taken.
    assert refused.status_code == 409
    assert "This time is no longer free" in text(refused)
    offered = client.get(book_url, {"massage_type": kind.pk, "day": day})
    assert local(practice, day, 11).astimezone(UTC).isoformat() in text(offered)
    assert local(practice, day, 10).astimezone(UTC).isoformat() not in text(offered)

    booked = client.post(
        book_url,
        {"massage_type": kind.pk, "day": day, "starts_at": local(practice, day, 11).isoformat()},
    )
    assert booked.status_code == 302
    assert Session.objects.get(patient=ann).room == room
