from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = _("Practice")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the sign-in receiver that notes a session's second factor and idle limit.
        from practice import session_guards  # noqa: F401


class PracticeAdminConfig(admin_apps.AdminConfig):
    """The admin with the manager-aware site of practice.admin_site."""

    default = False
    default_site = "practice.admin_site.PracticeAdminSite"
