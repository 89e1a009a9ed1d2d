"""Role-based permissions for the API, resolving the request's practice on the way.

Every API view lists one of these. The first permission check resolves the practice and the
user's membership in it (`practice.tenancy`) and keeps them on the request as
`request.practice` and `request.membership`, so views scope querysets without repeating it.
"""

from __future__ import annotations

import zoneinfo
from typing import cast

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from practice.audit.context import bind_practice
from practice.models import STAFF_ROLES, Membership, Role
from practice.tenancy import (
    PRACTICE_HEADER,
    NotAMember,
    PracticeAPIRequest,
    PracticeNotChosen,
    membership_for,
)


def practice_request(request: Request) -> PracticeAPIRequest:
    """`request` with its practice and membership: resolved by the view's first permission
    check, or here for a view that reads them first (the user must be signed in)."""
    # The attributes that make this a PracticeAPIRequest are set below when still missing.
    resolved = cast(PracticeAPIRequest, request)
    if getattr(request, "membership", None) is None:
        try:
            membership = membership_for(resolved.user, request.headers.get(PRACTICE_HEADER))
        except PracticeNotChosen as exc:
            raise exceptions.ValidationError({PRACTICE_HEADER: [str(exc)]}) from exc
        except NotAMember as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        resolved.membership = membership
        resolved.practice = membership.practice
        bind_practice(membership.practice_id)
        timezone.activate(zoneinfo.ZoneInfo(membership.practice.settings.time_zone))
    return resolved


def request_membership(request: Request) -> Membership:
    return practice_request(request).membership


class PracticeRole(permissions.BasePermission):
    """A member of the request's practice with one of `roles` (any role when empty)."""

    roles: frozenset[str] = frozenset()

    def has_permission(self, request: Request, view: object) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        membership = request_membership(request)
        return not self.roles or membership.role in self.roles


class IsPracticeMember(PracticeRole):
    pass


class IsStaff(PracticeRole):
    message = _("Only the practice's staff may do this.")
    roles = STAFF_ROLES


class IsManager(PracticeRole):
    message = _("Only a manager of the practice may do this.")
    roles = frozenset({Role.MANAGER})


class IsPatient(PracticeRole):
    message = _("Only patients may do this.")
    roles = frozenset({Role.PATIENT})


class StaffOrReadOnlyPatient(PracticeRole):
    """Staff do anything the view offers; a patient may only read (their own rows)."""

    def has_permission(self, request: Request, view: object) -> bool:
        if not super().has_permission(request, view):
            return False
        membership = request_membership(request)  # resolved by the check above
        return membership.is_staff_role or request.method in permissions.SAFE_METHODS
