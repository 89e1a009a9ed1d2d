"""Booking, moving and cancelling single sessions (R19, R23, R13) through the services."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from courses.models import Cadence, CourseStatus
from courses.services import CourseRequest
from patients.models import Patient
from practice.errors import Conflict
from practice.models import Practice, Therapist
from sessions.booking.conflicts import r23_refusal
from sessions.booking.courses import course_book
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.models import Session, SessionStatus
from tests.factories import (
    PatientFactory,
    RoomFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)
from tests.sessions.outbox import MONDAY, NOW, TUESDAY, book
from tests.tz_transitions import GRIDS, LENGTHS, calendar, change_days, intervals, reading

# The services are handed NOW; what reads the clock itself sees the same Monday morning.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def test_r23_booking_stores_utc_with_the_buffer(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    session = book(practice, at(MONDAY, 10), therapist=therapist)
    session.refresh_from_db()
    assert session.starts_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert session.ends_at - session.starts_at == timedelta(minutes=15)  # the type's default
    assert session.blocks_until - session.ends_at == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (at(MONDAY, 8), "working hours"),
        (at(MONDAY, 19, 55), "working hours"),
        (at(MONDAY, 10, 5), "grid"),
        (datetime(2026, 6, 1, 3, 0, tzinfo=UTC), "past"),
        (at(MONDAY + timedelta(days=120), 10), "horizon"),
    ],
)
def test_r23_refuses_times_never_bookable_with_a_field_message(
    practice: Practice, starts_at: datetime, message: str
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    with pytest.raises(ValidationError) as caught:
        book(practice, starts_at, therapist=therapist)
    assert message in caught.value.message_dict["starts_at"][0]
    assert not Session.objects.exists()


def test_r23_refuses_an_unqualified_therapist(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.massage_types.set([massage_type(practice, "relaxing")])
    with pytest.raises(ValidationError) as caught:
        book(practice, at(MONDAY, 10), therapist=therapist)
    assert "massage_type" in caught.value.message_dict


def test_r19_taken_time_is_a_conflict_naming_the_session(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    book(practice, at(MONDAY, 10), therapist=therapist)
    with pytest.raises(Conflict) as caught:
        book(practice, at(MONDAY, 10, 15), therapist=therapist)  # inside 10:15's buffer
    assert caught.value.body["conflicts_with"]["holder"] == "therapist"
    assert caught.value.body["conflicts_with"]["starts_at"].startswith("2026-06-01T10:00:00+02:00")
    assert Session.objects.count() == 1


def test_r19_a_patient_cannot_be_in_two_sessions_at_once(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    book(practice, at(MONDAY, 10), patient=patient)
    with pytest.raises(Conflict) as caught:
        book(practice, at(MONDAY, 10), patient=patient)
    assert caught.value.body["conflicts_with"]["holder"] == "patient"


def test_r19_a_room_holds_one_session_at_a_time(practice: Practice) -> None:
    room = RoomFactory(practice=practice)
    book(practice, at(MONDAY, 10), room=room)
    with pytest.raises(Conflict) as caught:
        book(practice, at(MONDAY, 10), room=room)
    assert caught.value.body["conflicts_with"]["holder"] == "room"
    # Without naming a room it is still the practice's only one: nothing is free.
    with pytest.raises(Conflict, match="No room is free"):
        book(practice, at(MONDAY, 10))
    assert Session.objects.count() == 1


def test_r23_back_to_back_after_the_buffer_is_fine(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    book(practice, at(MONDAY, 10), therapist=therapist)  # 10:00-10:15, ready 10:25
    second = book(practice, at(MONDAY, 10, 30), therapist=therapist)
    assert second.pk


@pytest.mark.postgres
@pytest.mark.parametrize("holder", ["therapist", "room", "patient"])
def test_r19_database_refuses_overlaps_the_services_never_saw(
    practice: Practice, holder: str
) -> None:
    room = RoomFactory(practice=practice)
    patient = PatientFactory(practice=practice)
    first = SessionFactory(
        therapist=TherapistFactory(practice=practice),
        starts_at=at(MONDAY, 10),
        minutes=30,  # until 10:30: the patient is still in it at 10:20
        room=room,
        patient=patient,
    )
    clash = {
        "therapist": {"therapist": first.therapist},
        "room": {"therapist": TherapistFactory(practice=practice), "room": room},
        "patient": {"therapist": TherapistFactory(practice=practice), "patient": patient},
    }[holder]
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(starts_at=at(MONDAY, 10, 20), **clash)


@pytest.mark.postgres
def test_r19_database_enforces_the_buffer_but_allows_touching(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice)
    SessionFactory(therapist=therapist, starts_at=at(MONDAY, 10), minutes=30)  # ready 10:40
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionFactory(therapist=therapist, starts_at=at(MONDAY, 10, 35))
    assert SessionFactory(therapist=therapist, starts_at=at(MONDAY, 10, 40)).pk
    # A cancelled row holds nothing.
    Session.objects.filter(starts_at=at(MONDAY, 10)).update(status=SessionStatus.CANCELLED)
    assert SessionFactory(therapist=therapist, starts_at=at(MONDAY, 9, 50)).pk


@pytest.mark.postgres
def test_r19_the_same_times_in_two_practices_do_not_collide(
    practice: Practice, other_practice: Practice
) -> None:
    SessionFactory(therapist=TherapistFactory(practice=practice), starts_at=at(MONDAY, 10))
    assert SessionFactory(
        therapist=TherapistFactory(practice=other_practice), starts_at=at(MONDAY, 10)
    ).pk


def test_reschedule_moves_and_bumps_the_schedule_version(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    session = book(practice, at(MONDAY, 10), therapist=therapist)
    moved = session_reschedule(session=session, starts_at=at(MONDAY, 10, 15), now=NOW)
    moved.refresh_from_db()
    # Its own old time does not block it (the move overlaps where it was).
    assert moved.starts_at == at(MONDAY, 10, 15)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=15)
    assert moved.schedule_version == 2


def test_r19_reschedule_into_a_taken_time_is_a_conflict(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    book(practice, at(MONDAY, 10), therapist=therapist)
    session = book(practice, at(MONDAY, 12), therapist=therapist)
    with pytest.raises(Conflict):
        session_reschedule(session=session, starts_at=at(MONDAY, 10), now=NOW)
    session.refresh_from_db()
    assert session.starts_at == at(MONDAY, 12)
    assert session.schedule_version == 1


def test_cancel_inside_the_notice_is_late_and_frees_the_time(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    session = book(practice, at(MONDAY, 10), therapist=therapist)
    result = session_cancel(session=session, by=None, reason="ill", now=NOW)
    assert result.late  # 24 h notice, 3 hours before
    assert result.session.status == SessionStatus.CANCELLED
    assert result.session.cancellation_reason == "ill"
    assert book(practice, at(MONDAY, 10), therapist=therapist).pk
    with pytest.raises(Conflict):
        session_cancel(session=session, by=None, now=NOW)


def test_cancel_with_notice_is_not_late(practice: Practice) -> None:
    session = book(practice, at(MONDAY + timedelta(days=2), 10))
    assert session_cancel(session=session, by=None, now=NOW).late is False


def _course(practice: Practice, cadence: Cadence = Cadence.DAILY):
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=MONDAY)
    therapist = TherapistFactory(practice=practice, week=True)
    return course_book(
        request=CourseRequest(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=massage_type(practice, "relaxing"),
            start_date=MONDAY,
            preferred_time=time(10),
            cadence=cadence,
        ),
        now=NOW,
    )


def test_r13_cancelling_a_course_session_offers_rebooking_within_the_cadence(
    practice: Practice,
) -> None:
    course = _course(practice, Cadence.EVERY_OTHER_DAY)
    second = course.sessions.get(sequence=2)  # Wednesday; the third is on Friday
    result = session_cancel(session=second, by=None, now=NOW)
    days = {o.astimezone(BERLIN).date() for o in result.rebook_options}
    assert days
    assert days <= {MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)}
    rebooked = book(
        practice,
        result.rebook_options[0],
        therapist=second.therapist,
        patient=course.patient,
        massage_type=course.massage_type,
        course=course,
        sequence=2,
        minutes=second.minutes,
    )
    assert rebooked.course == course


def _cancel_late(session: Session) -> None:
    """Cancel an hour before the start, inside the practice's notice: a late cancellation."""
    assert session_cancel(session=session, by=None, now=session.starts_at - timedelta(hours=1)).late


def test_r13_more_than_two_missed_in_a_row_interrupts_the_course(practice: Practice) -> None:
    course = _course(practice)
    for sequence in (2, 3):
        _cancel_late(course.sessions.get(sequence=sequence))
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED
    _cancel_late(course.sessions.get(sequence=4))
    course.refresh_from_db()
    assert course.status == CourseStatus.INTERRUPTED


def test_r13_cancellations_in_time_never_interrupt_the_course(practice: Practice) -> None:
    course = _course(practice)
    for sequence in (2, 3, 4):
        cancellation = session_cancel(
            session=course.sessions.get(sequence=sequence), by=None, now=NOW
        )
        assert not cancellation.late
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED


def test_r10_rebooking_never_puts_two_course_sessions_on_one_day(practice: Practice) -> None:
    course = _course(practice)
    second = course.sessions.get(sequence=2)
    session_cancel(session=second, by=None, now=NOW)
    third_day = course.sessions.get(sequence=3).starts_at.astimezone(BERLIN).date()
    with pytest.raises(ValidationError) as caught:
        book(
            practice,
            at(third_day, 15),
            therapist=second.therapist,
            patient=course.patient,
            massage_type=course.massage_type,
            course=course,
            sequence=2,
        )
    assert "R10" in caught.value.message_dict["starts_at"][0]


def test_r13_a_course_position_is_held_once(practice: Practice) -> None:
    course = _course(practice)
    second = course.sessions.get(sequence=2)
    with pytest.raises(ValidationError) as caught:
        book(
            practice,
            at(MONDAY + timedelta(days=20), 15),
            therapist=second.therapist,
            patient=course.patient,
            massage_type=course.massage_type,
            course=course,
            sequence=2,
        )
    assert "sequence" in caught.value.message_dict


@settings(max_examples=40, deadline=None)
@given(
    place=change_days(),
    hours=intervals,
    grid=st.sampled_from(GRIDS),
    minutes=st.sampled_from(LENGTHS),
)
def test_r23_the_booking_check_refuses_exactly_what_availability_does_not_offer(
    place: tuple[zoneinfo.ZoneInfo, date], hours: list, grid: int, minutes: int
) -> None:
    """On a day next to a real offset change, every instant of the day five minutes apart:
    the booking's R23 check accepts exactly the listed starts, and calls a start off the grid
    only when its own local reading is off the grid (R24)."""
    zone, day = place
    cal = calendar(zone, day, hours, grid)
    listed = set(cal.free_starts(1, day, day, minutes))
    off_grid = f"Sessions start on the practice's {grid}-minute grid."
    first = int(datetime.combine(day, time(), tzinfo=zone).timestamp()) - 3 * 3600
    for instant in range(first, first + 30 * 3600, 300):
        wall = reading(zone, instant)
        if wall.date() != day:
            continue
        refusal = r23_refusal(cal, 1, instant, minutes)
        assert (refusal is None) == (instant in listed), wall
        if refusal == off_grid:
            assert (wall.hour * 60 + wall.minute) % grid != 0, wall


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rooms", [0, 2])
def test_booking_one_session_is_six_round_trips_in_one_transaction_without_savepoints(
    practice: Practice, rooms: int
) -> None:
    for number in range(rooms):
        RoomFactory(practice=practice, name=f"Room {number + 1}")
    practice = Practice.objects.select_related("settings").get(pk=practice.pk)
    # Read afresh, as a request reads them: nothing related is cached on them.
    patient = Patient.objects.get(pk=PatientFactory(practice=practice, consenting=True).pk)
    therapist = Therapist.objects.get(pk=TherapistFactory(practice=practice, week=True).pk)
    classical = massage_type(practice, "classical")

    with CaptureQueriesContext(connection) as statements:
        session = book(
            practice, at(TUESDAY, 10), patient=patient, therapist=therapist, massage_type=classical
        )
        room_name = session.room.name if session.room is not None else None

    verbs = [statement["sql"].split()[0].upper() for statement in statements.captured_queries]
    # The checks read twice: the patient's screening, then the calendar with the therapist's
    # qualification and the rooms that suit the type (one union; a day ahead holds no
    # blood-pressure reading to read, R8). Then the session and its reminders in one
    # transaction. With the booking's own atomic block around r19_write's there were a
    # SAVEPOINT and its RELEASE; the rooms were two reads of their own.
    assert verbs == ["SELECT", "SELECT", "BEGIN", "INSERT", "INSERT", "COMMIT"]
    assert room_name == ("Room 1" if rooms else None)


def test_r23_an_unqualified_therapist_is_refused_a_course_too(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.massage_types.set([massage_type(practice, "relaxing")])
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=NOW.date())
    request = CourseRequest(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice, "classical"),
        start_date=TUESDAY,
        preferred_time=time(10),
        sessions_count=10,
        cadence=Cadence.DAILY,
    )
    with pytest.raises(ValidationError) as caught:
        course_book(
            request=request, starts=[at(TUESDAY + timedelta(days=n), 10) for n in range(10)]
        )
    assert caught.value.message_dict["massage_type"] == [
        "This therapist is not qualified for this massage type."
    ]
    assert not Session.objects.filter(patient=patient).exists()
