from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patients import lookups  # noqa: F401  (registers __ilike_contains)
