"""Real Celery processes for the R22 tests (test_workers.py, test_workers_broker.py): workers
and beat started as subprocesses against the test database, each in its own session (so its
process group can be killed), plus a Redis server of the test's own to stop and start.

Every wait is bounded and fails with what the processes printed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from celery.result import AsyncResult
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from practice.models import Practice
from sessions.models import Reminder, ReminderStatus
from tests.factories import PatientFactory, PracticeFactory, ReminderFactory, SessionFactory

BASE_DIR = Path(settings.BASE_DIR)
READY_SECONDS = 40
DONE_SECONDS = 90
DISPATCH_TASK = "sessions.tasks.dispatch_due_reminders"
REDIS_SERVER = "/usr/bin/redis-server"
# The worker options of docker-compose.yml and bin/dev-server.
WORKER_QUIET = ("--without-gossip", "--without-mingle", "--without-heartbeat")
# One task at a time in the worker's own process, nothing shared with other workers.
SOLO = ("--pool", "solo", "-c", "1", "--without-mingle", "--without-gossip")
# What docker compose and `make run` run (see there): two forked processes, no gossip.
COMPOSE = ("--pool", "prefork", "-c", "2", *WORKER_QUIET)


def worker_database_url() -> str:
    """The test database (not the developer's), as the workers' DATABASE_URL."""
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{quote(db['NAME'])}"


def wait_for(condition: Callable[[], bool], seconds: float, failure: Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(failure())
        time.sleep(0.1)


class Processes:
    """Starts and kills `celery worker` and `celery beat` processes on one broker; kills any
    left over at the end. `client` is a Celery app on that broker, for sending and pinging."""

    def __init__(self, tmp_path: Path, log_file: Path, delay: float, **env: str) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REDIS_URL": settings.REDIS_URL,
            "REMINDER_SMS_LOG_FILE": str(log_file),
            "REMINDER_SMS_CONSOLE_DELAY": str(delay),
            "REMINDER_DISPATCH_BATCH": "20",
            # Far longer than a send here takes; short, so a killed worker's lease runs out
            # within the test.
            "REMINDER_LEASE_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.client = Celery(
            "tests", broker=self.env["CELERY_BROKER_URL"], backend=self.env["REDIS_URL"] or None
        )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.run_id = uuid.uuid4().hex[:8]

    def queue(self, name: str) -> str:
        return f"test-{name}-{self.run_id}"

    def sweep(self, name: str) -> AsyncResult:
        """Hand one dispatcher sweep to the named worker."""
        return self.client.send_task(DISPATCH_TASK, queue=self.queue(name))

    def _start(self, name: str, arguments: list[str]) -> subprocess.Popen[bytes]:
        output = (self.tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "practice", *arguments],
            cwd=BASE_DIR,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start(
        self, name: str, *, own_queue: bool = True, options: tuple[str, ...] = SOLO
    ) -> subprocess.Popen[bytes]:
        """A worker. With `own_queue` it consumes only its own: a sweep goes to the worker the
        test means, and nothing left in the shared broker's default queue by another run
        reaches it. Without, it takes beat's sweeps (on a broker of the test's own)."""
        queue = ["-Q", self.queue(name)] if own_queue else []
        return self._start(
            name,
            ["worker", *options, "--loglevel", "WARNING", "-n", f"{name}@%h", *queue],
        )

    def start_beat(self, name: str) -> subprocess.Popen[bytes]:
        schedule = self.tmp_path / f"{name}-schedule"
        return self._start(name, ["beat", "--loglevel", "WARNING", "--schedule", str(schedule)])

    def output(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.tmp_path / f'{name}.log').read_text(errors='replace')[-3000:]}"
            for name in self.processes
        )

    def wait_ready(self, *names: str) -> None:
        """Until every named worker answers a ping: then a task sent now reaches it."""

        def answered() -> bool:
            replies = self.client.control.ping(timeout=0.5)
            ready = {host.split("@")[0] for reply in replies for host in reply}
            return set(names) <= ready

        wait_for(answered, READY_SECONDS, lambda: f"workers not ready:\n{self.output()}")

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def forget_unacknowledged(self) -> None:
        """Drop what a killed worker left unacknowledged on the broker: kombu would put it
        back into its queue after the visibility timeout, for some later worker to run."""
        with self.client.connection_for_write() as connection_:
            channel = connection_.default_channel
            for queue in map(self.queue, self.processes):
                # The queue, and the bindings kombu keeps for its exchange of the same name.
                channel.client.delete(
                    queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
                )
            channel.client.delete(
                channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key
            )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A Redis of the test's own on a free port, with no persistence: stopping it loses
    everything in it, as a restarted container without a volume does. Never the machine's."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.tmp_path = tmp_path
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.tmp_path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(answers, 10, lambda: f"redis-server on port {self.port} did not start")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM: a graceful shutdown (what `docker compose restart redis` does); SIGKILL: a
        crash. Either way its contents are gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=10)
        self.process = None


def log_lines(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def due_reminders(count: int) -> list[Reminder]:
    """`count` due SMS reminders spread over two practices and several sessions."""
    now = timezone.now()
    practices: list[Practice] = [
        _practice(name="Linden", slug="linden"),
        _practice(name="Harbour", slug="harbour", time_zone="America/New_York"),
    ]
    per_session = 50
    made: list[Reminder] = []
    for index in range(count // per_session):
        practice = practices[index % 2]
        session = SessionFactory(
            patient=PatientFactory(practice=practice, consent_sms=True),
            starts_at=_future_slot(practice, days=3 + index),
        )
        made += ReminderFactory.create_batch(
            per_session, session=session, due_at=now - timedelta(minutes=1)
        )
    return made


def _practice(**fields: str) -> Practice:
    """The practice of that slug: a test's first batch makes it, a later batch adds to it."""
    existing = Practice.objects.filter(slug=fields["slug"]).first()
    return existing if existing is not None else PracticeFactory(**fields)


def _future_slot(practice: Practice, *, days: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(practice.zone).date()
    return datetime.combine(day, datetime.min.time(), tzinfo=practice.zone).replace(hour=10)


def wait_out_leases() -> None:
    """Until the leases of the rows a killed worker was sending have run out: then a sweep
    takes them again."""
    latest = Reminder.objects.filter(status=ReminderStatus.SENDING).aggregate(
        latest=Max("lease_expires_at")
    )["latest"]
    if latest is not None:
        wait_for(lambda: timezone.now() > latest, 30, lambda: f"a lease lasts past {latest}")


def sent_count() -> int:
    return Reminder.objects.filter(status=ReminderStatus.SENT).count()


def assert_each_sent_exactly_once(reminders: list[Reminder], log: Path) -> list[dict]:
    rows = Reminder.objects.filter(pk__in=[r.pk for r in reminders])
    assert rows.filter(status=ReminderStatus.SENT).count() == len(reminders)
    assert rows.exclude(status=ReminderStatus.SENT).count() == 0
    lines = log_lines(log)
    delivered = Counter(line["key"] for line in lines if not line.get("duplicate"))
    assert len(delivered) == len(reminders), "every reminder reached its patient"
    assert set(delivered.values()) == {1}, "none reached its patient twice"
    # What each row recorded is what the backend delivered.
    ids = {line["id"] for line in lines}
    assert set(rows.values_list("provider_message_id", flat=True)) == ids
    return lines
