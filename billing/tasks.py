"""Billing's Celery tasks. Thin: each calls one service; safe to run twice or in parallel (the
service decides each row once, under its lock). Beat sweeps the database instead of far-future
ETA tasks, which Redis would redeliver after its visibility timeout."""

from __future__ import annotations

from celery import shared_task

from billing.deposits import deposits_decide_due


@shared_task
def release_unpaid_deposits() -> int:
    """Beat, every minute: keep the bookings whose deposit was paid in time, release the
    others (`billing.deposits`). Returns how many deposits were decided."""
    return deposits_decide_due()
