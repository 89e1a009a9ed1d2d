"""The desk's time-grid calendar: a day or a week, with therapists or rooms side by side.

The page itself is a frame: the vendored event calendar (static/vendor/event-calendar) and
static/js/calendar-grid.js draw it from the JSON endpoints of `sessions.api.calendar`, with
everything they need passed in `data-*` attributes (no inline script or style: the site's
Content-Security-Policy allows neither). The list view (`sessions.pages.calendar`) stays the
accessible and phone view, and every action here has its page there too.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.models import SessionStatus
from sessions.pages.calendar import NOTICES, CalendarForm

# Intl locales: the practice's English is British (24-hour clock, day before month).
INTL_LOCALES = {"en": "en-GB", "ru": "ru-RU"}


def _offset(request: PracticeRequest) -> str:
    """The practice's UTC offset now as "+HH:MM", for the grid's now-indicator: the grid
    itself draws the practice's wall-clock readings as they are (R24)."""
    offset = timezone.localtime(timezone.now(), request.practice.zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _labels() -> str:
    return json.dumps(
        {
            "moved": _("The session was moved."),
            "refused": _("The calendar refused this change."),
            "not_free": _("This time is not free: choose a free (green) time to book."),
            "loading_failed": _("The calendar could not be loaded. Use the list view."),
            "open": _("Open the session"),
            "check_in": _("Check in"),
            "start": _("Start the session"),
            "free": _("Free"),
            "working": _("Working hours"),
            "closure": _("Practice closed"),
            "time_off": _("Time off"),
            "screening_needed": _("Screening needed (R1)"),
            "chosen": _("Chosen session"),
            "close": _("Close"),
        }
    )


@staff_page
def calendar_grid(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = CalendarForm(request.GET or None, practice=practice)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    view = "week" if data.get("view") == "week" else "day"
    by = data.get("by") or "therapist"
    day = data.get("date") or timezone.localdate(timezone=practice.zone)
    therapist = data.get("therapist")
    slug = {"practice_slug": practice.slug}
    config = {
        "practice": practice.slug,
        "csrf": get_token(request),
        "view": view,
        "by": by,
        "date": day.isoformat(),
        "therapist": str(therapist.pk) if therapist else "",
        "locale": INTL_LOCALES.get((get_language() or "en")[:2], "en-GB"),
        "offset": _offset(request),
        "zone": practice.settings.time_zone,
        "grid-minutes": str(practice.settings.slot_grid_minutes),
        "resources-url": reverse("v1:calendar-resources"),
        "events-url": reverse("v1:calendar-events"),
        "free-url": reverse("v1:calendar-free"),
        "move-url": reverse("v1:calendar-move", kwargs={"pk": 0}),
        "book-url": reverse("sessions:session-book", kwargs=slug),
        "start-url": reverse("sessions:session-start", kwargs={**slug, "pk": 0}),
        "labels": _labels(),
    }
    here = reverse("sessions:calendar-grid", kwargs=slug)
    listed = reverse("sessions:calendar", kwargs=slug)

    def link(target: str, **query: str) -> str:
        chosen = {"view": view, "by": by, "date": day.isoformat(), **query}
        return f"{target}?{urlencode(chosen)}"

    return NOTICES.render(
        request,
        "sessions/calendar_grid.html",
        {
            "config": config,
            "view": view,
            "by": by,
            "day": day,
            "links": {
                "day": link(here, view="day"),
                "week": link(here, view="week"),
                "therapist": link(here, by="therapist"),
                "room": link(here, by="room"),
                "list": link(listed),
            },
            "statuses": SessionStatus.choices,
        },
    )
