"""Celery tasks for reminders and the course lifecycle (R11, R13, R21, R22).

Thin on purpose: each takes ids (or nothing), calls one service and returns a small summary.
All are safe to run twice or in parallel: the outbox's unique dedupe key and the dispatcher's
row locks make a repeat a no-op. Nothing here is ever scheduled with a far-future ETA (Redis
redelivers those after its visibility timeout, sending twice); beat sweeps the database.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from sessions.booking.interruptions import courses_flag_interrupted
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.outbox import courses_due_remind, screenings_expiring_remind


@shared_task
def dispatch_due_reminders() -> dict[str, int]:
    """Beat, every minute: send what is due, fairly across practices (R21, R22)."""
    report = reminders_dispatch()
    return {
        "sent": report.sent,
        "retrying": report.retrying,
        "failed": report.failed,
        "cancelled": report.cancelled,
    }


@shared_task
def remind_next_course_due() -> int:
    """Beat, daily: R11's "next course due" nudge, in every practice, to each patient whose
    next course is near (R12 proposes its type). Returns the rows offered."""
    return courses_due_remind(now=timezone.now())


@shared_task
def flag_interrupted_courses() -> int:
    """Beat: R13, more than two missed sessions in a row flag the course."""
    return courses_flag_interrupted(now=timezone.now())


@shared_task
def remind_expiring_screenings() -> int:
    """Beat: R21 (R1), a screening that expires before a session booked this week."""
    with transaction.atomic():
        return screenings_expiring_remind(now=timezone.now())
