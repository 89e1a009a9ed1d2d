"""Which practice a request acts for: the one place that decides it.

A staff member or patient of one practice acts for that practice. A user of several practices
names one: with the `X-Practice` header (its slug) in the API, or with the slug in the
portal's URL. Everything reachable from a request is then scoped with `for_practice()`.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.request import Request

from practice.models import Membership, Practice, User

PRACTICE_HEADER = "X-Practice"
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


class SignedInRequest(HttpRequest):
    """A page's request behind `login_required`: for type checking only (views receive
    Django's own request, whose user is then never anonymous)."""

    user: User


class PracticeRequest(SignedInRequest):
    """A page's request once `practice.web.practice_page` has resolved its practice: for type
    checking only (views receive Django's own request, with these attributes set)."""

    practice: Practice
    membership: Membership


class PracticeAPIRequest(Request):
    """An API request once `practice.permissions` has resolved its practice (for typing)."""

    practice: Practice
    membership: Membership
    user: User


class PracticeNotChosen(Exception):
    """The user belongs to several practices and did not say which one."""


class NotAMember(Exception):
    """The user is not a member of the practice named (or of any)."""


# Where a request's authentication leaves the memberships it loaded together with the user, so
# resolving the practice needs no second query. It lives on the user instance, which is loaded
# afresh for every request: a removed membership is never served from here on the next one.
LOADED_MEMBERSHIPS = "_practice_memberships"


def memberships_named(practice_slug: str | None) -> QuerySet[Membership]:
    """The active users' memberships, in the practice named when there is a name. A name no
    practice could have (a header is whatever the client sends, NUL bytes included) names
    none, without asking the database."""
    memberships = Membership.objects.select_related("practice__settings").filter(
        user__is_active=True
    )
    if practice_slug:
        if not SLUG.fullmatch(practice_slug):
            return memberships.none()
        memberships = memberships.filter(practice__slug=practice_slug)
    return memberships


def remember_memberships(user: User, practice_slug: str | None, found: list[Membership]) -> None:
    """Keep `found` (at most two of `memberships_named(practice_slug)` for `user`) on the user
    for `membership_for`."""
    setattr(user, LOADED_MEMBERSHIPS, (practice_slug, found))


def membership_for(user: User, practice_slug: str | None) -> Membership:
    loaded = getattr(user, LOADED_MEMBERSHIPS, None)
    if loaded is not None and loaded[0] == practice_slug:
        found: list[Membership] = loaded[1]
    else:
        found = list(memberships_named(practice_slug).filter(user=user)[:2])
    if practice_slug:
        if not found:
            # The same answer whether the practice exists or not: nothing leaks about others.
            raise NotAMember(
                _("You are not a member of practice “%(slug)s”.") % {"slug": practice_slug}
            )
        return found[0]
    if not found:
        raise NotAMember(_("You are not a member of any practice."))
    if len(found) > 1:
        raise PracticeNotChosen(
            _("You belong to several practices: name one with the %(header)s header.")
            % {"header": PRACTICE_HEADER}
        )
    return found[0]
