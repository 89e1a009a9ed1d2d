"""Billing's answers to what the sessions app reports (`sessions.signals`).

The receivers run inside the sessions service's transaction: a fee is drafted with the late
cancel that causes it, and a course package is credited with the course's cancellation, or
neither happens.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billing.fees import missed_session_fee_draft
from billing.packages import package_close_cancelled
from courses.models import Course
from practice.models import User
from sessions.models import Session
from sessions.signals import course_cancelled, session_missed


@receiver(session_missed, dispatch_uid="billing.missed_session_fee")
def draft_missed_session_fee(sender: Any, *, session: Session, **_: Any) -> None:
    missed_session_fee_draft(session=session)


@receiver(course_cancelled, dispatch_uid="billing.course_package_unused")
def credit_unused_package_sessions(
    sender: Any, *, course: Course, by: User | None, **_: Any
) -> None:
    package_close_cancelled(course=course, by=by)
