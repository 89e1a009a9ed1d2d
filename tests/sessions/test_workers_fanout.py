"""R21, R22 with real Celery workers sending to a stand-in SMS provider over HTTP: a sweep fans
the due reminders out to send tasks, every worker sends many at once, and each reminder reaches
the provider once; a reminder falling due between sweeps goes out within one short interval.

The workers and beat are subprocesses (tests/sessions/workers.py) on the test database; the
provider (tests/sms_provider.py) answers from a thread of this process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from sessions.models import Reminder, ReminderStatus
from tests.sessions.workers import (
    DONE_SECONDS,
    SOLO,
    Processes,
    RedisServer,
    due_reminders,
    sent_count,
    wait_for,
)
from tests.sms_provider import ProviderLog, provider_env, sms_provider

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # The workers are other processes and read the real clock (see test_workers.py).
    pytest.mark.real_clock,
]

# Sends each worker keeps in flight at once.
PER_WORKER = 4


@pytest.fixture
def provider() -> Iterator[ProviderLog]:
    with sms_provider(delay=0.1) as log:
        yield log


def test_r22_two_workers_fan_out_and_send_each_reminder_exactly_once(
    tmp_path: Path, provider: ProviderLog
) -> None:
    reminders = due_reminders(400)
    workers = Processes(
        tmp_path,
        tmp_path / "unused.jsonl",
        0,
        **provider_env(provider.url, REMINDER_SEND_CONCURRENCY=str(PER_WORKER)),
    )
    try:
        workers.start("one")
        workers.start("two")
        workers.wait_ready("one", "two")

        for name in ("one", "two"):
            workers.sweep(name)

        wait_for(
            lambda: sent_count() == 400,
            DONE_SECONDS,
            lambda: f"{sent_count()} of 400 sent:\n{workers.output()}",
        )
    finally:
        workers.kill_all()
        workers.forget_unacknowledged()

    # Once each: no key reached the provider twice, and every row holds its delivery's id.
    assert (provider.requests, len(provider.delivered), provider.duplicates) == (400, 400, 0)
    rows = Reminder.objects.filter(pk__in=[r.pk for r in reminders])
    assert rows.filter(status=ReminderStatus.SENT).count() == 400
    delivered_ids = {delivery.message_id for delivery in provider.delivered.values()}
    assert set(rows.values_list("provider_message_id", flat=True)) == delivered_ids
    # More at once than one worker may have in flight: both sent, each several at a time.
    assert provider.max_in_flight > PER_WORKER


def test_r21_a_reminder_falling_due_between_sweeps_is_sent_within_the_interval(
    tmp_path: Path, provider: ProviderLog, redis_server: RedisServer
) -> None:
    # A broker of the test's own: beat's sweeps go to its default queue, which no other run
    # shares. The interval is the default one.
    celery = Processes(
        tmp_path,
        tmp_path / "unused.jsonl",
        0,
        **provider_env(provider.url),
        CELERY_BROKER_URL=redis_server.url(1),
        REDIS_URL=redis_server.url(0),
    )
    interval = timedelta(seconds=settings.REMINDER_DISPATCH_INTERVAL)
    try:
        [first, reminder] = due_reminders(50)[:2]
        Reminder.objects.exclude(pk__in=[first.pk, reminder.pk]).delete()
        Reminder.objects.filter(pk=reminder.pk).update(
            due_at=timezone.now() + timedelta(days=1), send_after=timezone.now() + timedelta(days=1)
        )
        celery.start("worker", own_queue=False, options=SOLO)
        celery.start_beat("beat")
        # The first, due already, shows that beat sweeps and the worker sends; the other
        # falls due a moment after that sweep: between two sweeps.
        wait_for(lambda: sent_count() == 1, DONE_SECONDS, lambda: f"not sent:\n{celery.output()}")
        due_at = timezone.now() + timedelta(seconds=2)
        Reminder.objects.filter(pk=reminder.pk).update(due_at=due_at, send_after=due_at)
        wait_for(lambda: sent_count() == 2, DONE_SECONDS, lambda: f"not sent:\n{celery.output()}")
    finally:
        celery.kill_all()

    reminder.refresh_from_db()
    assert reminder.sent_at is not None
    # Within one sweep interval of falling due, with a few seconds for the machine's load.
    assert reminder.sent_at - due_at <= interval + timedelta(seconds=3)
    assert provider.requests == 2
