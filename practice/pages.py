"""What every server-rendered page shares: rendering with the notice a redirect asked for,
the status code of a form sent back with errors, and a service's errors shown on a form.

Pages call one service per action and translate what it raises: a `ValidationError` goes next
to the fields it names (`errors_to_form`), a `practice.errors.Conflict` becomes a message
above the form with a 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise


class Notices:
    """What a group of pages may say after a redirect ("?notice=saved"). A fixed list, so no
    text from the URL is ever shown; and not django.contrib.messages: base.html renders those
    as list items in a role="status" list, which axe reports as a serious violation."""

    def __init__(self, messages: Mapping[str, str | Promise]) -> None:
        self.messages = dict(messages)

    def get(self, request: HttpRequest) -> str | Promise | None:
        return self.messages.get(request.GET.get("notice", ""))

    def render(
        self, request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
    ) -> HttpResponse:
        return render(request, template, {**context, "notice": self.get(request)}, status=status)


def redirect_with_notice(url: str, notice: str) -> HttpResponse:
    return redirect(f"{url}?{urlencode({'notice': notice})}")


def form_status(request: HttpRequest, form: forms.BaseForm) -> int:
    """400 for a form sent back with errors, except to htmx, which swaps only 2xx answers in."""
    if form.is_bound and form.errors and not request.headers.get("HX-Request"):
        return 400
    return 200


def errors_to_form(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names, the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)
