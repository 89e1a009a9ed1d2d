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
from dataclasses import dataclass, field
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
NO_NAME = "CAST(NULL AS text)"


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


def _background_parts(
    practice: Practice, ids: list[int] | None, start_p: SQLParam, end_p: SQLParam
) -> tuple[list[str], list[SQLParam]]:
    """The union's parts for the therapists' working hours ('h') and the closures ('c') and
    their time off ('t') between the adapted instants `start_p` and `end_p`, with their
    parameters. `ids` None: every active therapist."""
    therapists, therapist_params = _therapists_in(practice, ids)
    span = f"{_epoch('starts_at')}, {_epoch('ends_at')}"
    parts = [
        f"SELECT 'h', therapist_id, {NO_ID}, {NO_ID}, weekday, {_seconds_of_day('starts')}, "
        f"{_seconds_of_day('ends')}, {NO_NAME} FROM {WorkingHours._meta.db_table} "
        f"WHERE practice_id = %s AND {therapists}",
        f"SELECT 'c', {NO_ID}, {NO_ID}, {NO_ID}, {span}, {NO_ID}, {NO_NAME} "
        f"FROM {Closure._meta.db_table} "
        "WHERE practice_id = %s AND starts_at < %s AND ends_at > %s",
        f"SELECT 't', therapist_id, {NO_ID}, {NO_ID}, {span}, {NO_ID}, {NO_NAME} "
        f"FROM {TimeOff._meta.db_table} WHERE practice_id = %s AND {therapists} "
        "AND starts_at < %s AND ends_at > %s",
    ]
    params: list[SQLParam] = [
        *(practice.pk, *therapist_params),
        *(practice.pk, end_p, start_p),
        *(practice.pk, *therapist_params, end_p, start_p),
    ]
    return parts, params


@dataclass
class _Rows:
    """What the union's rows say, sorted by kind ('h', 'c', 't', 's', 'q', 'r')."""

    therapist_ids: set[int]
    patient_id: int | None = None
    hours: dict[int, dict[int, list[tuple[time, time]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    closures: list[Span] = field(default_factory=list)
    time_off: dict[int, list[Span]] = field(default_factory=lambda: defaultdict(list))
    sessions: dict[int, list[Span]] = field(default_factory=lambda: defaultdict(list))
    room_holds: dict[int, list[Span]] = field(default_factory=lambda: defaultdict(list))
    patient_sessions: list[Span] = field(default_factory=list)
    qualified: set[int] = field(default_factory=set)
    # The practice's active rooms: (kept for some types only, suits the type asked for, name).
    rooms: dict[int, tuple[bool, bool, str]] = field(default_factory=dict)

    def read(self, sql: str, params: Sequence[SQLParam]) -> _Rows:
        for kind, therapist_id, room_of, patient_of, first, second, third, name in _fetch(
            sql, params
        ):
            if kind == "h":
                self.hours[therapist_id][first].append((_wall_clock(second), _wall_clock(third)))
            elif kind == "c":
                self.closures.append((first, second))
            elif kind == "t":
                self.time_off[therapist_id].append((first, second))
            elif kind == "q":
                self.qualified.add(therapist_id)
            elif kind == "r":
                self.rooms[room_of] = (bool(first), bool(second), name)
            else:
                starts_at, ends_at, blocks_until = first, second, third
                if therapist_id in self.therapist_ids:
                    self.sessions[therapist_id].append((starts_at, blocks_until))
                if room_of is not None:
                    self.room_holds[room_of].append((starts_at, blocks_until))
                if self.patient_id is not None and patient_of == self.patient_id:
                    self.patient_sessions.append((starts_at, ends_at))
        return self

    def bookable_rooms(self, room_id: int | None, type_known: bool) -> dict[int, list[Span]]:
        """The rooms a session may take, in the order a booking prefers them (R19): the one
        asked for if it suits; else the rooms kept for a few types this one is among first
        (so rooms for every type stay free for the other types), then the rest, by name."""
        suitable = {
            room: restricted
            for room, (restricted, listed, _name) in self.rooms.items()
            if listed or not restricted or not type_known
        }
        if room_id is not None:
            order = [room_id] if room_id in suitable else []
        else:
            order = sorted(
                suitable, key=lambda room: (not suitable[room], self.rooms[room][2], room)
            )
        return {room: self.room_holds.get(room, []) for room in order}

    def calendar(
        self,
        practice: Practice,
        *,
        room_id: int | None = None,
        type_known: bool = False,
        **limits: int,
    ) -> Calendar:
        settings = practice.settings
        return Calendar(
            zone=practice.zone,
            grid_minutes=settings.slot_grid_minutes,
            buffer_minutes=settings.buffer_minutes,
            hours={
                t: {day: sorted(spans) for day, spans in days.items()}
                for t, days in self.hours.items()
            },
            closures=self.closures,
            time_off=dict(self.time_off),
            sessions=dict(self.sessions),
            patient_sessions=self.patient_sessions,
            qualified=frozenset(self.qualified),
            rooms=self.bookable_rooms(room_id, type_known) if self.rooms else None,
            room_names={room: name for room, (_r, _l, name) in self.rooms.items()},
            **limits,
        )


def calendar_background(
    *, practice: Practice, therapist_ids: Sequence[int] | None, first: date, last: date
) -> Calendar:
    """Working hours, closures and time off for `first`..`last` in one query, without the
    sessions: what a calendar shades behind them (free times need `calendar_load`).
    `therapist_ids` None: the practice's active therapists."""
    adapt = connection.ops.adapt_datetimefield_value
    start, end = local_range(practice, first, last)
    ids = None if therapist_ids is None else list(therapist_ids)
    parts, params = _background_parts(practice, ids, adapt(start), adapt(end))
    return (
        _Rows(therapist_ids=set(ids or ()))
        .read(" UNION ALL ".join(parts), params)
        .calendar(practice)
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
    massage_type_id: int | None = None,
) -> Calendar:
    """Read what `Calendar` needs for `first`..`last` (local days) in one query: working
    hours, closures, time off, the practice's active rooms and the sessions that hold the
    therapists, the rooms or the patient over the range, as one union whose rows say their
    kind. With `massage_type_id`, also which of the therapists are qualified for that type
    and which rooms suit it (a booking's checks, which would otherwise cost round trips of
    their own); without it, every room will do. `room`: the session must take that room.

    Plain SQL rather than the ORM: this runs for every availability request and every
    booking, and building the querysets cost more than running them (see `make bench`);
    one statement rather than several spares round trips on each. The statements only
    filter on indexed columns; `tests/sessions/test_availability.py` pins their results and
    their count.
    """
    start, end = local_range(practice, first, last)
    ids = list(therapist_ids)
    adapt = connection.ops.adapt_datetimefield_value
    start_p, end_p = adapt(start), adapt(end)
    parts, params = _background_parts(practice, ids, start_p, end_p)

    rooms = Room._meta.db_table
    kept_for = Room.massage_types.through._meta.db_table
    parts.append(
        f"SELECT 'r', {NO_ID}, id, {NO_ID}, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {kept_for} WHERE room_id = {rooms}.id) "
        "THEN 1 ELSE 0 END, "
        f"CASE WHEN EXISTS (SELECT 1 FROM {kept_for} WHERE room_id = {rooms}.id "
        "AND massagetype_id = %s) THEN 1 ELSE 0 END, "
        f"{NO_ID}, name FROM {rooms} WHERE practice_id = %s AND active"
    )
    params += [massage_type_id, practice.pk]

    holders = [
        f"therapist_id IN ({_in(ids)})",
        f"room_id IN (SELECT id FROM {rooms} WHERE practice_id = %s AND active)",
    ]
    holder_params: list[SQLParam] = [*ids, practice.pk]
    if patient_id is not None:
        holders.append("patient_id = %s")
        holder_params.append(patient_id)
    # The lower bound on starts_at (no row spans more than MAX_SPAN) keeps the sessions' part
    # an index range scan over the range's days, however many years of history precede them.
    sessions = (
        f"SELECT 's', therapist_id, room_id, patient_id, {_epoch('starts_at')}, "
        f"{_epoch('ends_at')}, {_epoch('blocks_until')}, {NO_NAME} "
        f"FROM {Session._meta.db_table} "
        f"WHERE practice_id = %s AND status NOT IN ({_in(FREEING_STATUSES)}) "
        f"AND ({' OR '.join(holders)}) "
        "AND starts_at < %s AND starts_at > %s AND blocks_until > %s"
    )
    params += [
        practice.pk,
        *FREEING_STATUSES,
        *holder_params,
        end_p,
        adapt(start - MAX_SPAN),
        start_p,
    ]
    if exclude_session_id is not None:
        sessions += " AND id <> %s"
        params.append(exclude_session_id)
    parts.append(sessions)
    if massage_type_id is not None:
        qualifications = Therapist.massage_types.through._meta.db_table
        parts.append(
            f"SELECT 'q', therapist_id, {NO_ID}, {NO_ID}, {NO_ID}, {NO_ID}, {NO_ID}, {NO_NAME} "
            f"FROM {qualifications} WHERE massagetype_id = %s AND therapist_id IN ({_in(ids)})"
        )
        params += [massage_type_id, *ids]

    rows = _Rows(therapist_ids=set(ids), patient_id=patient_id).read(
        " UNION ALL ".join(parts), params
    )
    return rows.calendar(
        practice,
        room_id=room.pk if room is not None else None,
        type_known=massage_type_id is not None,
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
    massage_type_id: int | None = None,
) -> list[Slot]:
    """Bookable starts for `minutes`, merged over the therapists given ("any qualified").
    With `patient_id`, times the patient already has a session are not offered (R19); a
    session being moved (`exclude_session_id`) does not hold its own time. In a practice
    with rooms a start is offered only while a room is free for it: `room` if given, else
    one that suits `massage_type_id` (any room when no type is given)."""
    calendar = calendar_load(
        practice=practice,
        therapist_ids=therapist_ids,
        first=first,
        last=last,
        now=now,
        room=room,
        patient_id=patient_id,
        exclude_session_id=exclude_session_id,
        massage_type_id=massage_type_id,
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
