"""Course planning (R10, R14, R24): the pure planner, its properties, and DST through the
service."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from courses.models import Cadence
from courses.planning import NoOpenDay, plan_sessions
from courses.services import CourseRequest
from practice.calendar import Calendar, DayClosed, epoch
from practice.errors import Conflict
from practice.models import Practice, WorkingHours
from sessions.booking.courses import course_book, course_plan
from tests.factories import (
    ClosureFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
    WorkingHoursFactory,
    massage_type,
)
from tests.tz_transitions import change_days, instants_reading

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)

# The morning of MONDAY, the day the plans start from (the services are handed it too).
pytestmark = pytest.mark.clock(datetime.combine(MONDAY, time(6), tzinfo=BERLIN))


def week(starts: time = time(9), ends: time = time(20), days: range = range(7)) -> dict:
    return {1: {d: [(starts, ends)] for d in days}}


def plan(cal: Calendar, **overrides: object):
    fields: dict = {
        "calendar": cal,
        "therapist_id": 1,
        "start_date": MONDAY,
        "count": 10,
        "cadence": Cadence.DAILY,
        "preferred_time": time(18),
        "default_minutes": 30,
        "last_day": MONDAY + timedelta(days=90),
    }
    fields.update(overrides)
    return plan_sessions(**fields)


def calendar(**overrides: object) -> Calendar:
    fields: dict = {"zone": BERLIN, "grid_minutes": 15, "buffer_minutes": 10, "hours": week()}
    fields.update(overrides)
    return Calendar(**fields)


def local(moment: datetime, zone: zoneinfo.ZoneInfo = BERLIN) -> datetime:
    return moment.astimezone(zone)


# -- the pure planner --------------------------------------------------------------------------


def test_r10_daily_course_skips_the_weekend_and_says_why() -> None:
    sessions = plan(calendar(hours=week(days=range(5))))
    days = [local(s.starts_at).date() for s in sessions]
    assert MONDAY + timedelta(days=5) not in days
    assert days[5] == MONDAY + timedelta(days=7)
    moved = sessions[5]
    assert moved.due_day == MONDAY + timedelta(days=5)
    assert [(d.day.weekday(), d.reason) for d in moved.skipped] == [
        (5, DayClosed.NOT_WORKING),
        (6, DayClosed.NOT_WORKING),
    ]


def test_r10_a_closed_day_moves_the_session_and_shifts_the_rest() -> None:
    wednesday = MONDAY + timedelta(days=2)
    closure = [
        (
            epoch(datetime.combine(wednesday, time(), tzinfo=BERLIN)),
            epoch(datetime.combine(wednesday + timedelta(days=1), time(), tzinfo=BERLIN)),
        )
    ]
    sessions = plan(calendar(closures=closure), cadence=Cadence.EVERY_OTHER_DAY)
    days = [local(s.starts_at).date() for s in sessions]
    assert days[:3] == [MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=5)]
    assert sessions[1].skipped[0].reason == DayClosed.CLOSURE
    assert sessions[1].skipped[0].message
    assert all((b - a).days == 2 for a, b in pairwise(days[1:]))


def test_r10_time_off_is_reported_as_time_off() -> None:
    tuesday = MONDAY + timedelta(days=1)
    off = {
        1: [
            (
                epoch(datetime.combine(tuesday, time(8), tzinfo=BERLIN)),
                epoch(datetime.combine(tuesday, time(21), tzinfo=BERLIN)),
            )
        ]
    }
    sessions = plan(calendar(time_off=off))
    assert sessions[1].skipped[0].reason == DayClosed.TIME_OFF
    assert local(sessions[1].starts_at).date() == MONDAY + timedelta(days=2)


def test_r10_taken_preferred_time_gives_the_nearest_free_time_that_day() -> None:
    busy = {
        1: [
            (
                epoch(datetime.combine(MONDAY, time(17, 45), tzinfo=BERLIN)),
                epoch(datetime.combine(MONDAY, time(18, 40), tzinfo=BERLIN)),
            )
        ]
    }
    first = plan(calendar(sessions=busy))[0]
    # 10 minutes + 10 buffer must end by 17:45: 17:15 is 30 min away, 18:45 only 45.
    assert local(first.starts_at).time() == time(17, 15)
    assert first.time_moved
    assert first.moved


def test_r14_the_plan_ramps_from_ten_minutes() -> None:
    sessions = plan(calendar())
    assert [s.minutes for s in sessions[:4]] == [10, 15, 30, 30]
    assert sessions[0].ends_at - sessions[0].starts_at == timedelta(minutes=10)


def test_r10_no_open_day_before_the_horizon_is_reported() -> None:
    with pytest.raises(NoOpenDay) as caught:
        plan(calendar(hours=week(days=range(1))), last_day=MONDAY + timedelta(days=20))
    assert caught.value.sequence == 4


# -- properties ------------------------------------------------------------------------------

interval = st.tuples(st.integers(6, 19), st.integers(1, 5)).map(
    lambda p: (time(p[0]), time(min(p[0] + p[1], 23)))
)
busy_span = st.tuples(st.integers(0, 45), st.integers(0, 23 * 4), st.integers(1, 16))


def spans(
    zone: zoneinfo.ZoneInfo, start: date, items: list[tuple[int, int, int]], unit: int
) -> list[tuple[int, int]]:
    out = []
    for day, quarter, length in items:
        begin = datetime.combine(
            start + timedelta(days=day), time(quarter // 4, quarter % 4 * 15), tzinfo=zone
        )
        out.append((epoch(begin), epoch(begin) + length * unit))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from([BERLIN, NEW_YORK]),
    start=st.dates(date(2026, 1, 1), date(2026, 12, 1)),
    hours=st.dictionaries(
        st.integers(0, 6), st.lists(interval, min_size=1, max_size=2), min_size=3
    ),
    closures=st.lists(busy_span, max_size=8),
    booked=st.lists(busy_span, max_size=30),
    patient_booked=st.lists(busy_span, max_size=10),
    count=st.integers(10, 15),
    cadence=st.sampled_from(list(Cadence)),
    preferred=st.integers(0, 23 * 4 + 3),
    default_minutes=st.sampled_from([15, 20, 30]),
)
def test_r10_r23_planned_sessions_respect_hours_closures_bookings_and_cadence(
    zone, start, hours, closures, booked, patient_booked, count, cadence, preferred, default_minutes
) -> None:
    closure_spans = spans(zone, start, closures, 3600)
    booked_spans = spans(zone, start, booked, 15 * 60)
    patient_spans = spans(zone, start, patient_booked, 15 * 60)
    cal = Calendar(
        zone=zone,
        grid_minutes=15,
        buffer_minutes=10,
        hours={1: hours},
        closures=closure_spans,
        sessions={1: booked_spans},
        patient_sessions=patient_spans,
    )
    try:
        sessions = plan(
            cal,
            start_date=start,
            last_day=start + timedelta(days=90),
            count=count,
            cadence=cadence,
            preferred_time=time(preferred // 4, preferred % 4 * 15),
            default_minutes=default_minutes,
        )
    except NoOpenDay:
        sessions = None
    # A calendar closed until the horizon cannot hold a course; hypothesis fails the test
    # (health check) if that is most of what it generates, so the properties stay exercised.
    assume(sessions is not None)
    assert 10 <= len(sessions) == count <= 15
    buffer = 10 * 60
    for item in sessions:
        s, e = epoch(item.starts_at), epoch(item.ends_at)
        begin, end = item.starts_at.astimezone(zone), item.ends_at.astimezone(zone)
        assert begin.minute % 15 == 0
        assert begin.date() == end.date()
        # Every minute of the session lies in some working interval of that weekday.
        minutes = [(begin + timedelta(minutes=m)).time() for m in range((e - s) // 60)]
        assert all(any(a <= minute < b for a, b in hours[begin.weekday()]) for minute in minutes), (
            "inside working hours (R23)"
        )
        assert not any(a < e and s < b for a, b in closure_spans), "outside closures (R23)"
        # Booked spans already end with their buffer, as the database stores them.
        assert not any(a < e + buffer and s < b for a, b in booked_spans), "no overlap (R19)"
        assert not any(a < e and s < b for a, b in patient_spans), "patient not double-booked"
    days = [item.starts_at.astimezone(zone).date() for item in sessions]
    gap = 1 if cadence == Cadence.DAILY else 2
    for (before, after), item in zip(pairwise(days), sessions[1:], strict=True):
        assert (after - before).days >= gap, "cadence (R10)"
        between = before + timedelta(days=gap)
        while between < after:
            assert cal.free_starts(1, between, between, item.minutes) == [], (
                "only closed days skipped"
            )
            between += timedelta(days=1)


# -- daylight-saving days in the pure planner (R24) ------------------------------------------

AUTUMN, SPRING = date(2026, 10, 25), date(2026, 3, 29)  # Berlin's changes in 2026


def small_hours(**overrides: object) -> Calendar:
    """01:00-04:00 every day, around the hour Berlin's clocks change."""
    return calendar(hours=week(time(1), time(4)), **overrides)


def plan_from(cal: Calendar, day: date, **overrides: object):
    return plan(cal, start_date=day, last_day=day + timedelta(days=40), **overrides)


def local_labels(sessions) -> list[str]:
    return [local(s.starts_at).strftime("%m-%d %H:%M%z") for s in sessions]


def test_r24_a_course_through_the_autumn_change_has_one_02_30_that_day() -> None:
    sessions = plan_from(
        small_hours(), AUTUMN - timedelta(days=1), count=3, preferred_time=time(2, 30)
    )
    assert local_labels(sessions) == ["10-24 02:30+0200", "10-25 02:30+0200", "10-26 02:30+0100"]
    assert not any(s.time_moved for s in sessions)


def test_r24_when_the_first_02_30_is_taken_the_second_keeps_the_time() -> None:
    first = epoch(datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN))
    busy = {1: [(first, first + 40 * 60)]}
    sessions = plan_from(small_hours(sessions=busy), AUTUMN, preferred_time=time(2, 30))
    assert local_labels(sessions)[0] == "10-25 02:30+0100"
    assert not sessions[0].time_moved


def test_r24_a_preferred_time_the_spring_change_skips_is_a_moved_time() -> None:
    sessions = plan_from(small_hours(), SPRING, preferred_time=time(2, 30))
    # 02:30 does not exist that day; the clock would have read 03:30 summer time instead.
    assert local_labels(sessions)[:2] == ["03-29 03:30+0200", "03-30 02:30+0200"]
    assert sessions[0].time_moved
    assert not sessions[1].time_moved


@settings(max_examples=50, deadline=None)
@given(
    place=change_days(),
    before=st.integers(0, 3),
    preferred=st.integers(0, 6 * 4),
    cadence=st.sampled_from(list(Cadence)),
)
def test_r24_courses_across_real_changes_keep_the_wall_clock_once_a_day(
    place: tuple[zoneinfo.ZoneInfo, date], before: int, preferred: int, cadence: Cadence
) -> None:
    """Courses starting up to three days before a real change of a zone, working 00:00-08:00,
    at a preferred quarter hour of the small hours: one session a day, each on the local grid,
    at the preferred reading whenever that day has it, and marked moved only when it has not."""
    zone, change = place
    at = time(preferred // 4, preferred % 4 * 15)
    cal = calendar(zone=zone, hours=week(time(0), time(8)))
    start = change - timedelta(days=before)
    sessions = plan(
        cal,
        start_date=start,
        last_day=start + timedelta(days=40),
        cadence=cadence,
        preferred_time=at,
    )
    days = [s.starts_at.astimezone(zone).date() for s in sessions]
    assert len(set(days)) == len(days) == 10
    for item, day in zip(sessions, days, strict=True):
        wall = item.starts_at.astimezone(zone)
        assert (wall.minute % 15, wall.second) == (0, 0)
        exists = bool(instants_reading(zone, datetime.combine(day, at)))
        assert item.time_moved != exists, (day, wall)
        if exists:
            assert wall.time() == at


# -- daylight-saving changes through the service (R24) ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone_fixture", "start", "change"),
    [
        ("practice", date(2026, 3, 25), date(2026, 3, 29)),
        ("practice", date(2026, 10, 22), date(2026, 10, 25)),
        ("other_practice", date(2026, 3, 5), date(2026, 3, 8)),
        ("other_practice", date(2026, 10, 29), date(2026, 11, 1)),
    ],
    ids=["berlin-spring", "berlin-autumn", "new-york-spring", "new-york-autumn"],
)
def test_r24_daily_course_keeps_18_00_local_across_daylight_saving(
    request: pytest.FixtureRequest, clock, zone_fixture: str, start: date, change: date
) -> None:
    practice: Practice = request.getfixturevalue(zone_fixture)
    zone = practice.zone
    # The morning of the first day, a few days before the change.
    now = datetime.combine(start, time(6), tzinfo=zone)
    clock.move_to(now)
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=start)
    therapist = TherapistFactory(practice=practice, week=True)
    result = course_plan(
        request=CourseRequest(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=massage_type(practice, "relaxing"),
            start_date=start,
            preferred_time=time(18),
            cadence=Cadence.DAILY,
        ),
        now=now,
    )
    local_days = {s.starts_at.astimezone(zone).date(): s.starts_at for s in result.sessions}
    around = [
        change - timedelta(days=1),
        change,
        change + timedelta(days=1),
        change + timedelta(days=2),
    ]
    assert all(local_days[d].astimezone(zone).time() == time(18) for d in around)
    # The same wall-clock time is a different UTC time on either side of the change.
    assert (
        local_days[around[0]].astimezone(UTC).time()
        != local_days[around[-1]].astimezone(UTC).time()
    )
    assert not any(s.time_moved for s in result.sessions)


@pytest.mark.django_db
def test_r24_a_course_booked_in_local_times_through_the_repeated_hour_keeps_real_lengths(
    practice: Practice, clock
) -> None:
    """The plan comes back from a client in local times, the autumn change's session at the
    second 02:30 (the first is taken): every session is stored with its real length."""
    now = datetime.combine(AUTUMN - timedelta(days=2), time(6), tzinfo=BERLIN)
    clock.move_to(now)
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=now.date())
    therapist = TherapistFactory(practice=practice, week__starts=time(1), week__ends=time(4))
    SessionFactory(therapist=therapist, starts_at=datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN))
    request = CourseRequest(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice, "relaxing"),
        start_date=AUTUMN - timedelta(days=1),
        preferred_time=time(2, 30),
        cadence=Cadence.DAILY,
    )
    plan = course_plan(request=request, now=now)
    course = course_book(
        request=request, starts=[s.starts_at.astimezone(BERLIN) for s in plan.sessions], now=now
    )
    booked = list(course.sessions.order_by("sequence"))
    assert local_labels(booked[:3]) == ["10-24 02:30+0200", "10-25 02:30+0100", "10-26 02:30+0100"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=s.minutes) for s in booked)


@pytest.mark.django_db
def test_r10_service_plans_around_closures_time_off_and_bookings(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=MONDAY)
    therapist = TherapistFactory(practice=practice, week=True)
    tuesday = MONDAY + timedelta(days=1)
    ClosureFactory(
        practice=practice,
        starts_at=datetime.combine(tuesday, time(), tzinfo=BERLIN),
        ends_at=datetime.combine(tuesday + timedelta(days=1), time(), tzinfo=BERLIN),
    )
    TimeOffFactory(
        therapist=therapist,
        starts_at=datetime.combine(MONDAY + timedelta(days=2), time(8), tzinfo=BERLIN),
        ends_at=datetime.combine(MONDAY + timedelta(days=2), time(21), tzinfo=BERLIN),
    )
    SessionFactory(
        therapist=therapist,
        starts_at=datetime.combine(MONDAY + timedelta(days=3), time(18), tzinfo=BERLIN),
    )
    result = course_plan(
        request=CourseRequest(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=massage_type(practice, "relaxing"),
            start_date=MONDAY,
            preferred_time=time(18),
            cadence=Cadence.DAILY,
        ),
        now=datetime.combine(MONDAY, time(6), tzinfo=BERLIN),
    )
    second = result.sessions[1]
    assert [d.reason for d in second.skipped] == [DayClosed.CLOSURE, DayClosed.TIME_OFF]
    assert second.starts_at.astimezone(BERLIN).date() == MONDAY + timedelta(days=3)
    assert second.time_moved
    assert second.starts_at.astimezone(BERLIN).time() != time(18)


@pytest.mark.django_db
def test_r10_no_open_day_is_a_conflict_from_the_service(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=MONDAY)
    therapist = TherapistFactory(practice=practice, week__days=(0,))
    with pytest.raises(Conflict) as caught:
        course_plan(
            request=CourseRequest(
                practice=practice,
                patient=patient,
                therapist=therapist,
                massage_type=massage_type(practice),
                start_date=MONDAY,
                preferred_time=time(10),
                sessions_count=15,
            ),
            now=datetime.combine(MONDAY, time(6), tzinfo=BERLIN),
        )
    assert caught.value.body["sequence"] == 14


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hours=st.dictionaries(
        st.integers(0, 6), st.lists(interval, min_size=1, max_size=2), min_size=3
    ),
    closed_days=st.sets(st.integers(0, 30), max_size=6),
    booked=st.dictionaries(st.integers(0, 30), st.integers(6 * 4, 19 * 4), max_size=15),
    cadence=st.sampled_from(list(Cadence)),
    preferred=st.integers(6 * 4, 20 * 4),
)
def test_r10_r19_r23_plans_from_the_database_are_accepted_by_it(
    practice: Practice, hours, closed_days, booked, cadence, preferred
) -> None:
    """The loader, the planner and the booking agree with the database: every plan made from
    random rows books without an exclusion violation, and lands on no closed day."""
    with transaction.atomic():
        therapist = TherapistFactory(practice=practice)
        WorkingHours.objects.bulk_create(
            WorkingHoursFactory.build(therapist=therapist, weekday=d, starts=a, ends=b)
            for d, spans in hours.items()
            for a, b in spans
        )
        for day in closed_days:
            begin = datetime.combine(MONDAY + timedelta(days=day), time(), tzinfo=BERLIN)
            ClosureFactory(practice=practice, starts_at=begin, ends_at=begin + timedelta(days=1))
        for day, quarter in booked.items():
            SessionFactory(
                therapist=therapist,
                starts_at=datetime.combine(
                    MONDAY + timedelta(days=day),
                    time(quarter // 4, quarter % 4 * 15),
                    tzinfo=BERLIN,
                ),
                minutes=45,
            )
        patient = PatientFactory(practice=practice)
        ScreeningFactory(patient=patient, screened_on=MONDAY)
        request = CourseRequest(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=massage_type(practice, "relaxing"),
            start_date=MONDAY,
            preferred_time=time(preferred // 4, preferred % 4 * 15),
            cadence=cadence,
        )
        now = datetime.combine(MONDAY, time(5), tzinfo=BERLIN)
        plan = course_plan(request=request, now=now)
        course = course_book(request=request, starts=[s.starts_at for s in plan.sessions], now=now)
        days = {s.starts_at.astimezone(BERLIN).date() for s in course.sessions.all()}
        assert len(days) == 10
        assert not days & {MONDAY + timedelta(days=d) for d in closed_days}
        transaction.set_rollback(True)
