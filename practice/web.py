"""Web pages under /p/<practice_slug>/: which practice a page acts for, and who may see it.

The slug in the URL names the practice (a user may belong to several); the user's membership
in it decides the role. A page of a practice the user does not belong to is a 404, so nothing
tells an outsider that it exists.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

from practice.audit.context import bind_practice
from practice.models import STAFF_ROLES, Role
from practice.second_factor import is_verified, membership_requires_second_factor
from practice.tenancy import NotAMember, PracticeRequest, membership_for

P = ParamSpec("P")

PracticeView = Callable[Concatenate[PracticeRequest, P], HttpResponseBase]
"""A page of one practice: it reads `request.practice` and `request.membership`."""

View = Callable[..., HttpResponseBase]
"""What the URLconf calls: Django's request and the URL's keyword arguments."""


def enrolment_redirect(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('second-factor-enrol')}?{query}")


def practice_page(*roles: str) -> Callable[[PracticeView[P]], View]:
    """Views of one practice, for members with one of `roles`; they get `request.practice`
    and `request.membership`, and the page is shown in the practice's time zone (R24)."""

    def decorator(view: PracticeView[P]) -> View:
        @login_required
        @wraps(view)
        def wrapped(
            request: HttpRequest, practice_slug: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            # login_required let only a signed-in user through, and the attributes that make
            # this a PracticeRequest are set just below.
            page_request = cast(PracticeRequest, request)
            try:
                membership = membership_for(page_request.user, practice_slug)
            except NotAMember as exc:
                raise Http404(str(exc)) from exc
            if roles and membership.role not in roles:
                raise PermissionDenied
            if membership_requires_second_factor(membership) and not is_verified(request):
                # ASVS 2.8: set up the second factor first (a user who has one gave its code
                # at sign-in: practice.session_guards holds the session until then).
                return enrolment_redirect(request)
            page_request.membership = membership
            page_request.practice = membership.practice
            bind_practice(membership.practice_id)
            timezone.activate(zoneinfo.ZoneInfo(membership.practice.settings.time_zone))
            return view(page_request, *args, **kwargs)

        return wrapped

    return decorator


staff_page = practice_page(*STAFF_ROLES)
# The desk's work (registering patients), which managers do too; `Membership.runs_the_desk`.
desk_page = practice_page(Role.MANAGER, Role.FRONT_DESK)
patient_page = practice_page(Role.PATIENT)
