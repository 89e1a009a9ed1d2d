from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "practice"
    verbose_name = _("Practice")
    default_auto_field = "django.db.models.BigAutoField"


class PracticeAdminConfig(admin_apps.AdminConfig):
    """The admin with the manager-aware site of practice.admin_site."""

    default = False
    default_site = "practice.admin_site.PracticeAdminSite"
