"""Free start times: which sessions could begin when (R23, R19, R24) — the one computation
of bookable times, used by the API, the desk's pages and the patients' portal alike.

`calendar_load()` reads everything a range needs in one query (working hours, closures, time
off and the sessions that overlap the range, as one union), whatever the length of the range
or of the practice's history, into a `practice.calendar.Calendar`, whose arithmetic
answers the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeAlias

from django.db import connection

from practice.calendar import Calendar, Span, epoch, from_epoch, horizon_end, local_range
from practice.models import Closure, Practice, Room, Therapist, TimeOff, WorkingHours
from sessions.models import FREEING_STATUSES, MAX_SPAN, Session


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    therapist_ids: tuple[int, ...]


# What the statements below bind: ids, status codes and adapted datetimes.
SQLParam: TypeAlias = int | str | datetime | None


# A union's columns take their types from its first part, where a bare NULL would be text.
NO_ID = "CAST(NULL AS bigint)"


def _in(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def _epoch(column: str) -> str:
    """`column` (a moment) as whole epoch seconds, computed by the database: the arithmetic
    works in epoch seconds, and psycopg's parsing of timestamptz values cost several times
    the query on a booked month (33 ms against 3.6 ms as integers for 2,400 sessions)."""
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM {column}))::bigint"
    # SQLite, which `make run` uses, stores moments as UTC text.
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _fetch(sql: str, params: Sequence[SQLParam]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _seconds_of_day(column: str) -> str:
    """`column` (a wall-clock time) as seconds since midnight, in the same integer column as
    the moments it is read with."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::bigint"
    return f"CAST(strftime('%%s', '1970-01-01 ' || {column}) AS INTEGER)"


def _wall_clock(seconds: int) -> time:
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def calendar_load(
    *,
    practice: Practice,
    therapist_ids: Sequence[int],
    first: date,
    last: date,
    now: datetime,
    room: Room | None = None,
    patient_id: int | None = None,
    exclude_session_id: int | None = None,
    massage_type_id: int | None = None,
) -> Calendar:
    """Read what `Calendar` needs for `first`..`last` (local days) in one query: working
    hours, closures, time off and the sessions that overlap the range, as one union whose
    rows say their kind; with `massage_type_id`, also which of the therapists are qualified
    for that type (a booking's check, which would otherwise cost a round trip of its own).

    Plain SQL rather than the ORM: this runs for every availability request and every
    booking, and building the querysets cost more than running them (see `make bench`);
    one statement rather than three spares two round trips on each. The statements only
    filter on indexed columns; `tests/sessions/test_availability.py` pins their results and
    their count.
    """
    settings = practice.settings
    start, end = local_range(practice, first, last)
    ids = list(therapist_ids)
    adapt = connection.ops.adapt_datetimefield_value
    start_p, end_p = adapt(start), adapt(end)
    therapists_in = f"therapist_id IN ({_in(ids)})"
    span = f"{_epoch('starts_at')}, {_epoch('ends_at')}"

    holders = [therapists_in]
    holder_params: list[SQLParam] = [*ids]
    if room is not None:
        holders.append("room_id = %s")
        holder_params.append(room.pk)
    if patient_id is not None:
        holders.append("patient_id = %s")
        holder_params.append(patient_id)
    # The lower bound on starts_at (no row spans more than MAX_SPAN) keeps the sessions' part
    # an index range scan over the range's days, however many years of history precede them.
    sessions_sql = (
        f"SELECT 's', therapist_id, room_id, patient_id, {span}, {_epoch('blocks_until')} "
        f"FROM {Session._meta.db_table} "
        f"WHERE practice_id = %s AND status NOT IN ({_in(FREEING_STATUSES)}) "
        f"AND ({' OR '.join(holders)}) "
        "AND starts_at < %s AND starts_at > %s AND blocks_until > %s"
    )
    sessions_params: list[SQLParam] = [
        practice.pk,
        *FREEING_STATUSES,
        *holder_params,
        end_p,
        adapt(start - MAX_SPAN),
        start_p,
    ]
    if exclude_session_id is not None:
        sessions_sql += " AND id <> %s"
        sessions_params.append(exclude_session_id)
    sql = " UNION ALL ".join(
        [
            f"SELECT 'h', therapist_id, {NO_ID}, {NO_ID}, weekday, {_seconds_of_day('starts')}, "
            f"{_seconds_of_day('ends')} FROM {WorkingHours._meta.db_table} "
            f"WHERE practice_id = %s AND {therapists_in}",
            f"SELECT 'c', {NO_ID}, {NO_ID}, {NO_ID}, {span}, {NO_ID} "
            f"FROM {Closure._meta.db_table} "
            "WHERE practice_id = %s AND starts_at < %s AND ends_at > %s",
            f"SELECT 't', therapist_id, {NO_ID}, {NO_ID}, {span}, {NO_ID} "
            f"FROM {TimeOff._meta.db_table} WHERE practice_id = %s AND {therapists_in} "
            "AND starts_at < %s AND ends_at > %s",
            sessions_sql,
        ]
    )
    params: list[SQLParam] = [
        *(practice.pk, *ids),
        *(practice.pk, end_p, start_p),
        *(practice.pk, *ids, end_p, start_p),
        *sessions_params,
    ]
    if massage_type_id is not None:
        qualifications = Therapist.massage_types.through._meta.db_table
        sql += (
            f" UNION ALL SELECT 'q', therapist_id, {NO_ID}, {NO_ID}, {NO_ID}, {NO_ID}, {NO_ID} "
            f"FROM {qualifications} WHERE massagetype_id = %s AND {therapists_in}"
        )
        params += [massage_type_id, *ids]

    hours: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    closures: list[Span] = []
    time_off: dict[int, list[Span]] = defaultdict(list)
    sessions: dict[int, list[Span]] = defaultdict(list)
    room_sessions: list[Span] = []
    patient_sessions: list[Span] = []
    wanted = set(ids)
    room_id = room.pk if room is not None else None
    qualified: set[int] = set()
    for kind, therapist_id, room_of, patient_of, first_value, second, third in _fetch(sql, params):
        if kind == "h":
            hours[therapist_id][first_value].append((_wall_clock(second), _wall_clock(third)))
        elif kind == "c":
            closures.append((first_value, second))
        elif kind == "t":
            time_off[therapist_id].append((first_value, second))
        elif kind == "q":
            qualified.add(therapist_id)
        else:
            starts_at, ends_at, blocks_until = first_value, second, third
            if therapist_id in wanted:
                sessions[therapist_id].append((starts_at, blocks_until))
            if room_id is not None and room_of == room_id:
                room_sessions.append((starts_at, blocks_until))
            if patient_id is not None and patient_of == patient_id:
                patient_sessions.append((starts_at, ends_at))

    return Calendar(
        zone=practice.zone,
        grid_minutes=settings.slot_grid_minutes,
        buffer_minutes=settings.buffer_minutes,
        hours={t: {day: sorted(spans) for day, spans in days.items()} for t, days in hours.items()},
        closures=closures,
        time_off=dict(time_off),
        sessions=dict(sessions),
        room_sessions=room_sessions,
        patient_sessions=patient_sessions,
        not_before=epoch(now),
        not_after=epoch(horizon_end(practice, now)),
        qualified=frozenset(qualified),
    )


def availability(
    *,
    practice: Practice,
    therapist_ids: Sequence[int],
    first: date,
    last: date,
    minutes: int,
    now: datetime,
    room: Room | None = None,
    patient_id: int | None = None,
    exclude_session_id: int | None = None,
) -> list[Slot]:
    """Bookable starts for `minutes`, merged over the therapists given ("any qualified").
    With `patient_id`, times the patient already has a session are not offered (R19); a
    session being moved (`exclude_session_id`) does not hold its own time."""
    calendar = calendar_load(
        practice=practice,
        therapist_ids=therapist_ids,
        first=first,
        last=last,
        now=now,
        room=room,
        patient_id=patient_id,
        exclude_session_id=exclude_session_id,
    )
    by_start: dict[int, list[int]] = defaultdict(list)
    for therapist_id in therapist_ids:
        for start in calendar.free_starts(therapist_id, first, last, minutes):
            by_start[start].append(therapist_id)
    length = timedelta(minutes=minutes)
    slots = []
    for start in sorted(by_start):
        starts_at = from_epoch(start)
        slots.append(Slot(starts_at, starts_at + length, tuple(by_start[start])))
    return slots
