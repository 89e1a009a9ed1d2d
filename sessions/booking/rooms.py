"""Which room a session takes (R19): a practice with rooms puts every session in one.

A room may suit some massage types only (`Room.massage_types`, empty: every type). A booking
that names no room gets a free one that suits its type; one that names a room gets it if the
room suits the type (whether it is free is the calendar's question, as for the therapist). A
moved session keeps its room when it can. A practice without rooms books without one.

The rooms, which suit the type and what holds each, come with the booking's calendar
(`sessions.availability.calendar_load`, one query for everything), in the order a booking
prefers them. The exclusion constraint `session_room_no_overlap` decides a race: a booking
whose room was taken by a concurrent one that committed first reads the calendar again and
picks again (`room_write`) and, when no room is left, hears the same "no room is free" as if
it had come second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _

from practice.calendar import Calendar, epoch
from practice.errors import Conflict
from practice.models import MassageType, Practice, Room
from sessions.booking.conflicts import r19_write

# A span a room is held for: [starts_at, blocks_until), the session with its buffer (R23).
RoomSpan = tuple[datetime, datetime]

# Picking again after a lost race: each retry follows a booking that committed, so a few
# are enough for any practice's number of rooms to fill or to leave one free.
ROOM_ATTEMPTS = 5


def room_suitability_validate(
    calendar: Calendar, massage_type: MassageType, room: Room | None = None
) -> None:
    """A room asked for by name must suit the session's type, and a practice with rooms must
    have one that suits it: the calendar, read for the type (and that room), has them among
    the rooms the session may take."""
    if calendar.rooms is None or calendar.rooms:
        return
    if room is not None:
        raise ValidationError(
            {
                "room": _("%(room)s does not suit %(type)s.")
                % {"room": room.name, "type": massage_type.display_name}
            }
        )
    raise ValidationError(
        {"massage_type": _("No room suits %(type)s.") % {"type": massage_type.display_name}}
    )


def no_room_free(practice: Practice, starts_at: datetime) -> Conflict:
    return Conflict(
        {
            "detail": str(
                _("No room is free at that time (%(when)s).")
                % {"when": starts_at.astimezone(practice.zone).strftime("%Y-%m-%d %H:%M")}
            ),
            "reason": "no_room_free",
        }
    )


def rooms_choose(
    calendar: Calendar,
    *,
    practice: Practice,
    massage_type: MassageType,
    spans: Sequence[RoomSpan],
    keep: Room | None = None,
) -> list[Room | None]:
    """A room for each span (none when the practice has no active room), from the
    `calendar` read for the type, with no query of its own.

    `keep` is tried first (a moved session's room); then the rooms in the calendar's order,
    each span avoiding the rooms the spans before it took (a course's sessions). Raises a
    ValidationError when no room suits the type and a Conflict when no suitable room is free
    for a span.
    """
    if calendar.rooms is None:
        return [None] * len(spans)
    room_suitability_validate(calendar, massage_type)
    held = {room: list(holds) for room, holds in calendar.rooms.items()}
    kept = keep.pk if keep is not None else None
    order = sorted(held, key=lambda room: room != kept)
    chosen: list[Room | None] = []
    for starts_at, blocks_until in spans:
        start, end = epoch(starts_at), epoch(blocks_until)
        room_id = next(
            (r for r in order if not any(a < end and b > start for a, b in held[r])), None
        )
        if room_id is None:
            raise no_room_free(practice, starts_at)
        held[room_id].append((start, end))
        chosen.append(
            # The row as the calendar read it: the rest of its fields load if asked for.
            Room.from_db(
                DEFAULT_DB_ALIAS,
                ["id", "practice_id", "name", "active"],
                [room_id, practice.pk, calendar.room_names[room_id], True],
            )
        )
    return chosen


def lost_the_room(refused: Conflict) -> bool:
    """Whether a write was refused because a concurrent booking took its room."""
    conflicts_with = refused.body.get("conflicts_with") or {}
    return conflicts_with.get("holder") == "room"


def room_write(
    write: Callable[[], None],
    on_violation: Callable[[], Conflict],
    *,
    pick_again: Callable[[], None] | None,
) -> None:
    """`r19_write`, and when the room was picked by the service (`pick_again` given) and a
    concurrent booking took it, pick again from what is free now and write again.
    `pick_again` raises the "no room is free" Conflict when nothing is left."""
    for attempt in range(1, ROOM_ATTEMPTS + 1):
        try:
            r19_write(write, on_violation)
            return
        except Conflict as refused:
            if pick_again is None or attempt == ROOM_ATTEMPTS or not lost_the_room(refused):
                raise
            pick_again()
