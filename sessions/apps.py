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
        from sessions.waitlist.courses import waitlist_course_plan
        from sessions.waitlist.offers import waitlist_course_planner_set

        # The waitlist sits below booking, yet offering a whole course needs booking's course
        # planning: handed to it here rather than imported upward.
        waitlist_course_planner_set(waitlist_course_plan)
