from __future__ import annotations

from celery import shared_task


@shared_task
def ping() -> str:
    """A no-op round trip through the broker and a worker, for health and smoke tests."""
    return "pong"
