"""iCalendar (RFC 5545) files for sessions: one event attached to a booking email, or a feed of
many for the patient portal. Built from plain values (`CalendarEvent`), no model needed.

Times are written in UTC with "Z" (R24: stored in UTC; the calendar app shows them in the
reader's zone). The UID is stable per session and SEQUENCE follows the session's schedule
version, so a calendar that imported the booking updates the same event when it moves.

Setting read here: `ICS_UID_DOMAIN` (str, default "massage-practice.invalid"), the right-hand
side of every UID; set it to the site's domain so UIDs are globally unique.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from practice.models import Practice
from sessions.reminders.channels import Attachment

# For an email attachment Django adds the charset itself (a second one would be duplicated);
# an HTTP response for the feed needs it spelled out.
ICS_MIMETYPE = "text/calendar"
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
ICS_FILENAME = "session.ics"
PRODID = "-//Massage Practice//Sessions//EN"
DEFAULT_UID_DOMAIN = "massage-practice.invalid"
CRLF = "\r\n"
# RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
MAX_LINE_OCTETS = 75


class EventStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    # The session's schedule version, minus one: RFC 5545 sequences start at 0.
    sequence: int = 0
    # A cancelled session stays in a feed as CANCELLED, so subscribed calendars drop it.
    status: EventStatus = EventStatus.CONFIRMED

    def __post_init__(self) -> None:
        for name in ("starts_at", "ends_at"):
            if timezone.is_naive(getattr(self, name)):
                raise ValueError(f"{name} must be an aware datetime (R24).")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at.")
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError("A UID is one non-empty line.")


def practice_location(practice: Practice) -> str:
    """An event's LOCATION: the practice's name and address, so a calendar app can map it."""
    return ", ".join(part for part in (practice.name, practice.settings.address_line) if part)


def session_uid(session_id: int, *, domain: str | None = None) -> str:
    """The UID of a session's event: the same on every email and in every feed."""
    domain = domain or getattr(settings, "ICS_UID_DOMAIN", DEFAULT_UID_DOMAIN)
    return f"session-{session_id}@{domain}"


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, semicolon and comma escaped, line breaks as \\n, and
    control characters other than tab dropped (TEXT may not hold them; some readers choke)."""
    value = "".join(c for c in value if c in "\t\r\n" or unicodedata.category(c) != "Cc")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold one content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current = ""
    size = 0
    limit = MAX_LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append(current)
            # A continuation line starts with one space, which counts toward its 75 octets.
            current, size, limit = " ", 1, MAX_LINE_OCTETS
        current += char
        size += octets
    parts.append(current)
    return CRLF.join(parts)


def format_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: CalendarEvent, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{format_utc(event.starts_at)}",
        f"DTEND:{format_utc(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{event.status}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines.append("END:VEVENT")
    return lines


def build_calendar(
    events: Iterable[CalendarEvent],
    *,
    calendar_name: str = "",
    now: datetime | None = None,
) -> str:
    """A VCALENDAR holding `events`, with CRLF line endings and folded lines.

    `now` is the DTSTAMP (default: the current time); pass it for reproducible output.
    """
    stamp = format_utc(now or timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append("METHOD:PUBLISH")
    if calendar_name:
        # NAME is RFC 7986; X-WR-CALNAME is what Apple and Google calendars read.
        lines += [
            f"NAME:{escape_text(calendar_name)}",
            f"X-WR-CALNAME:{escape_text(calendar_name)}",
        ]
    for event in events:
        lines += _event_lines(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def session_ics(event: CalendarEvent, *, now: datetime | None = None) -> str:
    """The .ics attached to a booking confirmation: one event."""
    return build_calendar([event], now=now)


def calendar_feed(
    events: Iterable[CalendarEvent], *, calendar_name: str, now: datetime | None = None
) -> str:
    """A subscribable feed of many events (the portal's calendar)."""
    return build_calendar(events, calendar_name=calendar_name, now=now)


def booking_attachment(event: CalendarEvent, *, now: datetime | None = None) -> Attachment:
    """The booking confirmation's .ics attachment, for `OutgoingMessage.attachments`."""
    return Attachment(ICS_FILENAME, session_ics(event, now=now), ICS_MIMETYPE)
