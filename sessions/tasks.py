"""Celery tasks for reminders and the course lifecycle (R11, R13, R21, R22).

Thin on purpose: each takes ids (or nothing), calls one service and returns a small summary.
All are safe to run twice or in parallel: the outbox's unique dedupe key and the dispatcher's
row locks make a repeat a no-op. Nothing here is ever scheduled with a far-future ETA (Redis
redelivers those after its visibility timeout, sending twice); beat sweeps the database.
"""

from __future__ import annotations

from math import ceil

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sessions.booking.interruptions import courses_flag_interrupted
from sessions.reminders.dispatch import reminders_dispatch, reminders_due_count
from sessions.reminders.outbox import courses_due_remind, screenings_expiring_remind


@shared_task(bind=True)
def dispatch_due_reminders(self: Task) -> dict[str, int]:
    """Beat, every REMINDER_DISPATCH_INTERVAL seconds: when reminders are due, queue send tasks
    for the workers to run in parallel, one per REMINDER_SEND_CONCURRENCY due reminders, at
    most REMINDER_DISPATCH_FANOUT (R21, R22). They go to the queue this sweep came from, so the
    workers that sweep are the ones that send, and expire when the next sweep comes, which
    queues afresh for what is left: a backlog of sweeps never piles up on the broker."""
    per_task = settings.REMINDER_SEND_CONCURRENCY
    due = reminders_due_count(
        now=timezone.now(), limit=per_task * settings.REMINDER_DISPATCH_FANOUT
    )
    tasks = ceil(due / per_task)
    queue = (self.request.delivery_info or {}).get("routing_key")
    for _task in range(tasks):
        send_due_reminders.apply_async(queue=queue, expires=settings.REMINDER_DISPATCH_INTERVAL)
    return {"due": due, "queued": tasks}


@shared_task(ignore_result=True)
def send_due_reminders() -> dict[str, int]:
    """Send what is due, fairly across practices, many at once, until nothing due is free
    (R21, R22). Any number run at once: the claim decides who sends which reminder."""
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
