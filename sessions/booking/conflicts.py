"""Why a time cannot be had: refused by the calendar (R23) or taken by another session (R19).

Race safety: each write checks first (so the client hears a friendly 409 naming the session it
collides with) and then relies on the exclusion constraints; an `ExclusionViolation` raised by
a concurrent booking that won is turned into the same 409 by `r19_write`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from practice.calendar import Calendar, from_epoch
from practice.errors import Conflict
from practice.models import Practice
from sessions.models import ACTIVE, MAX_SPAN, Session

# The PostgreSQL errors under Django's IntegrityError/OperationalError that mean a concurrent
# write won or two writes deadlocked; SQLite never raises them.
LOST_RACE_ERRORS: tuple[type[Exception], ...] = ()
DEADLOCK_ERRORS: tuple[type[Exception], ...] = ()
try:
    from psycopg.errors import DeadlockDetected, ExclusionViolation, UniqueViolation
except ImportError:  # pragma: no cover - psycopg is a dependency
    pass
else:
    LOST_RACE_ERRORS = (ExclusionViolation, UniqueViolation)
    DEADLOCK_ERRORS = (DeadlockDetected,)

logger = logging.getLogger(__name__)


def r23_refusal(calendar: Calendar, therapist_id: int, start: int, minutes: int) -> str | None:
    """Why `start` is not bookable apart from other sessions (R23), or None when it is.

    The same definitions as `Calendar.free_starts` (its working spans and its grid, R24), so
    whatever that offers is never refused here: both occurrences of a repeated hour included.
    """
    end = start + minutes * 60
    if start < calendar.not_before:
        return str(_("This time is in the past."))
    if start >= calendar.not_after:
        return str(_("This is beyond the booking horizon."))
    day = from_epoch(start).astimezone(calendar.zone).date()
    if not any(a <= start and end <= b for a, b in calendar.working_spans(therapist_id, day)):
        return str(_("R23: this is outside the therapist's working hours."))
    if any(a < end and b > start for a, b in calendar.closures):
        return str(_("R23: the practice is closed then."))
    if any(a < end and b > start for a, b in calendar.time_off.get(therapist_id, ())):
        return str(_("R23: the therapist is off then."))
    if not calendar.on_grid(start):
        return str(
            _("Sessions start on the practice's %(n)d-minute grid.") % {"n": calendar.grid_minutes}
        )
    return None


def conflicting_session(
    *,
    practice: Practice,
    therapist_id: int,
    room_id: int | None,
    patient_id: int,
    starts_at: datetime,
    ends_at: datetime,
    buffer: timedelta,
    exclude_id: int | None = None,
) -> Session | None:
    """The first active session that a session at this time would overlap (R19, R23)."""
    blocks_until = ends_at + buffer
    buffered = Q(starts_at__lt=blocks_until, blocks_until__gt=starts_at)
    holders = Q(therapist_id=therapist_id) & buffered
    if room_id is not None:
        holders |= Q(room_id=room_id) & buffered
    holders |= Q(patient_id=patient_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
    found = Session.objects.for_practice(practice).filter(
        ACTIVE, holders, starts_at__gt=starts_at - MAX_SPAN
    )
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.order_by("starts_at").first()


def conflict(
    taken: Session, practice: Practice, *, therapist_id: int, room_id: int | None, patient_id: int
) -> Conflict:
    """A 409 naming the time the request collides with (in the practice's zone) and whose
    time it is: the therapist's, the room's or the patient's."""
    zone = practice.zone
    starts, ends = taken.starts_at.astimezone(zone), taken.ends_at.astimezone(zone)
    detail = _("This time overlaps a session from %(start)s to %(end)s (with the buffer).") % {
        "start": starts.strftime("%Y-%m-%d %H:%M"),
        "end": ends.strftime("%H:%M"),
    }
    if taken.therapist_id == therapist_id:
        holder = "therapist"
    elif room_id is not None and taken.room_id == room_id:
        holder = "room"
    else:
        holder = "patient"
    return Conflict(
        {
            "detail": str(detail),
            "conflicts_with": {
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
                "blocks_until": taken.blocks_until.astimezone(zone).isoformat(),
                "holder": holder,
            },
        }
    )


def is_exclusion_violation(error: IntegrityError) -> bool:
    """An exclusion constraint (R19) or the one-row-per-course-position unique constraint:
    both mean a concurrent write took what this one wanted."""
    return isinstance(error.__cause__, LOST_RACE_ERRORS)


def is_deadlock(error: OperationalError) -> bool:
    return isinstance(error.__cause__, DEADLOCK_ERRORS)


DEADLOCK_ATTEMPTS = 3


def r19_write(write: Callable[[], None], on_violation: Callable[[], Conflict]) -> None:
    """Run a write in an atomic block of its own; a lost race on an exclusion constraint
    becomes a 409.

    The block is a savepoint inside a caller's transaction (which then lives on to name the
    winner), or the transaction itself when the caller holds none: after a violation it is
    rolled back and `on_violation` reads in autocommit, so a write that needs nothing locked
    beforehand costs no savepoint.

    Two transactions inserting overlapping rows at the same moment can each wait for the
    other while checking an exclusion constraint (PostgreSQL then aborts one as a deadlock).
    The aborted one retries from its block's start: it now waits for the other to finish and
    either gets the time or a clean exclusion violation. `write` must be safe to repeat.
    """
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                write()
            return
        except IntegrityError as error:
            if not is_exclusion_violation(error):
                raise
            raise on_violation() from error
        except OperationalError as error:
            if not is_deadlock(error):
                raise
            if attempt == DEADLOCK_ATTEMPTS:
                raise Conflict(
                    {"detail": str(_("The calendar is busy right now; please try again."))}
                ) from error
            logger.info("deadlock while booking, attempt %d; retrying", attempt)


def taken_conflict(practice: Practice, session: Session) -> Conflict | None:
    """The 409 naming the committed session that `session`'s time now collides with, if any."""
    taken = conflicting_session(
        practice=practice,
        therapist_id=session.therapist_id,
        room_id=session.room_id,
        patient_id=session.patient_id,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        buffer=session.blocks_until - session.ends_at,
        exclude_id=session.pk,
    )
    if taken is None:
        return None
    return conflict(
        taken,
        practice,
        therapist_id=session.therapist_id,
        room_id=session.room_id,
        patient_id=session.patient_id,
    )


def lost_race_conflict(practice: Practice, session: Session) -> Conflict:
    """The 409 for a write the exclusion constraint refused. The winner has committed by
    now, so its time can be named."""
    return taken_conflict(practice, session) or Conflict(
        {"detail": str(_("This time was just booked by someone else."))}
    )
