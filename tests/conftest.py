from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from rest_framework.test import APIClient

from patients.models import Contraindication
from practice.models import Practice, Role, User
from tests.clock import FROZEN_AT
from tests.factories import MembershipFactory, PracticeFactory, UserFactory
from tests.pages import logged_in
from tests.run import answers

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"


def _redis_answers() -> bool:
    if not settings.REDIS_URL:
        return False
    url = urlparse(settings.REDIS_URL)
    return answers(url.hostname or "127.0.0.1", url.port or 6379)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked postgres/redis skip without the server, except in CI, where they fail."""
    unavailable = {
        "postgres": connection.vendor != "postgresql",
        "redis": not _redis_answers(),
        "browser": not Path(CHROMIUM).exists(),
    }
    for marker, missing in unavailable.items():
        needing = [item for item in items if item.get_closest_marker(marker)]
        if not (missing and needing):
            continue
        if IN_CI:
            pytest.exit(
                f"CI=true: {len(needing)} tests need a real {marker}, which is missing.",
                returncode=3,
            )
        for item in needing:
            item.add_marker(
                pytest.mark.skip(reason=f"needs a real {marker}: not configured or not answering")
            )


# Production defaults (DEBUG off) stay on, except what plain-HTTP test servers need: no redirect
# to HTTPS, cookies over HTTP, and static files without a collectstatic manifest. Set here, at
# import, so the session-wide live server starts with them too.
settings.SECURE_SSL_REDIRECT = False
settings.SESSION_COOKIE_SECURE = False
settings.CSRF_COOKIE_SECURE = False
settings.SECURE_HSTS_SECONDS = 0
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Traveller]:
    """Every test starts at FROZEN_AT (see tests/clock.py), or at the moment its
    `clock(moment)` marker names, and time runs on from there (tick=True), so timestamps
    still differ and timeouts still expire. A test moves it with `clock.move_to(moment)` or
    `clock.shift(timedelta(...))`.

    time-machine changes the clock of this process only, threads and the live server's
    included (the database's clock is never read: every timestamp comes from Python). A test
    whose other processes read the time too (real Celery workers, which decide what is due
    by their own clock) is marked `real_clock` and keeps the real one; it must not ask for
    this fixture."""
    if request.node.get_closest_marker("real_clock"):
        yield None  # type: ignore[misc]
        return
    marker = request.node.get_closest_marker("clock")
    with time_machine.travel(marker.args[0] if marker else FROZEN_AT, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()


def default_catalogue() -> None:
    """The shared contraindication catalogue comes from a data migration, and a transactional
    test's flush empties it for the transactional tests after it: load it again with that
    very migration when it is missing. (serialized_rollback clashes with the content types
    other transactional tests recreate.)"""
    if not Contraindication.objects.filter(practice=None).exists():
        migration = importlib.import_module("patients.migrations.0004_default_contraindications")
        migration.load_defaults(django_apps, None)


@pytest.fixture
def practice(db: None) -> Practice:
    default_catalogue()
    return PracticeFactory(name="Linden", slug="linden", time_zone="Europe/Berlin")


@pytest.fixture
def other_practice(db: None) -> Practice:
    default_catalogue()
    return PracticeFactory(name="Harbour", slug="harbour", time_zone="America/New_York")


@pytest.fixture
def member(db: None) -> Callable[..., User]:
    """A user with `role` in `practice`."""

    def make(practice: Practice, role: Role, **user_fields: object) -> User:
        return MembershipFactory(practice=practice, role=role, user=UserFactory(**user_fields)).user

    return make


@pytest.fixture
def desk(practice: Practice, member: Callable[..., User]) -> User:
    return member(practice, Role.FRONT_DESK, email="desk@example.com")


@pytest.fixture
def other_desk(other_practice: Practice, member: Callable[..., User]) -> User:
    return member(other_practice, Role.FRONT_DESK, email="desk@harbour.example.com")


@pytest.fixture
def manager_client(practice: Practice, member: Callable[..., User]) -> Client:
    """A test client logged in as a manager of `practice`."""
    return logged_in(member(practice, Role.MANAGER))


@pytest.fixture
def api_as() -> Callable[[User | None], APIClient]:
    """An API client authenticated as `user` (anonymous when None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI application inside the test's transaction: as Django's test client does,
    requests must not close the connection that holds it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
