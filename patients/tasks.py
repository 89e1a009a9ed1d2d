from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from patients.erasure import erased_patients_purge


@shared_task
def purge_erased_patients() -> int:
    return erased_patients_purge(now=timezone.now())
