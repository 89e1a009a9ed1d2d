"""Which practice a request acts for: the one place that decides it.

A staff member or patient of one practice acts for that practice. A user of several practices
names one: with the `X-Practice` header (its slug) in the API, or with the slug in the
portal's URL. Everything reachable from a request is then scoped with `for_practice()`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from practice.models import Membership, User

PRACTICE_HEADER = "X-Practice"


class PracticeNotChosen(Exception):
    """The user belongs to several practices and did not say which one."""


class NotAMember(Exception):
    """The user is not a member of the practice named (or of any)."""


def membership_for(user: User, practice_slug: str | None) -> Membership:
    memberships = Membership.objects.select_related("practice__settings").filter(
        user=user, user__is_active=True
    )
    if practice_slug:
        membership = memberships.filter(practice__slug=practice_slug).first()
        if membership is None:
            # The same answer whether the practice exists or not: nothing leaks about others.
            raise NotAMember(
                _("You are not a member of practice “%(slug)s”.") % {"slug": practice_slug}
            )
        return membership
    found = list(memberships[:2])
    if not found:
        raise NotAMember(_("You are not a member of any practice."))
    if len(found) > 1:
        raise PracticeNotChosen(
            _("You belong to several practices: name one with the %(header)s header.")
            % {"header": PRACTICE_HEADER}
        )
    return found[0]


class PracticeTimeZoneMiddleware:
    """Show pages in the practice's time zone (R24) for a signed-in user of one practice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone_name = self._zone_name(request)
        if zone_name:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _zone_name(request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            membership = membership_for(user, request.headers.get(PRACTICE_HEADER))
        except (NotAMember, PracticeNotChosen):
            return None
        return membership.practice.settings.time_zone
