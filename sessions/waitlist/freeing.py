"""What the waitlist does when booked time comes free: a session cancelled (by the desk, the
patient in the portal or through a reminder's link, a check-in that stops it: all through
`session_cancel`), a course cancelled with its sessions (`course_cancel`), or a session moved
away from its time (`session_reschedule`). Booking announces each with
`sessions.signals.session_time_freed`, answered by `sessions.waitlist.reactions`. A no-show
frees nothing worth offering: its time has already begun.

The freed time is written as a row in the freeing transaction, and a task to offer it is
queued when that transaction commits; if the broker loses the task, the waitlist's beat
sweep offers the row.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import transaction

from sessions.models import FreedSlot, Session
from sessions.waitlist.tasks import offer_freed_slot


def waitlist_time_freed(
    session: Session,
    *,
    starts_at: datetime,
    ends_at: datetime,
    schedule_version: int,
    now: datetime,
) -> None:
    """`session` no longer holds `starts_at`..`ends_at` (its time at `schedule_version`).
    Call inside the transaction that frees it; calling twice writes one row."""
    if starts_at <= now:
        return
    slot, created = FreedSlot.objects.get_or_create(
        practice_id=session.practice_id,
        session=session,
        schedule_version=schedule_version,
        defaults={
            "therapist_id": session.therapist_id,
            "room_id": session.room_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
    )
    if created:
        # Robust: the freeing is committed; a broker that is down must not turn it into an
        # error. The sweep offers the row instead.
        transaction.on_commit(partial(offer_freed_slot.delay, slot.pk), robust=True)
