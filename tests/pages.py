"""Helpers for tests of server-rendered pages."""

from __future__ import annotations

import re

from django.http import HttpResponse


def text(response: HttpResponse) -> str:
    return response.content.decode()


def field_errors(html: str, name: str) -> str:
    """The error block rendered next to field `name` (empty when there is none)."""
    found = re.search(rf'id="id_{name}_errors"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""
