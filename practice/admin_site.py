"""The admin is the manager's back office: a manager enters it through their membership
(no `is_staff` flag needed) and sees only the practices they manage; a superuser sees all."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from practice.models import Role


def managed_practice_ids(request: HttpRequest) -> frozenset[int]:
    """The practices this user manages, looked up once per request."""
    cached = getattr(request, "_managed_practice_ids", None)
    if cached is None:
        user = request.user
        cached = frozenset(
            user.memberships.filter(role=Role.MANAGER).values_list("practice_id", flat=True)
            if user.is_authenticated and user.is_active
            else ()
        )
        request._managed_practice_ids = cached
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


class PracticeAdminSite(admin.AdminSite):
    site_header = _("Massage practice")
    site_title = _("Massage practice admin")
    index_title = _("Back office")
    login_form = ManagerAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request)
