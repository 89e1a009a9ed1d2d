from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TherapySessionsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label; ours must differ from the first migration.
    label = "therapy_sessions"
    verbose_name = _("Sessions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sessions.reminders import checks  # noqa: F401  (registers the deploy check)
        from sessions.waitlist import reactions  # noqa: F401  (booking announces freed time)
