from __future__ import annotations

from celery import shared_task

from practice.idempotency import idempotency_keys_sweep
from practice.services import password_reset_send


@shared_task
def ping() -> str:
    """A no-op round trip through the broker and a worker, for health and smoke tests."""
    return "pong"


@shared_task
def sweep_idempotency_keys() -> int:
    """Beat, hourly: forget the API's idempotency keys older than their 24 hours."""
    return idempotency_keys_sweep()


@shared_task
def send_password_reset(email: str, domain: str, use_https: bool, language: str) -> None:
    """The password-reset email queued by `practice.password_reset` for any address."""
    password_reset_send(email=email, domain=domain, use_https=use_https, language=language)
