"""R22 with real Celery workers on real Redis and PostgreSQL: separate worker processes sweep
the outbox of the test database at once, and one is killed with SIGKILL mid-batch. Every
reminder must be sent exactly once, counted both in the outbox and in the console backend's
log file, which every process appends to and which survives a killed worker.

Each worker is `celery -A practice worker --pool solo` started with its own session (so its
process group can be killed), pointed at the test database, the test broker and a log file.
Every wait is bounded and fails with what the workers printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.result import AsyncResult
from django.conf import settings
from django.db import connection
from django.utils import timezone

from practice.celery import app
from practice.models import Practice
from sessions.models import Reminder, ReminderStatus
from sessions.tasks import dispatch_due_reminders
from tests.factories import PatientFactory, PracticeFactory, ReminderFactory, SessionFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # The workers are other processes, which time-machine cannot reach: they decide what is
    # due, and whether its session still lies ahead, by the real clock, so the rows are
    # written by the real clock too.
    pytest.mark.real_clock,
]

BASE_DIR = Path(settings.BASE_DIR)
READY_SECONDS = 40
DONE_SECONDS = 90


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


class Workers:
    """Starts and kills `celery worker` processes; kills any left over at the end."""

    def __init__(self, tmp_path: Path, log_file: Path, delay: float) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REDIS_URL": settings.REDIS_URL,
            "REMINDER_SMS_LOG_FILE": str(log_file),
            "REMINDER_SMS_CONSOLE_DELAY": str(delay),
            "REMINDER_DISPATCH_BATCH": "20",
            "LOG_LEVEL": "WARNING",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.run_id = uuid.uuid4().hex[:8]

    def queue(self, name: str) -> str:
        return f"test-{name}-{self.run_id}"

    def sweep(self, name: str) -> AsyncResult:
        """Hand one dispatcher sweep to the named worker."""
        return dispatch_due_reminders.apply_async(queue=self.queue(name))

    def start(self, name: str) -> subprocess.Popen[bytes]:
        output = (self.tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "practice",
                "worker",
                "-c",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "-n",
                f"{name}@%h",
                # Only its own queue: a sweep goes to the worker the test means, and nothing
                # left in the default queue by another run reaches it.
                "-Q",
                self.queue(name),
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def output(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.tmp_path / f'{name}.log').read_text(errors='replace')[-3000:]}"
            for name in self.processes
        )

    def wait_ready(self, *names: str) -> None:
        """Until every named worker answers a ping: then a task sent now reaches it."""

        def answered() -> bool:
            replies = app.control.ping(timeout=0.5)
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


@pytest.fixture
def sms_log(tmp_path: Path) -> Path:
    return tmp_path / "sms.jsonl"


def forget_unacknowledged(queues: list[str]) -> None:
    """Drop what a killed worker left unacknowledged on the test broker: kombu would put it
    back into its queue after the visibility timeout, for some later worker to run."""
    with app.connection_for_write() as connection_:
        channel = connection_.default_channel
        for queue in queues:
            # The queue, and the bindings kombu keeps for its exchange of the same name.
            channel.client.delete(
                queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
            )
        channel.client.delete(
            channel.unacked_key, channel.unacked_index_key, channel.unacked_mutex_key
        )


@pytest.fixture
def workers_factory(tmp_path: Path, sms_log: Path) -> Iterator[Callable[[float], Workers]]:
    made: list[Workers] = []
    forget_unacknowledged([])

    def make(delay: float) -> Workers:
        workers = Workers(tmp_path, sms_log, delay)
        made.append(workers)
        return workers

    try:
        yield make
    finally:
        for workers in made:
            workers.kill_all()
            forget_unacknowledged([workers.queue(name) for name in workers.processes])


def log_lines(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def due_reminders(count: int) -> list[Reminder]:
    """`count` due SMS reminders spread over two practices and several sessions."""
    now = timezone.now()
    practices: list[Practice] = [
        PracticeFactory(name="Linden", slug="linden"),
        PracticeFactory(name="Harbour", slug="harbour", time_zone="America/New_York"),
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


def _future_slot(practice: Practice, *, days: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(practice.zone).date()
    return datetime.combine(day, datetime.min.time(), tzinfo=practice.zone).replace(hour=10)


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


def test_r22_two_workers_at_once_send_500_reminders_exactly_once(
    workers_factory: Callable[[float], Workers], sms_log: Path
) -> None:
    reminders = due_reminders(500)
    # Slow enough for the two sweeps to overlap for a few seconds.
    workers = workers_factory(0.005)
    workers.start("one")
    workers.start("two")
    workers.wait_ready("one", "two")

    sweeps = [workers.sweep(name) for name in ("one", "two")]

    wait_for(
        lambda: sent_count() == 500,
        DONE_SECONDS,
        lambda: f"{sent_count()} of 500 sent:\n{workers.output()}",
    )
    reports = [sweep.get(timeout=DONE_SECONDS) for sweep in sweeps]
    workers.kill_all()
    lines = assert_each_sent_exactly_once(reminders, sms_log)
    assert len(lines) == 500, "not even a resend: nothing crashed"
    assert sum(report["sent"] for report in reports) == 500
    senders = {line["id"].split("-")[1] for line in lines}
    assert len(senders) == 2, f"both sweeps sent a share: {reports}\n{workers.output()}"


def test_r22_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    workers_factory: Callable[[float], Workers], sms_log: Path
) -> None:
    reminders = due_reminders(200)
    workers = workers_factory(0.03)
    first = workers.start("doomed")
    workers.wait_ready("doomed")
    workers.sweep("doomed")
    wait_for(
        lambda: len(log_lines(sms_log)) >= 40,
        DONE_SECONDS,
        lambda: f"the first worker sent {len(log_lines(sms_log))}:\n{workers.output()}",
    )

    workers.kill("doomed")

    assert first.returncode == -signal.SIGKILL
    sent_before_restart = sent_count()
    assert 0 < sent_before_restart < 200, "killed in the middle of the batch"
    # Nothing is stuck: the killed worker's row lock went with its connection.
    assert Reminder.objects.filter(status=ReminderStatus.PENDING).count() == (
        200 - sent_before_restart
    )

    workers.start("restarted")
    workers.wait_ready("restarted")
    workers.sweep("restarted")
    wait_for(
        lambda: sent_count() == 200,
        DONE_SECONDS,
        lambda: f"{sent_count()} of 200 sent after the restart:\n{workers.output()}",
    )
    workers.kill_all()

    lines = assert_each_sent_exactly_once(reminders, sms_log)
    # At most the one reminder in flight at the kill was sent again, and the backend
    # recognised it by its key.
    assert len(lines) - 200 == sum(1 for line in lines if line.get("duplicate")) <= 1
