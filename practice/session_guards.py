"""What a signed-in session must still pass on every request: the second factor of a user who
has one (held at the code page until it is given), and the end of a staff session left idle.

Both decide from keys written into the session when the user signs in (the `user_logged_in`
signal), so an ordinary request costs no query for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Min
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from practice.models import STAFF_ROLES, Membership, User
from practice.second_factor import PENDING, VERIFIED, has_second_factor, second_factor_required

# Set at sign-in for a user whose role asks for a second factor: their session may use the
# API (SessionAuthentication) only once verified, as the staff pages check per practice.
REQUIRED = "second_factor_required"

IDLE_SECONDS = "staff_idle_seconds"
LAST_SEEN = "last_seen"
# The last-seen time is written back at most this often: a write per request would cost an
# UPDATE of the session row on every page and every htmx swap.
LAST_SEEN_GRANULARITY = 60


@receiver(user_logged_in)
def remember_sign_in_duties(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    session = request.session
    session.pop(VERIFIED, None)
    session.pop(PENDING, None)
    if has_second_factor(user):
        session[PENDING] = True
    session[REQUIRED] = second_factor_required(user)
    idle_minutes = Membership.objects.filter(user=user, role__in=STAFF_ROLES).aggregate(
        minutes=Min("practice__settings__staff_idle_minutes")
    )["minutes"]
    if idle_minutes is None:
        session.pop(IDLE_SECONDS, None)
    else:
        session[IDLE_SECONDS] = idle_minutes * 60
        session[LAST_SEEN] = int(timezone.now().timestamp())


def _exempt(path: str) -> bool:
    """Pages a session held for its second factor may still reach."""
    return path.startswith(
        (
            reverse("second-factor-verify"),
            reverse("logout"),
            reverse("set_language"),
            "/static/",
            "/favicon.ico",
            "/healthz",
        )
    )


class SecondFactorMiddleware:
    """A session whose user has a second factor and has not given a code yet reaches only the
    code page (and logging out); the API answers it 403, and a session whose user must have a
    second factor but has none yet too (the pages send them to set one up)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.path.startswith("/api/") and (
            session.get(PENDING) or (session.get(REQUIRED) and not session.get(VERIFIED))
        ):
            return JsonResponse(
                {"detail": _("Sign in with your second factor on the website first.")},
                status=403,
            )
        if session.get(PENDING) and not _exempt(request.path):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('second-factor-verify')}?{query}")
        return self.get_response(request)


class StaffIdleTimeoutMiddleware:
    """Ends a staff session after its practice's `staff_idle_minutes` without a request (the
    shortest of the user's practices); sessions of patients only carry no limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        idle_seconds = session.get(IDLE_SECONDS)
        if idle_seconds is not None:
            now = int(timezone.now().timestamp())
            last_seen = session.get(LAST_SEEN, now)
            if now - last_seen > idle_seconds:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Your session ended after a time without activity.")},
                        status=401,
                    )
                query = urlencode({"next": request.get_full_path(), "expired": "1"})
                return HttpResponseRedirect(f"{reverse('login')}?{query}")
            if now - last_seen >= LAST_SEEN_GRANULARITY:
                session[LAST_SEEN] = now
        return self.get_response(request)
