"""Who acts, from where: the request's actor, kept for the audit trail.

`AuditContextMiddleware` opens a context per request (IP address, user agent, the request's
user); the practice is bound once a page or the API has resolved it (`bind_practice`). Reads
are recorded from this context by `practice.audit.services`. On PostgreSQL the middleware also
hands the actor to the database triggers that capture writes: each INSERT, UPDATE or DELETE of
the request is prefixed with a transaction-local `set_config('audit.actor', ...)`, so the
trigger fired by that very statement sees it, and no extra round trip is made.

Read entries are many (one per patient record served) and each commits on its own. Waiting
for the disk to flush each one cost more than the rest of a record's request (about 3 ms on a
plain disk, against a 4 ms bare DRF request), so a read entry written outside a transaction
commits without waiting for the flush (`synchronous_commit` off for that statement alone,
`commit_without_waiting`): a crash of the database server may lose the read entries of its
last fraction of a second (at most three `wal_writer_delay`s), never a write or a write's
entry, and never leaves the trail inconsistent.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

ACTOR_SETTING = "audit.actor"
_WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Actor:
    ip: str | None = None
    user_agent: str = ""
    request: HttpRequest | None = None
    practice_id: int | None = None

    @property
    def user_id(self) -> int | None:
        user = getattr(self.request, "user", None)
        # Only a user already loaded: resolving a lazy one here would add a query to whatever
        # statement is being executed.
        if user is None or getattr(user, "_wrapped", None) is empty:
            return None
        return user.pk if user.is_authenticated else None

    def as_setting(self) -> str:
        return json.dumps(
            {
                "user": self.user_id,
                "practice": self.practice_id,
                "ip": self.ip,
                "ua": self.user_agent,
            }
        )


_current: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_without_waiting: ContextVar[bool] = ContextVar("audit_commit_without_waiting", default=False)


def current() -> Actor | None:
    return _current.get()


def bind_practice(practice_id: int) -> None:
    """The practice the current request acts for, once it is known."""
    actor = _current.get()
    if actor is not None:
        actor.practice_id = practice_id


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Run a block (a request) as `actor`."""
    token = _current.set(actor)
    try:
        if connection.vendor == "postgresql":
            with connection.execute_wrapper(_tell_the_database):
                yield actor
        else:
            yield actor
    finally:
        _current.reset(token)


@contextmanager
def commit_without_waiting() -> Iterator[None]:
    """Writes in the block that commit on their own (outside a transaction) do not wait for
    the disk flush: for read entries only (see the module's docstring)."""
    token = _without_waiting.set(True)
    try:
        yield
    finally:
        _without_waiting.reset(token)


def _tell_the_database(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    actor = _current.get()
    cursor = context["cursor"]
    if (
        actor is None
        or many
        or not isinstance(sql, str)
        or not sql.lstrip()[:6].upper().startswith(_WRITES)
        or getattr(cursor, "name", None)  # a named (server-side) cursor only reads
    ):
        return execute(sql, params, many, context)
    # A quoted literal rather than a parameter: the statement may have none. Quotes are doubled
    # for SQL (standard_conforming_strings is on) and % for the driver when it substitutes.
    literal = "'" + actor.as_setting().replace("'", "''") + "'"
    if params is not None:
        literal = literal.replace("%", "%%")
    settings_sql = f"SELECT set_config('{ACTOR_SETTING}', {literal}, true); "
    # Transaction-local, and this statement is its own transaction: a transaction the block
    # runs inside may hold writes, whose commit must wait.
    if _without_waiting.get() and not context["connection"].in_atomic_block:
        settings_sql += "SELECT set_config('synchronous_commit', 'off', true); "
    result = execute(settings_sql + sql, params, many, context)
    # psycopg 3 stays on the first result (the SELECT); the caller wants the statement's own.
    while result is not None and result.nextset():
        pass
    return result


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the API's rate limit counts it: NUM_PROXIES hops from the end
    of X-Forwarded-For behind our own proxies, REMOTE_ADDR when the app is exposed directly."""
    proxies = int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = request.META.get("REMOTE_ADDR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(proxies, len(hops))]
    # Whatever a client sent is kept only if it is an address (the column is typed).
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = Actor(
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            request=request,
        )
        with acting(actor):
            return self.get_response(request)
