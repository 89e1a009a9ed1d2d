"""The admin is the manager's back office: a manager enters it through their membership
(no `is_staff` flag needed) and sees only the practices they manage; a superuser sees all."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import TypeVar, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practice.models import PracticeSettings, Role
from practice.second_factor import is_verified
from practice.web import enrolment_redirect

# Where managed_practice_ids() keeps its answer on the request (an attribute of our own).
_MANAGED_PRACTICE_IDS = "_managed_practice_ids"

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def managed_practice_ids(request: HttpRequest) -> frozenset[int]:
    """The practices this user manages, looked up once per request."""
    cached: frozenset[int] | None = getattr(request, _MANAGED_PRACTICE_IDS, None)
    if cached is None:
        user = request.user
        cached = frozenset(
            user.memberships.filter(role=Role.MANAGER).values_list("practice_id", flat=True)
            if user.is_authenticated and user.is_active
            else ()
        )
        setattr(request, _MANAGED_PRACTICE_IDS, cached)
    return cached


def may_use_admin(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and (user.is_superuser or bool(managed_practice_ids(request)))


class ManagerAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the email and password of a practice manager. Both may be case-sensitive."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
        if not (user.is_superuser or user.memberships.filter(role=Role.MANAGER).exists()):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


def managed_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    """The time zone of the practices this user manages, when they share one (R24)."""
    zones = set(
        PracticeSettings.objects.filter(practice__in=managed_practice_ids(request)).values_list(
            "time_zone", flat=True
        )
    )
    return zoneinfo.ZoneInfo(zones.pop()) if len(zones) == 1 else None


class PracticeAdminSite(admin.AdminSite):
    site_header = _("Massage practice")
    site_title = _("Massage practice admin")
    index_title = _("Back office")
    login_form = ManagerAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request)

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def in_practice_zone(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponseBase:
            if may_use_admin(request) and not is_verified(request):
                # ASVS 2.8: the back office only after setting up a second factor.
                return enrolment_redirect(request)
            zone = managed_zone(request) if request.user.is_authenticated else None
            with timezone.override(zone):
                return guarded(request, *args, **kwargs)

        # Called exactly as `view` is (AdminSite.admin_view promises the view's own type).
        return cast(_View, in_practice_zone)
