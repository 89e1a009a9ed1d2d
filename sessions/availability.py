"""Free start times: which sessions could begin when (R23, R19, R24) — the one computation
of bookable times, used by the API, the desk's pages and the patients' portal alike.

`calendar_load()` reads everything a range needs in three queries (working hours; closures
and time off as one union; the sessions that overlap the range), whatever the length of the
range or of the practice's history, into a `practice.calendar.Calendar`, whose arithmetic
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


def _therapists_in(practice: Practice, ids: list[int] | None) -> tuple[str, list[SQLParam]]:
    """`therapist_id IN (...)`: the ids given, or (None) the practice's active therapists,
    read in the same statement."""
    if ids is not None:
        return f"therapist_id IN ({_in(ids)})", list(ids)
    return (
        f"therapist_id IN (SELECT id FROM {Therapist._meta.db_table} "
        "WHERE practice_id = %s AND active)",
        [practice.pk],
    )


def _hours_and_absences(
    practice: Practice, ids: list[int] | None, start_p: SQLParam, end_p: SQLParam
) -> tuple[dict[int, dict[int, list[tuple[time, time]]]], list[Span], dict[int, list[Span]]]:
    """Two queries: the therapists' working hours; the closures and their time off between
    the adapted instants `start_p` and `end_p`. `ids` None: every active therapist."""
    therapists, therapist_params = _therapists_in(practice, ids)
    hours: dict[int, dict[int, list[tuple[time, time]]]] = defaultdict(lambda: defaultdict(list))
    for therapist_id, weekday, starts, ends in _fetch(
        f"SELECT therapist_id, weekday, starts, ends FROM {WorkingHours._meta.db_table} "
        f"WHERE practice_id = %s AND {therapists} "
        "ORDER BY therapist_id, weekday, starts",
        [practice.pk, *therapist_params],
    ):
        hours[therapist_id][weekday].append((starts, ends))

    closures: list[Span] = []
    time_off: dict[int, list[Span]] = defaultdict(list)
    span_columns = f"{_epoch('starts_at')}, {_epoch('ends_at')}"
    for therapist_id, starts_at, ends_at in _fetch(
        f"SELECT NULL, {span_columns} FROM {Closure._meta.db_table} "
        "WHERE practice_id = %s AND starts_at < %s AND ends_at > %s "
        "UNION ALL "
        f"SELECT therapist_id, {span_columns} FROM {TimeOff._meta.db_table} "
        f"WHERE practice_id = %s AND {therapists} "
        "AND starts_at < %s AND ends_at > %s",
        [practice.pk, end_p, start_p, practice.pk, *therapist_params, end_p, start_p],
    ):
        span = (starts_at, ends_at)
        if therapist_id is None:
            closures.append(span)
        else:
            time_off[therapist_id].append(span)
    return hours, closures, dict(time_off)


def calendar_background(
    *, practice: Practice, therapist_ids: Sequence[int] | None, first: date, last: date
) -> Calendar:
    """Working hours, closures and time off for `first`..`last` in two queries, without the
    sessions: what a calendar shades behind them (free times need `calendar_load`).
    `therapist_ids` None: the practice's active therapists."""
    adapt = connection.ops.adapt_datetimefield_value
    start, end = local_range(practice, first, last)
    hours, closures, time_off = _hours_and_absences(
        practice, None if therapist_ids is None else list(therapist_ids), adapt(start), adapt(end)
    )
    settings = practice.settings
    return Calendar(
        zone=practice.zone,
        grid_minutes=settings.slot_grid_minutes,
        buffer_minutes=settings.buffer_minutes,
        hours={t: dict(days) for t, days in hours.items()},
        closures=closures,
        time_off=time_off,
    )


def free_stretches(calendar: Calendar, therapist_id: int, day: date) -> list[Span]:
    """The day's free time as stretches: the free starts of a one-grid-step session (from
    `Calendar.free_starts`, so buffers, closures and the horizon count), consecutive ones
    joined. Display only: booking asks availability again for the real length."""
    step = calendar.grid_minutes * 60
    stretches: list[list[int]] = []
    for start in calendar.free_starts(therapist_id, day, day, calendar.grid_minutes):
        if stretches and start == stretches[-1][1]:
            stretches[-1][1] = start + step
        else:
            stretches.append([start, start + step])
    return [(a, b) for a, b in stretches]


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
) -> Calendar:
    """Read what `Calendar` needs for `first`..`last` (local days) in three queries.

    Plain SQL rather than the ORM: this runs for every availability request and every
    booking, and building the querysets cost more than running them (see `make bench`).
    The statements only filter on indexed columns; `tests/sessions/test_availability.py`
    pins their results and their count.
    """
    settings = practice.settings
    start, end = local_range(practice, first, last)
    ids = list(therapist_ids)
    adapt = connection.ops.adapt_datetimefield_value
    start_p, end_p = adapt(start), adapt(end)
    hours, closures, time_off = _hours_and_absences(practice, ids, start_p, end_p)

    sessions: dict[int, list[Span]] = defaultdict(list)
    room_sessions: list[Span] = []
    patient_sessions: list[Span] = []
    holders = [f"therapist_id IN ({_in(ids)})"]
    params: list[SQLParam] = [practice.pk, *FREEING_STATUSES, *ids]
    if room is not None:
        holders.append("room_id = %s")
        params.append(room.pk)
    if patient_id is not None:
        holders.append("patient_id = %s")
        params.append(patient_id)
    # The lower bound on starts_at (no row spans more than MAX_SPAN) keeps this an index
    # range scan over the range's days, however many years of history precede them.
    params += [end_p, adapt(start - MAX_SPAN), start_p]
    sql = (
        "SELECT therapist_id, room_id, patient_id, "
        f"{_epoch('starts_at')}, {_epoch('ends_at')}, {_epoch('blocks_until')} "
        f"FROM {Session._meta.db_table} "
        f"WHERE practice_id = %s AND status NOT IN ({_in(FREEING_STATUSES)}) "
        f"AND ({' OR '.join(holders)}) "
        "AND starts_at < %s AND starts_at > %s AND blocks_until > %s"
    )
    if exclude_session_id is not None:
        sql += " AND id <> %s"
        params.append(exclude_session_id)
    wanted = set(ids)
    room_id = room.pk if room is not None else None
    for therapist_id, room_of, patient_of, starts_at, ends_at, blocks_until in _fetch(sql, params):
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
        hours={t: dict(days) for t, days in hours.items()},
        closures=closures,
        time_off=time_off,
        sessions=dict(sessions),
        room_sessions=room_sessions,
        patient_sessions=patient_sessions,
        not_before=epoch(now),
        not_after=epoch(horizon_end(practice, now)),
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
