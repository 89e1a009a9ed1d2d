"""R22 with real Celery workers on real Redis and PostgreSQL: separate worker processes sweep
the outbox of the test database at once, and one is killed with SIGKILL mid-batch. Every
reminder must be sent exactly once, counted both in the outbox and in the console backend's
log file, which every process appends to and which survives a killed worker.

Each worker is `celery -A practice worker --pool solo` started with its own session (so its
process group can be killed), pointed at the test database, the test broker and a log file.
Every wait is bounded and fails with what the workers printed."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sessions.models import Reminder, ReminderStatus
from tests.sessions.workers import (
    DONE_SECONDS,
    Processes,
    assert_each_sent_exactly_once,
    due_reminders,
    log_lines,
    sent_count,
    wait_for,
    wait_out_leases,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # The workers are other processes, which time-machine cannot reach: they decide what is
    # due, and whether its session still lies ahead, by the real clock, so the rows are
    # written by the real clock too.
    pytest.mark.real_clock,
]

# Sends one worker keeps in flight at once in the kill test.
IN_FLIGHT = 4


@pytest.fixture
def sms_log(tmp_path: Path) -> Path:
    return tmp_path / "sms.jsonl"


@pytest.fixture
def workers_factory(tmp_path: Path, sms_log: Path) -> Iterator[Callable[..., Processes]]:
    made: list[Processes] = []

    def make(delay: float, **env: str) -> Processes:
        workers = Processes(tmp_path, sms_log, delay, **env)
        made.append(workers)
        return workers

    try:
        yield make
    finally:
        for workers in made:
            workers.kill_all()
            workers.forget_unacknowledged()


def test_r22_two_workers_at_once_send_500_reminders_exactly_once(
    workers_factory: Callable[..., Processes], sms_log: Path
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
    # Each sweep handed the sending to send tasks on its worker's queue.
    assert all(report["queued"] > 0 for report in reports)
    senders = {line["id"].split("-")[1] for line in lines}
    assert len(senders) == 2, f"both sweeps sent a share: {reports}\n{workers.output()}"


def test_r22_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    workers_factory: Callable[..., Processes], sms_log: Path
) -> None:
    reminders = due_reminders(200)
    workers = workers_factory(0.03, REMINDER_SEND_CONCURRENCY=str(IN_FLIGHT))
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
    # Nothing is lost: the rest wait, and at most the ones the worker was sending are leased
    # (it claims a row only when a thread is free to send it).
    pending = Reminder.objects.filter(status=ReminderStatus.PENDING).count()
    leased = list(Reminder.objects.filter(status=ReminderStatus.SENDING))
    assert pending + len(leased) == 200 - sent_before_restart
    assert len(leased) <= IN_FLIGHT

    workers.start("restarted")
    workers.wait_ready("restarted")
    wait_out_leases()
    workers.sweep("restarted")
    wait_for(
        lambda: sent_count() == 200,
        DONE_SECONDS,
        lambda: f"{sent_count()} of 200 sent after the restart:\n{workers.output()}",
    )
    workers.kill_all()

    lines = assert_each_sent_exactly_once(reminders, sms_log)
    # At most the reminders in flight at the kill were sent again, and the backend
    # recognised them by their keys.
    assert len(lines) - 200 == sum(1 for line in lines if line.get("duplicate")) <= IN_FLIGHT


def test_r22_a_worker_killed_mid_send_leaves_a_lease_that_is_sent_again_once(
    tmp_path: Path, sms_log: Path
) -> None:
    [reminder] = due_reminders(50)[:1]
    Reminder.objects.exclude(pk=reminder.pk).delete()
    # The first worker's provider takes half a minute: it is killed in the middle of the send.
    workers = Processes(tmp_path, sms_log, 30.0)
    try:
        workers.start("doomed")
        workers.wait_ready("doomed")
        workers.sweep("doomed")
        wait_for(
            lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENDING,
            DONE_SECONDS,
            lambda: f"the reminder was never claimed:\n{workers.output()}",
        )

        workers.kill("doomed")

        leased = Reminder.objects.get(pk=reminder.pk)
        assert leased.status == ReminderStatus.SENDING, "not lost: still leased"
        assert log_lines(sms_log) == []
        workers.env["REMINDER_SMS_CONSOLE_DELAY"] = "0"
        workers.start("restarted")
        workers.wait_ready("restarted")
        wait_out_leases()
        workers.sweep("restarted")
        wait_for(
            lambda: sent_count() == 1,
            DONE_SECONDS,
            lambda: f"the reminder was not sent again:\n{workers.output()}",
        )
    finally:
        workers.kill_all()
        workers.forget_unacknowledged()

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert (reminder.attempts, reminder.unknown_outcomes) == (2, 1)
    [line] = log_lines(sms_log)
    assert line["key"].startswith(f"p{reminder.practice_id}:{reminder.dedupe_key}:")
    assert reminder.provider_message_id == line["id"]
