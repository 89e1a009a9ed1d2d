"""Helpers for tests of server-rendered pages."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.test import Client

from practice.models import User
from practice.second_factor import PENDING, VERIFIED
from practice.session_guards import IDLE_SECONDS


def logged_in(
    user: User,
    *,
    enforce_csrf_checks: bool = False,
    second_factor: bool = True,
    idle_limit: bool = False,
) -> Client:
    """A test client with `user` logged in (checking CSRF tokens as browsers send them only
    when asked: Django's test client skips the check by default), having given the code of
    their second factor unless `second_factor` is False (as if they had set one up: managers
    may reach no staff page without). Without `idle_limit` a staff session does not end when
    idle: tests move the clock by hours between two requests (the limit has its own tests,
    tests/practice/test_session_guards.py)."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    session = client.session
    if second_factor:
        session.pop(PENDING, None)
        session[VERIFIED] = True
    if not idle_limit:
        session.pop(IDLE_SECONDS, None)
    session.save()
    return client


def text(response: HttpResponse) -> str:
    return response.content.decode()


def field_errors(html: str, name: str) -> str:
    """The error block rendered next to field `name` (empty when there is none)."""
    found = re.search(rf'id="id_{name}_errors"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""
