from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each module of `reports.kinds` registers its report when imported: a new report
        # (revenue, outstanding balances once billing lands) is one more module there.
        from reports.registry import autodiscover

        autodiscover()
