"""Billing's answers to what the sessions app reports (`sessions.signals`).

The receivers run inside the sessions service's transaction: a fee is drafted with the late
cancel that causes it, a course package is credited with the course's cancellation, and a
deposit is asked with the online booking, or neither happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from billing.deposits import deposit_ask
from billing.fees import missed_session_fee_draft
from billing.packages import package_close_cancelled
from courses.models import Course
from practice.models import User
from sessions.models import Session
from sessions.signals import course_cancelled, session_booked, session_missed


@receiver(session_missed, dispatch_uid="billing.missed_session_fee")
def draft_missed_session_fee(sender: Any, *, session: Session, **_: Any) -> None:
    missed_session_fee_draft(session=session)


@receiver(course_cancelled, dispatch_uid="billing.course_package_unused")
def credit_unused_package_sessions(
    sender: Any, *, course: Course, by: User | None, **_: Any
) -> None:
    package_close_cancelled(course=course, by=by)


@receiver(session_booked, dispatch_uid="billing.online_booking_deposit")
def ask_deposit_of_online_booking(
    sender: Any, *, session: Session, online: bool, now: datetime, **_: Any
) -> None:
    if online:
        deposit_ask(session=session, now=now)
