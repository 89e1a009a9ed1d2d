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


def test_celery_is_configured_for_redelivery_when_a_worker_dies() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    options = app.conf.broker_transport_options
    assert options["visibility_timeout"] <= 60
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] == 1
