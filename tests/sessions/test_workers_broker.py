"""R22 across a broker restart: a real worker and beat on a Redis of the test's own, which is
stopped (gracefully, or killed) and started again empty while the worker sweeps due reminders.
Every reminder must still be sent exactly once, and neither process may exit. (With
CELERY_TASK_ACKS_LATE on, the worker exited here in three runs out of four: see
practice/settings.py.)"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.sessions.workers import (
    COMPOSE,
    DONE_SECONDS,
    SOLO,
    Processes,
    RedisServer,
    assert_each_sent_exactly_once,
    due_reminders,
    log_lines,
    sent_count,
    wait_for,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # The worker and beat are other processes and read the real clock (see test_workers.py).
    pytest.mark.real_clock,
]

OUTAGE_SECONDS = 3


@pytest.mark.parametrize(
    ("stop", "options"),
    [
        pytest.param(signal.SIGTERM, COMPOSE, id="graceful-restart-compose-worker"),
        pytest.param(signal.SIGKILL, SOLO, id="crash-solo-worker"),
    ],
)
def test_r22_a_redis_restart_mid_sweep_neither_loses_nor_duplicates_nor_stops_a_worker(
    tmp_path: Path, redis_server: RedisServer, stop: signal.Signals, options: tuple[str, ...]
) -> None:
    reminders = due_reminders(300)
    sms_log = tmp_path / "sms.jsonl"
    celery = Processes(
        tmp_path,
        sms_log,
        0.03,
        CELERY_BROKER_URL=redis_server.url(1),
        REDIS_URL=redis_server.url(0),
        REMINDER_DISPATCH_INTERVAL="2",
    )
    try:
        worker = celery.start("worker", own_queue=False, options=options)
        beat = celery.start_beat("beat")

        def exited() -> bool:
            return worker.poll() is not None or beat.poll() is not None

        wait_for(
            lambda: len(log_lines(sms_log)) >= 40,
            DONE_SECONDS,
            lambda: f"the worker sent {len(log_lines(sms_log))}:\n{celery.output()}",
        )

        redis_server.stop(stop)
        time.sleep(OUTAGE_SECONDS)
        redis_server.start()

        wait_for(
            lambda: sent_count() == 300 or exited(),
            DONE_SECONDS,
            lambda: f"{sent_count()} of 300 sent after the restart:\n{celery.output()}",
        )
        # Due once the sweep under way has ended: only a sweep that beat sends to the new
        # broker, and the worker takes from it, sends them.
        time.sleep(1)
        reminders += due_reminders(100)
        wait_for(
            lambda: sent_count() == 400 or exited(),
            DONE_SECONDS,
            lambda: f"{sent_count()} of 400 sent after the restart:\n{celery.output()}",
        )
        assert worker.poll() is None, f"the worker exited:\n{celery.output()}"
        assert beat.poll() is None, f"beat exited:\n{celery.output()}"
    finally:
        celery.kill_all()
    assert_each_sent_exactly_once(reminders, sms_log)
