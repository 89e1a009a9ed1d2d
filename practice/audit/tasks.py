from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from practice.audit.services import purge_expired_entries


@shared_task
def purge_expired_audit_entries() -> int:
    return purge_expired_entries(now=timezone.now())
