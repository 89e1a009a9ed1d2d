"""The waitlist's answers to what booking reports (`sessions.signals`): booking sits below the
waitlist and never imports it.

The receiver runs inside the booking service's transaction, so the freed time's row commits
with the change that freed it, or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from sessions.models import Session
from sessions.signals import session_time_freed
from sessions.waitlist.freeing import waitlist_time_freed


@receiver(session_time_freed, dispatch_uid="waitlist.time_freed")
def offer_freed_time(
    sender: Any,
    *,
    session: Session,
    starts_at: datetime,
    ends_at: datetime,
    schedule_version: int,
    now: datetime,
    **_: Any,
) -> None:
    waitlist_time_freed(
        session,
        starts_at=starts_at,
        ends_at=ends_at,
        schedule_version=schedule_version,
        now=now,
    )
