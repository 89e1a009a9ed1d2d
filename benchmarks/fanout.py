"""`make bench` figures: reminders sent by real Celery workers to an SMS provider (R21, R22).

A stand-in provider (tests/sms_provider.py) answers on 127.0.0.1 in 100 ms, delivering each
idempotency key once. Two `celery worker` processes (prefork, 2 children each, as in
docker-compose.yml) send to it through `HttpSmsBackend`, on the bench database and a Redis
broker database of the bench's own (BENCH_BROKER_URL, default redis://127.0.0.1:6379/13) with a
queue of its own. The bench plays beat: it sends a sweep every REMINDER_DISPATCH_INTERVAL.

- drain: 10,000 SMS reminders due at once; seconds until the last is sent.
- lateness: reminders falling due continuously (50 a second for a minute); sent_at - due_at,
  the 99th percentile.

Every wait is bounded; the workers are killed and the rows removed whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time as clock
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.utils import timezone

from benchmarks.data import World
from benchmarks.dispatch import _sessions
from sessions.models import Channel, Reminder, ReminderStatus, Session
from sessions.reminders.messages import ReminderKind
from tests.sms_provider import provider_env, sms_provider

DRAIN = 10_000
STEADY_RATE = 50  # reminders falling due per second
STEADY_SECONDS = 60
PROVIDER_SECONDS = 0.1
WORKERS = 2
WORKER_OPTIONS = ("--pool", "prefork", "-c", "2", "--without-gossip", "--without-mingle")
DRAIN_LIMIT = 180.0
READY_LIMIT = 60.0
SWEEP_TASK = "sessions.tasks.dispatch_due_reminders"


class Bench:
    """The workers, the broker client and the sweeps the bench sends in beat's place."""

    def __init__(self, provider_url: str, logs: Path) -> None:
        broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
        self.queue = f"bench-reminders-{uuid.uuid4().hex[:8]}"
        self.interval = settings.REMINDER_DISPATCH_INTERVAL
        self.env = {
            **os.environ,
            **provider_env(provider_url),
            "CELERY_BROKER_URL": broker,
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
        }
        self.client = Celery("bench", broker=broker)
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.last_sweep = 0.0

    def start(self) -> None:
        for number in range(WORKERS):
            name = f"bench{number}-{self.queue}"
            worker = ("worker", *WORKER_OPTIONS, "--loglevel", "WARNING", "-n", f"{name}@%h")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "practice", *worker, "-Q", self.queue],
                    cwd=settings.BASE_DIR,
                    env=self.env,
                    stdout=(self.logs / f"{name}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = clock.monotonic() + READY_LIMIT
        while len(self.client.control.ping(timeout=0.5)) < WORKERS:
            if clock.monotonic() > deadline:
                raise RuntimeError(f"workers not ready; their logs are in {self.logs}")

    def sweep_when_due(self) -> None:
        """Beat's part: a sweep every interval."""
        if clock.monotonic() - self.last_sweep >= self.interval:
            self.client.send_task(SWEEP_TASK, queue=self.queue, expires=self.interval * 0.9)
            self.last_sweep = clock.monotonic()

    def wait_sent(self, rows: list[int], limit: float) -> None:
        deadline = clock.monotonic() + limit
        due = Reminder.objects.filter(pk__in=rows)
        while due.filter(status=ReminderStatus.SENT).count() < len(rows):
            if clock.monotonic() > deadline:
                raise RuntimeError(
                    f"{due.filter(status=ReminderStatus.SENT).count()} of {len(rows)} sent "
                    f"in {limit:.0f} s; worker logs in {self.logs}"
                )
            self.sweep_when_due()
            clock.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        with self.client.connection_for_write() as connection:
            redis = connection.default_channel.client
            redis.delete(
                self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}"
            )


def _queue(sessions: list[Session], dues: list[datetime], tag: str) -> list[int]:
    rows = Reminder.objects.bulk_create(
        (
            Reminder(
                practice_id=sessions[number % len(sessions)].practice_id,
                patient_id=sessions[number % len(sessions)].patient_id,
                session=sessions[number % len(sessions)],
                kind=ReminderKind.FIRST_REMINDER,
                channel=Channel.SMS,
                due_at=due_at,
                send_after=due_at,
                session_version=sessions[number % len(sessions)].schedule_version,
                dedupe_key=f"bench-fanout:{tag}:{number}",
            )
            for number, due_at in enumerate(dues)
        ),
        batch_size=2000,
    )
    return [row.pk for row in rows]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def workers_drain_and_lateness(world: World) -> Iterator[str]:
    from benchmarks.figures import line

    sessions = _sessions(world)
    tag = uuid.uuid4().hex[:8]
    load = os.getloadavg()
    yield (
        f"# machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} at the start; provider {PROVIDER_SECONDS * 1000:.0f} ms; {WORKERS} "
        f"workers ({' '.join(WORKER_OPTIONS[:4])}), "
        f"REMINDER_SEND_CONCURRENCY={settings.REMINDER_SEND_CONCURRENCY}, "
        f"sweep every {settings.REMINDER_DISPATCH_INTERVAL:g} s"
    )
    with (
        sms_provider(delay=PROVIDER_SECONDS) as provider,
        tempfile.TemporaryDirectory(prefix="bench-workers-") as logs,
    ):
        bench = Bench(provider.url, Path(logs))
        try:
            bench.start()
            drain = _queue(sessions, [timezone.now()] * DRAIN, f"{tag}:drain")
            began = clock.monotonic()
            bench.wait_sent(drain, DRAIN_LIMIT)
            drained = clock.monotonic() - began
            yield line("workers_drain_10k_reminders", drained, "s", 1)
            yield line("workers_drain_rate", DRAIN / drained, "reminders/s", 1)

            start = timezone.now() + timedelta(seconds=2)
            dues = [
                start + timedelta(seconds=number / STEADY_RATE)
                for number in range(STEADY_RATE * STEADY_SECONDS)
            ]
            steady = _queue(sessions, dues, f"{tag}:steady")
            bench.wait_sent(steady, STEADY_SECONDS + DRAIN_LIMIT)
            lateness = [
                (sent_at - due_at).total_seconds()
                for sent_at, due_at in Reminder.objects.filter(pk__in=steady).values_list(
                    "sent_at", "due_at"
                )
            ]
            yield line("workers_steady_lateness_p50", _percentile(lateness, 0.5), "s", 1)
            yield line("workers_steady_lateness_p99", _percentile(lateness, 0.99), "s", 1)
            # Resends of a key (an unknown outcome retried): none, unless the provider was slow.
            yield line("workers_provider_repeated_keys", provider.duplicates, "requests", 1)
        finally:
            bench.stop()
            Reminder.objects.filter(session__in=sessions).delete()
            Session.objects.filter(pk__in=[s.pk for s in sessions]).delete()
    load = os.getloadavg()
    yield f"# load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
