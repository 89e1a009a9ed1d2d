"""Limits on failed sign-ins (django-axes, ASVS 4.0 2.2.1), shared by the web login, the
admin's login and the API's token endpoint: all three sign in through `authenticate()`, which
asks axes' backend first (settings.AUTHENTICATION_BACKENDS).

Attempts are counted by the email tried, whether or not an account has it, so a lock (and its
message) is the same for an unknown address as for a real one: nothing tells which addresses
have accounts.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from practice.models import Membership, Practice, User


def attempted_email(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The address a sign-in tried: `email` from the API and authenticate() calls, `username`
    from Django's login forms, lower-cased so that case does not buy fresh attempts."""
    source: Any = credentials or getattr(request, "data", None) or request.POST
    value = source.get("email") or source.get("username")
    return str(value).strip().lower() if value else None


def client_address(request: HttpRequest) -> str | None:
    """The client as the API's rate limits see it (NUM_PROXIES hops of X-Forwarded-For, or the
    connection's address): one notion of "client" for every limit."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-ins: signing in with this account (or from this device) is locked "
        "for %(minutes)s minutes. A manager of your practice can unlock it sooner."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """What a refused sign-in shows while the lock lasts (axes calls it via its middleware)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(
        request, "registration/locked_out.html", {"message": lockout_message()}, status=429
    )


class NotInPractice(Exception):
    """The account has no membership in the manager's practice."""


def sign_in_unlock(*, practice: Practice, user: User) -> int:
    """A manager lifts the lock on a member of their practice (staff or patient) before the
    cool-off ends; returns how many counted attempts were forgotten."""
    if not Membership.objects.filter(practice=practice, user=user).exists():
        raise NotInPractice
    return axes_reset(username=user.email.lower())


def sign_in_records_forget(*, email: str) -> None:
    """An erased account's sign-in records name it by its email: forget them."""
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=email).delete()
