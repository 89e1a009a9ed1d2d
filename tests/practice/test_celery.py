from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from practice.celery import app
from practice.tasks import ping

pytestmark = pytest.mark.redis


def test_a_task_round_trips_through_real_redis_and_a_real_worker() -> None:
    assert app.conf.broker_url.startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=False):
        result = ping.delay()
        assert result.get(timeout=20) == "pong"


def test_celery_holds_no_unacknowledged_sweep_and_never_gives_up_on_the_broker() -> None:
    # R22: the work is in the outbox; an unacknowledged task makes a worker exit when Redis
    # goes away (see practice/settings.py and tests/sessions/test_workers_broker.py).
    assert app.conf.task_acks_late is False
    assert app.conf.broker_connection_max_retries is None
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    options = app.conf.broker_transport_options
    assert options["visibility_timeout"] <= 60
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] == 1
