"""Helpers for tests of server-rendered pages."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.test import Client

from practice.models import User


def logged_in(user: User, *, enforce_csrf_checks: bool = False) -> Client:
    """A test client with `user` logged in (checking CSRF tokens as browsers send them only
    when asked: Django's test client skips the check by default)."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


def text(response: HttpResponse) -> str:
    return response.content.decode()


def field_errors(html: str, name: str) -> str:
    """The error block rendered next to field `name` (empty when there is none)."""
    found = re.search(rf'id="id_{name}_errors"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""
