"""Scale: 1,000 practices sharing the tables, 1,000,000 sessions among them.

Each practice has one therapist, one patient and 1,000 past sessions (125 working days of
eight). Built once, by SQL, and kept; the figures then ask one practice in the middle for one
day's slots and book one session there, as the product would with that much history around.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.data import World
from benchmarks.figures import line, next_weekday
from benchmarks.run import median_ms
from patients.models import Patient
from practice.models import MassageType, Practice, Therapist, WorkingHours
from practice.services import practice_create
from sessions.availability import availability
from sessions.booking.sessions import session_book
from sessions.models import Session

PRACTICES = 1000
SESSIONS_EACH = 1000
PER_DAY = 8
SLUG = "scale-{:04d}"
DAY_RUNS = 200
BOOKING_RUNS = 40


def scale_practices() -> list[Practice]:
    """The 1,000 practices, built on first use (a few minutes, once per database)."""
    existing = Practice.objects.filter(slug__startswith="scale-").count()
    if existing < PRACTICES:
        _build(first=existing)
    return list(
        Practice.objects.filter(slug__startswith="scale-")
        .select_related("settings")
        .order_by("slug")
    )


def _build(first: int) -> None:
    midnight = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for number in range(first, PRACTICES):
        with transaction.atomic():
            practice = practice_create(
                name=f"Scale practice {number}", slug=SLUG.format(number), time_zone="Europe/Berlin"
            )
            kind = MassageType.objects.get(practice=practice, code="classical")
            therapist = Therapist.objects.create(practice=practice, name="Therapist")
            therapist.massage_types.add(kind)
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    practice=practice,
                    therapist=therapist,
                    weekday=day,
                    starts=time(8),
                    ends=time(20),
                )
                for day in range(6)
            )
            patient = Patient.objects.create(
                practice=practice,
                given_name="Scale",
                family_name=f"Patient {number}",
                date_of_birth=date(1970, 1, 1),
            )
            # 125 past days of eight 60-minute sessions, 80 minutes apart from 07:00 UTC.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {Session._meta.db_table} (practice_id, patient_id, "
                    "therapist_id, massage_type_id, starts_at, ends_at, blocks_until, status, "
                    "schedule_version, cancellation_reason, late_cancellation, created_at, "
                    "updated_at) "
                    "SELECT %s, %s, %s, %s, s, s + interval '60 minutes', "
                    "s + interval '70 minutes', 'completed', 1, '', false, now(), now() "
                    "FROM generate_series(1, %s) AS day, generate_series(0, %s) AS slot, "
                    "LATERAL (SELECT %s::timestamptz - day * interval '1 day' "
                    "+ interval '7 hours' + slot * interval '80 minutes' AS s) AS moment",
                    [
                        practice.pk,
                        patient.pk,
                        therapist.pk,
                        kind.pk,
                        SESSIONS_EACH // PER_DAY,
                        PER_DAY - 1,
                        midnight,
                    ],
                )


def scale(world: World) -> Iterator[str]:
    practices = scale_practices()
    sessions = Session.objects.filter(practice__slug__startswith="scale-").count()
    yield f"# scale: {len(practices)} practices, {sessions} sessions among them"
    practice = practices[len(practices) // 2]
    therapist = Therapist.objects.get(practice=practice)
    patient = Patient.objects.get(practice=practice)
    kind = MassageType.objects.get(practice=practice, code="classical")
    Session.objects.for_practice(practice).filter(starts_at__gte=timezone.now()).delete()
    today = timezone.now().astimezone(practice.zone).date()
    tuesday = next_weekday(today + timedelta(days=7), 1)

    def day(_index: int) -> object:
        return availability(
            practice=practice,
            therapist_ids=[therapist.pk],
            first=tuesday,
            last=tuesday,
            minutes=60,
            now=timezone.now(),
        )

    with CaptureQueriesContext(connection) as queries:
        day(0)
    yield line("scale_availability_one_day", median_ms(day, DAY_RUNS), "ms", DAY_RUNS)
    yield line("scale_availability_one_day_queries", len(queries), "queries", 1)

    def book(index: int) -> Session:
        index += 1  # the warm-up is -1
        starts = datetime.combine(
            tuesday + timedelta(days=7 * (index // 12)), time(8), tzinfo=practice.zone
        )
        return session_book(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=kind,
            starts_at=starts + timedelta(hours=index % 12),
            minutes=45,
        )

    # Round trips as the database sees them, transaction control included (BEGIN, COMMIT).
    with CaptureQueriesContext(connection) as trips:
        book(BOOKING_RUNS + 1)
    yield line("scale_book_one_session", median_ms(book, BOOKING_RUNS), "ms", BOOKING_RUNS)
    yield line("scale_book_one_session_round_trips", len(trips), "round trips", 1)
    for statement in trips.captured_queries:
        yield f"#   {statement['sql'][:100]}"
