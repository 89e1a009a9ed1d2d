"""Availability (R23, R24, R19): pure calendar arithmetic first, then the loader's queries."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from practice.calendar import Calendar, DayClosed, epoch, subtract
from practice.models import Practice
from sessions.availability import availability, calendar_load
from sessions.models import SessionStatus
from tests.factories import (
    ClosureFactory,
    RoomFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
    massage_type,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY = date(2027, 1, 4)
# Before opening on that Monday, so the whole day is bookable.
NOW = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)

pytestmark = pytest.mark.clock(NOW)


def at(day: date, hour: int, minute: int = 0, zone: zoneinfo.ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def local_times(starts: list[int], zone: zoneinfo.ZoneInfo = BERLIN) -> list[str]:
    return [datetime.fromtimestamp(s, tz=zone).strftime("%H:%M") for s in starts]


def calendar(**overrides: object) -> Calendar:
    fields: dict = {
        "zone": BERLIN,
        "grid_minutes": 15,
        "buffer_minutes": 10,
        "hours": {1: {0: [(time(9), time(12))]}},
        "not_before": epoch(NOW),
    }
    fields.update(overrides)
    return Calendar(**fields)


# -- pure ------------------------------------------------------------------------------------


def test_subtract_keeps_the_touching_ends() -> None:
    assert subtract((0, 100), [(10, 20), (15, 30), (90, 120)]) == [(0, 10), (30, 90)]
    assert subtract((0, 100), []) == [(0, 100)]
    assert subtract((50, 60), [(0, 70)]) == []


def test_r23_starts_only_inside_working_hours() -> None:
    starts = calendar().free_starts(1, MONDAY, MONDAY, 60)
    assert local_times(starts) == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
    ]


def test_r23_no_hours_that_weekday_means_no_starts() -> None:
    tuesday = MONDAY + timedelta(days=1)
    assert calendar().free_starts(1, tuesday, tuesday, 30) == []
    assert calendar().why_closed(1, tuesday) == DayClosed.NOT_WORKING


def test_r23_buffer_before_and_after_an_existing_session() -> None:
    # 10:00-10:30, room ready at 10:40.
    busy = {1: [(epoch(at(MONDAY, 10)), epoch(at(MONDAY, 10, 40)))]}
    starts = calendar(sessions=busy).free_starts(1, MONDAY, MONDAY, 60)
    # 09:00 would end 10:00 plus 10 minutes of buffer, into the session: nothing before it.
    assert local_times(starts) == ["10:45", "11:00"]
    starts_30 = calendar(sessions=busy).free_starts(1, MONDAY, MONDAY, 30)
    assert "09:15" in local_times(starts_30)  # ends 09:45 + 10 buffer = 09:55 < 10:00
    assert "09:30" not in local_times(starts_30)  # ends 10:00 + 10 buffer overlaps


def test_r23_closures_and_time_off_remove_their_hours() -> None:
    closure = [(epoch(at(MONDAY, 9)), epoch(at(MONDAY, 10)))]
    off = {1: [(epoch(at(MONDAY, 11)), epoch(at(MONDAY, 12)))]}
    starts = calendar(closures=closure, time_off=off).free_starts(1, MONDAY, MONDAY, 30)
    assert local_times(starts) == ["10:00", "10:15", "10:30"]


def test_r23_whole_day_closure_is_reported_as_closure() -> None:
    closure = [(epoch(at(MONDAY, 0)), epoch(at(MONDAY + timedelta(days=1), 0)))]
    cal = calendar(closures=closure)
    assert cal.free_starts(1, MONDAY, MONDAY, 30) == []
    assert cal.why_closed(1, MONDAY) == DayClosed.CLOSURE


def test_r23_never_in_the_past_nor_beyond_the_horizon() -> None:
    now = at(MONDAY, 10, 5)
    starts = calendar(not_before=epoch(now)).free_starts(1, MONDAY, MONDAY, 60)
    assert local_times(starts)[0] == "10:15"
    horizon = calendar(not_after=epoch(at(MONDAY, 10)))
    assert local_times(horizon.free_starts(1, MONDAY, MONDAY, 60))[-1] == "09:45"


def test_r24_grid_keeps_local_wall_clock_across_the_spring_change() -> None:
    saturday, sunday = date(2026, 3, 28), date(2026, 3, 29)
    cal = calendar(
        hours={1: {5: [(time(9), time(10))], 6: [(time(9), time(10))]}},
        not_before=epoch(datetime(2026, 3, 1, tzinfo=UTC)),
    )
    starts = cal.free_starts(1, saturday, sunday, 30)
    assert local_times(starts) == ["09:00", "09:15", "09:30"] * 2
    utc_hours = [datetime.fromtimestamp(s, tz=UTC).hour for s in starts]
    assert utc_hours == [8, 8, 8, 7, 7, 7]


def test_r24_working_interval_across_the_autumn_change_walks_the_wall_clock() -> None:
    # 01:00-04:00 on 25 October 2026 holds 02:00-03:00 twice; the grid follows the clock,
    # and both 02:00s are starts: four real hours of work.
    day = date(2026, 10, 25)
    cal = calendar(
        hours={1: {6: [(time(1), time(4))]}},
        grid_minutes=60,
        not_before=epoch(datetime(2026, 10, 1, tzinfo=UTC)),
    )
    starts = cal.free_starts(1, day, day, 60)
    assert [datetime.fromtimestamp(s, tz=BERLIN).strftime("%H:%M%z") for s in starts] == [
        "01:00+0200",
        "02:00+0200",
        "02:00+0100",
        "03:00+0100",
    ]


# -- loaded from the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_r23_availability_skips_a_booked_session_and_its_buffer(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(12))
    SessionFactory(therapist=therapist, starts_at=at(MONDAY, 10), minutes=30)
    slots = availability(
        practice=practice,
        therapist_ids=[therapist.pk],
        first=MONDAY,
        last=MONDAY,
        minutes=60,
        now=NOW,
    )
    assert [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["10:45", "11:00"]
    assert all(s.therapist_ids == (therapist.pk,) for s in slots)


@pytest.mark.django_db
def test_r19_cancelled_and_no_show_sessions_free_their_time(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
    SessionFactory(therapist=therapist, starts_at=at(MONDAY, 9), status=SessionStatus.CANCELLED)
    slots = availability(
        practice=practice,
        therapist_ids=[therapist.pk],
        first=MONDAY,
        last=MONDAY,
        minutes=60,
        now=NOW,
    )
    assert [s.starts_at for s in slots] == [at(MONDAY, 9)]


@pytest.mark.django_db
def test_r19_a_start_is_offered_only_while_a_room_is_free_for_it(practice: Practice) -> None:
    first_room = RoomFactory(practice=practice, name="A")
    second_room = RoomFactory(practice=practice, name="B")
    one, other, third = (
        TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
        for _ in range(3)
    )
    SessionFactory(therapist=other, starts_at=at(MONDAY, 9), minutes=60, room=first_room)
    kwargs = {
        "practice": practice,
        "therapist_ids": [one.pk],
        "first": MONDAY,
        "last": MONDAY,
        "minutes": 60,
        "now": NOW,
    }
    # One room of two is taken: the other is free.
    assert len(availability(**kwargs)) == 1
    # Asked for the taken room by name, nothing.
    assert availability(**kwargs, room=first_room) == []
    SessionFactory(therapist=third, starts_at=at(MONDAY, 9), minutes=60, room=second_room)
    # Both rooms taken: the therapist is free, but no room is.
    assert availability(**kwargs) == []


@pytest.mark.django_db
def test_r19_only_rooms_that_suit_the_type_count_for_its_free_times(practice: Practice) -> None:
    classical = massage_type(practice, "classical")
    honey = massage_type(practice, "honey")
    wet_room = RoomFactory(practice=practice, name="Wet room")
    wet_room.massage_types.set([honey])
    table_room = RoomFactory(practice=practice, name="Table room")
    one, other = (
        TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
        for _ in range(2)
    )
    SessionFactory(therapist=other, starts_at=at(MONDAY, 9), minutes=60, room=table_room)
    kwargs = {
        "practice": practice,
        "therapist_ids": [one.pk],
        "first": MONDAY,
        "last": MONDAY,
        "minutes": 60,
        "now": NOW,
    }
    # The wet room is free, but suits honey massage only.
    assert availability(**kwargs, massage_type_id=classical.pk) == []
    assert len(availability(**kwargs, massage_type_id=honey.pk)) == 1
    # No type given: any room will do.
    assert len(availability(**kwargs)) == 1


def test_r19_no_room_free_is_where_every_room_is_held() -> None:
    # Each room's sessions as [start, end + buffer): the buffer is 10 minutes.
    rooms = {
        10: [(epoch(at(MONDAY, 9)), epoch(at(MONDAY, 10)))],
        11: [(epoch(at(MONDAY, 9, 30)), epoch(at(MONDAY, 11)))],
    }
    starts = local_times(calendar(rooms=rooms).free_starts(1, MONDAY, MONDAY, 30))
    # Room 10 is held until 10:00, room 11 from 09:30 less the 40 minutes a session holds:
    # the first start is 10:00, touching the end of room 10's hold, as the exclusion
    # constraint sees it.
    assert starts[:2] == ["10:00", "10:15"]
    # Rooms exist but none may be taken: nothing is free.
    assert calendar(rooms={}).free_starts(1, MONDAY, MONDAY, 30) == []


@pytest.mark.django_db
def test_r23_closure_and_time_off_from_the_database(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(11))
    ClosureFactory(practice=practice, starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 10))
    TimeOffFactory(therapist=therapist, starts_at=at(MONDAY, 10, 30), ends_at=at(MONDAY, 11))
    slots = availability(
        practice=practice,
        therapist_ids=[therapist.pk],
        first=MONDAY,
        last=MONDAY,
        minutes=30,
        now=NOW,
    )
    assert [s.starts_at for s in slots] == [at(MONDAY, 10)]


@pytest.mark.django_db
def test_any_qualified_therapist_merges_starts(practice: Practice) -> None:
    early = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
    late = TherapistFactory(practice=practice, week__starts=time(9, 30), week__ends=time(10, 30))
    slots = availability(
        practice=practice,
        therapist_ids=[early.pk, late.pk],
        first=MONDAY,
        last=MONDAY,
        minutes=30,
        now=NOW,
    )
    by_time = {s.starts_at.astimezone(BERLIN).strftime("%H:%M"): s.therapist_ids for s in slots}
    assert by_time["09:00"] == (early.pk,)
    assert set(by_time["09:30"]) == {early.pk, late.pk}
    assert by_time["10:00"] == (late.pk,)


@pytest.mark.django_db
@pytest.mark.parametrize("full", [False, True], ids=["empty day", "full day"])
def test_availability_takes_one_query_whatever_the_day_holds(
    practice: Practice, django_assert_num_queries, full: bool
) -> None:
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(19))
    # Years of history must not matter: they fall outside the range's index bounds.
    for years in range(1, 4):
        SessionFactory(therapist=therapist, starts_at=at(MONDAY - timedelta(days=365 * years), 10))
    if full:
        for hour in range(9, 19):
            SessionFactory(therapist=therapist, starts_at=at(MONDAY, hour), minutes=45)
    practice = Practice.objects.select_related("settings").get(pk=practice.pk)
    with django_assert_num_queries(1):
        slots = availability(
            practice=practice,
            therapist_ids=[therapist.pk],
            first=MONDAY,
            last=MONDAY,
            minutes=30,
            now=NOW,
        )
    assert (slots == []) is full


@pytest.mark.django_db
def test_availability_over_a_month_for_many_therapists_is_still_one_query(
    practice: Practice, django_assert_num_queries
) -> None:
    therapists = [TherapistFactory(practice=practice, week=True) for _ in range(4)]
    ClosureFactory(
        practice=practice, starts_at=at(MONDAY, 0), ends_at=at(MONDAY + timedelta(days=1), 0)
    )
    practice = Practice.objects.select_related("settings").get(pk=practice.pk)
    minutes = massage_type(practice).default_minutes
    with django_assert_num_queries(1):
        slots = availability(
            practice=practice,
            therapist_ids=[t.pk for t in therapists],
            first=MONDAY,
            last=MONDAY + timedelta(days=29),
            minutes=minutes,
            now=NOW,
        )
    assert slots
    assert slots[0].starts_at.astimezone(BERLIN).date() == MONDAY + timedelta(days=1)
    assert len(slots[0].therapist_ids) == 4


def test_r23_overlapping_or_touching_hours_are_one_stretch() -> None:
    cal = calendar(
        hours={1: {0: [(time(9), time(10)), (time(10), time(11)), (time(9, 30), time(10, 30))]}}
    )
    starts = cal.free_starts(1, MONDAY, MONDAY, 60)
    # Each start once, and 09:30-10:30 runs across the 10:00 seam.
    assert local_times(starts) == ["09:00", "09:15", "09:30", "09:45", "10:00"]


@pytest.mark.django_db
def test_calendar_load_reads_moments_as_the_epoch_seconds_of_the_rows(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    room = RoomFactory(practice=practice)
    session = SessionFactory(therapist=therapist, room=room, starts_at=at(MONDAY, 10), minutes=45)
    closure = ClosureFactory(practice=practice, starts_at=at(MONDAY, 14), ends_at=at(MONDAY, 15))
    leave = TimeOffFactory(therapist=therapist, starts_at=at(MONDAY, 16), ends_at=at(MONDAY, 17))

    loaded = calendar_load(
        practice=practice,
        therapist_ids=[therapist.pk],
        first=MONDAY,
        last=MONDAY,
        now=NOW,
        room=room,
        patient_id=session.patient_id,
    )

    held = (epoch(session.starts_at), epoch(session.blocks_until))
    assert loaded.sessions == {therapist.pk: [held]}
    assert loaded.rooms == {room.pk: [held]}
    assert loaded.room_names == {room.pk: room.name}
    assert loaded.patient_sessions == [(epoch(session.starts_at), epoch(session.ends_at))]
    assert loaded.closures == [(epoch(closure.starts_at), epoch(closure.ends_at))]
    assert loaded.time_off == {therapist.pk: [(epoch(leave.starts_at), epoch(leave.ends_at))]}
    assert all(type(moment) is int for moment in held)


ROOM_HOLDS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(7 * 4, 13 * 4), st.integers(1, 8)),  # quarter hours
    max_size=12,
)


@settings(max_examples=80, deadline=None)
@given(holds=ROOM_HOLDS, minutes=st.sampled_from([15, 30, 45, 60]), rooms=st.integers(1, 3))
def test_r19_a_start_is_free_exactly_when_some_room_is_free_for_it(
    holds: list[tuple[int, int, int]], minutes: int, rooms: int
) -> None:
    """Against the oracle: a start without rooms, and one of the rooms with no hold that
    overlaps [start, start + minutes + buffer), as the exclusion constraint sees it."""
    midnight = epoch(at(MONDAY, 0))
    held: dict[int, list[tuple[int, int]]] = {room: [] for room in range(rooms)}
    for room, quarter, length in holds:
        if room < rooms:
            start = midnight + quarter * 900
            held[room].append((start, start + length * 900))
    with_rooms = calendar(rooms=held).free_starts(1, MONDAY, MONDAY, minutes)
    span = (minutes + 10) * 60
    expected = [
        start
        for start in calendar().free_starts(1, MONDAY, MONDAY, minutes)
        if any(not any(a < start + span and b > start for a, b in spans) for spans in held.values())
    ]
    assert with_rooms == expected
