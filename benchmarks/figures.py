"""The figures `make bench` prints. Each takes the bench world and yields printed lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.data import World
from benchmarks.run import median_ms
from courses.models import Cadence
from courses.services import CourseRequest
from sessions.availability import availability
from sessions.booking.courses import course_book, course_plan
from sessions.booking.sessions import session_book
from sessions.models import Session
from tests.factories import ScreeningFactory

DAY_RUNS = 200
MONTH_RUNS = 30
BOOKING_RUNS = 60
COURSE_RUNS = 16


def line(name: str, value: float, unit: str, runs: int) -> str:
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    return f"bench {name}: {shown} {unit} (median of {runs} runs)"


def today(world: World) -> date:
    return timezone.now().astimezone(world.practice.zone).date()


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def local(world: World, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=world.practice.zone)


def _day(world: World, name: str, therapist_index: int, day: date) -> Iterator[str]:
    practice, therapist = world.practice, world.therapists[therapist_index]

    def run(_index: int) -> object:
        return availability(
            practice=practice,
            therapist_ids=[therapist.pk],
            first=day,
            last=day,
            minutes=30,
            now=timezone.now(),
        )

    with CaptureQueriesContext(connection) as queries:
        run(0)
    yield line(f"availability_one_day_{name}", median_ms(run, DAY_RUNS), "ms", DAY_RUNS)
    yield line(f"availability_one_day_{name}_queries", len(queries), "queries", 1)


def day_availability(world: World) -> Iterator[str]:
    """One therapist's day, empty and then full (a session every 70 minutes, 08:00-20:00)."""
    tuesday = next_weekday(today(world) + timedelta(days=7), 1)
    yield from _day(world, "empty", 0, tuesday)
    therapist = world.therapists[1]
    start = local(world, tuesday, 8)
    rows = []
    for slot in range(10):
        starts_at = start + timedelta(minutes=70 * slot)
        rows.append(
            Session(
                practice=world.practice,
                patient=world.patients[slot],
                therapist=therapist,
                massage_type=world.massage_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=60),
                blocks_until=starts_at + timedelta(minutes=70),
            )
        )
    Session.objects.bulk_create(rows)
    yield from _day(world, "full", 1, tuesday)


def month_availability(world: World) -> Iterator[str]:
    """Any of the 10 therapists, 30 days: the "any qualified therapist" search."""
    first = today(world) + timedelta(days=1)
    ids = [t.pk for t in world.therapists]

    def run(_index: int) -> object:
        return availability(
            practice=world.practice,
            therapist_ids=ids,
            first=first,
            last=first + timedelta(days=29),
            minutes=30,
            now=timezone.now(),
        )

    yield line("availability_30_days_10_therapists", median_ms(run, MONTH_RUNS), "ms", MONTH_RUNS)


def booking(world: World) -> Iterator[str]:
    """One single session, as a request books it: in a transaction, checked, inserted."""
    base = next_weekday(today(world) + timedelta(days=60), 0)
    therapists = world.therapists[2:]

    def run(index: int) -> object:
        index += 1  # the warm-up is -1
        therapist = therapists[index % len(therapists)]
        slot = index // len(therapists)
        day = base + timedelta(days=slot // 8)
        if day.weekday() == 6:
            day += timedelta(days=1)
        with transaction.atomic():
            return session_book(
                practice=world.practice,
                patient=world.patients[100 + index],
                therapist=therapist,
                massage_type=world.massage_type,
                starts_at=local(world, day, 14) + timedelta(minutes=45 * (slot % 8)),
            )

    yield line("book_one_session", median_ms(run, BOOKING_RUNS), "ms", BOOKING_RUNS)

    # The same work rolled back instead of committed: the difference is the commit (WAL
    # flush), which the database pays whatever the application does.
    class RolledBack(Exception):
        pass

    def uncommitted(index: int) -> object:
        try:
            with transaction.atomic():
                run(index + BOOKING_RUNS + 1)
                raise RolledBack
        except RolledBack:
            return None

    yield line(
        "book_one_session_without_commit", median_ms(uncommitted, BOOKING_RUNS), "ms", BOOKING_RUNS
    )


def booked_month(world: World) -> Iterator[str]:
    """The "any therapist" month once it is fully booked: 2,400 sessions (8 a day for each of
    the 10 therapists over 30 days), which the calendar reads as epoch seconds."""
    first = today(world) + timedelta(days=1)
    # The month starts empty, whatever an interrupted run or another figure left in it.
    Session.objects.filter(
        practice=world.practice,
        starts_at__gte=local(world, first, 0),
        starts_at__lt=local(world, first + timedelta(days=30), 0),
    ).delete()
    rows = []
    for offset in range(30):
        day = first + timedelta(days=offset)
        for index, therapist in enumerate(world.therapists):
            for slot in range(8):
                starts_at = local(world, day, 8) + timedelta(minutes=80 * slot)
                rows.append(
                    Session(
                        practice=world.practice,
                        patient=world.patients[(offset * 80 + index * 8 + slot) % 2000],
                        therapist=therapist,
                        massage_type=world.massage_type,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=60),
                        blocks_until=starts_at + timedelta(minutes=70),
                    )
                )
    Session.objects.bulk_create(rows)
    ids = [t.pk for t in world.therapists]

    def run(_index: int) -> object:
        return availability(
            practice=world.practice,
            therapist_ids=ids,
            first=first,
            last=first + timedelta(days=29),
            minutes=30,
            now=timezone.now(),
        )

    yield line(
        f"availability_30_days_10_therapists_{len(rows)}_booked",
        median_ms(run, MONTH_RUNS),
        "ms",
        MONTH_RUNS,
    )
    Session.objects.filter(pk__in=[row.pk for row in rows]).delete()


def course(world: World) -> Iterator[str]:
    """Plan and book a 15-session daily course (screening, R11, R12, plan, atomic insert)."""
    patients = world.patients[1000 : 1000 + COURSE_RUNS + 1]
    for patient in patients:
        ScreeningFactory(patient=patient, screened_on=today(world))
    therapists = world.therapists[1:]

    def run(index: int) -> object:
        index += 1
        request = CourseRequest(
            practice=world.practice,
            patient=patients[index],
            therapist=therapists[index % len(therapists)],
            massage_type=world.massage_type,
            start_date=today(world) + timedelta(days=2 + 22 * (index // len(therapists))),
            preferred_time=time(9),
            sessions_count=15,
            cadence=Cadence.DAILY,
        )
        with transaction.atomic():
            plan = course_plan(request=request)
            return course_book(request=request, starts=[s.starts_at for s in plan.sessions])

    yield line("plan_and_book_15_session_course", median_ms(run, COURSE_RUNS), "ms", COURSE_RUNS)


def dispatcher(world: World) -> Iterator[str]:
    # Imported here: benchmarks.dispatch imports `line` from this module.
    from benchmarks.dispatch import dispatcher_throughput

    yield from dispatcher_throughput(world)


def workers(world: World) -> Iterator[str]:
    # Imported here, as the dispatcher's: benchmarks.fanout imports `line` from this module.
    from benchmarks.fanout import workers_drain_and_lateness

    yield from workers_drain_and_lateness(world)


def scale(world: World) -> Iterator[str]:
    # Imported here, as the dispatcher's: benchmarks.scale imports `line` from this module.
    from benchmarks.scale import scale

    yield from scale(world)


def api(world: World) -> Iterator[str]:
    # Imported here, as the dispatcher's: benchmarks.api imports `line` from this module.
    from benchmarks.api import api_vs_floor

    yield from api_vs_floor(world)


FIGURES: list[Callable[[World], Iterator[str]]] = [
    api,
    day_availability,
    month_availability,
    booked_month,
    scale,
    booking,
    course,
    dispatcher,
    workers,
]
