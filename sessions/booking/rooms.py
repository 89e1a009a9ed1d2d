"""Which room a session takes (R19): a practice with rooms puts every session in one.

A room may suit some massage types only (`Room.massage_types`, empty: every type). A booking
that names no room gets a free one that suits its type; one that names a room gets it if the
room suits the type (whether it is free is the calendar's question, as for the therapist). A
moved session keeps its room when it can. A practice without rooms books without one.

The exclusion constraint `session_room_no_overlap` decides a race: a booking whose room was
taken by a concurrent one that committed first picks again (`room_write`) and, when no room
is left, hears the same "no room is free" as if it had come second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from practice.errors import Conflict
from practice.models import MassageType, Practice, Room
from sessions.booking.conflicts import r19_write
from sessions.models import ACTIVE, MAX_SPAN, Session

# A span a room is held for: [starts_at, blocks_until), the session with its buffer (R23).
RoomSpan = tuple[datetime, datetime]

# Picking again after a lost race: each retry follows a booking that committed, so a few
# are enough for any practice's number of rooms to fill or to leave one free.
ROOM_ATTEMPTS = 5


@dataclass(frozen=True)
class _Candidate:
    room: Room
    # Kept for a few types (this one among them) rather than suiting every type.
    specialised: bool


def _candidates(practice: Practice, massage_type: MassageType) -> tuple[bool, list[_Candidate]]:
    """Whether the practice has an active room at all, and its active rooms that suit
    `massage_type`, by name: one query."""
    kept_for = Room.massage_types.through.objects.filter(room_id=OuterRef("pk"))
    rooms = (
        Room.objects.for_practice(practice)
        .filter(active=True)
        .annotate(
            restricted=Exists(kept_for),
            listed=Exists(kept_for.filter(massagetype_id=massage_type.pk)),
        )
        .order_by("name", "pk")
    )
    any_room = False
    suitable = []
    for room in rooms:
        any_room = True
        # The annotations, which the model's type does not know.
        restricted, listed = vars(room)["restricted"], vars(room)["listed"]
        if listed or not restricted:
            suitable.append(_Candidate(room, specialised=restricted))
    return any_room, suitable


def room_suitability_validate(room: Room, massage_type: MassageType) -> None:
    """A room asked for by name must suit the session's type."""
    restricted = room.massage_types.exists()
    if restricted and not room.massage_types.filter(pk=massage_type.pk).exists():
        raise ValidationError(
            {
                "room": _("%(room)s does not suit %(type)s.")
                % {"room": room.name, "type": massage_type.display_name}
            }
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
    *,
    practice: Practice,
    massage_type: MassageType,
    spans: Sequence[RoomSpan],
    keep: Room | None = None,
    exclude_ids: Collection[int] = (),
) -> list[Room | None]:
    """A room for each span (none when the practice has no active room), all in two queries.

    `keep` is tried first (a moved session's room, a course's previous session's); then
    the rooms kept for a few types this one is among, so that rooms for every type stay free
    for the other types; then the rest by name. `exclude_ids`: sessions whose own time does
    not count (the session being moved). Raises a ValidationError when no room suits the
    type and a Conflict when no suitable room is free for a span.
    """
    any_room, candidates = _candidates(practice, massage_type)
    if not any_room:
        return [None] * len(spans)
    if not candidates:
        raise ValidationError(
            {"massage_type": _("No room suits %(type)s.") % {"type": massage_type.display_name}}
        )
    kept = keep.pk if keep is not None else None
    candidates.sort(key=lambda c: (c.room.pk != kept, not c.specialised))
    suitable = [c.room for c in candidates]
    held: dict[int, list[RoomSpan]] = defaultdict(list)
    first = min(start for start, _end in spans)
    last = max(end for _start, end in spans)
    for room_id, starts_at, blocks_until in (
        Session.objects.for_practice(practice)
        .filter(
            ACTIVE,
            room_id__in=[room.pk for room in suitable],
            starts_at__lt=last,
            blocks_until__gt=first,
            # No row spans more than MAX_SPAN: an index range scan (see calendar_load).
            starts_at__gt=first - MAX_SPAN,
        )
        .exclude(pk__in=exclude_ids)
        .values_list("room_id", "starts_at", "blocks_until")
    ):
        held[room_id].append((starts_at, blocks_until))
    chosen: list[Room | None] = []
    for start, end in spans:
        room = next(
            (r for r in suitable if not any(a < end and b > start for a, b in held[r.pk])),
            None,
        )
        if room is None:
            raise no_room_free(practice, start)
        # The next spans (a course's sessions) must not be put in this one again.
        held[room.pk].append((start, end))
        chosen.append(room)
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
