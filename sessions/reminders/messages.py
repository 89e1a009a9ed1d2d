"""Reminder texts (R21): subject, plain text, HTML and SMS, rendered from
`sessions/templates/sessions/reminders/` in the practice's language and time zone (R24).

`render_reminder()` takes the language and the zone as required arguments and renders inside
`translation.override()` and `timezone.override()`, so no caller can send a Berlin practice's
patients times in UTC, or a Russian practice's in English. Pass datetimes aware (UTC from
the database is right); the templates show them in the zone given. Dates use the language's
DATE_FORMAT; times are 24-hour "H:i" everywhere, because English's localised TIME_FORMAT
("6 p.m.") runs into the sentence's full stop, and the practices' locales read 18:00 anyway.

Context keys by kind (`REQUIRED_KEYS`); optional for every kind: `practice_address`,
`practice_phone`, `manage_url`, the session's links `confirm_url`, `cancel_url` and (SMS)
`reply_url` (`sessions.reminders.links`), for `course_next_due` the proposed
`massage_type_name`, and for a `waitlist_offer` of a whole course its `course_sessions` and
`course_cadence`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any, NamedTuple

from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

TEMPLATE_DIR = "sessions/reminders"


class ReminderKind(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
    # The hours before are the practice's settings (24 and 2 by default), not part of the kind.
    FIRST_REMINDER = "first_reminder", _("Reminder before the session (24 h)")
    SECOND_REMINDER = "second_reminder", _("Reminder before the session (2 h)")
    COURSE_NEXT_SESSION = "course_next_session", _("Next session of the course")
    COURSE_NEXT_DUE = "course_next_due", _("Next course due")
    SCREENING_EXPIRING = "screening_expiring", _("Screening expiring")
    # Change notices: the practice moved or cancelled the session (not the patient).
    SESSION_MOVED = "session_moved", _("Session moved by the practice")
    SESSION_CANCELLED = "session_cancelled", _("Session cancelled by the practice")
    COURSE_CANCELLED = "course_cancelled", _("Course cancelled by the practice")
    # A freed time offered to a patient on the waitlist, with its signed claim link.
    WAITLIST_OFFER = "waitlist_offer", _("Waitlist offer")
    # A document for the patient from an app above sessions (an invoice, a receipt): what it
    # is, its amount and its link are fixed in the row's details when it is queued.
    DOCUMENT_ISSUED = "document_issued", _("Document issued")


_COMMON = frozenset({"patient_name", "practice_name"})
_SESSION = _COMMON | {"starts_at", "therapist_name", "massage_type_name"}

REQUIRED_KEYS: Mapping[str, frozenset[str]] = {
    ReminderKind.BOOKING_CONFIRMATION: _SESSION,
    ReminderKind.FIRST_REMINDER: _SESSION,
    ReminderKind.SECOND_REMINDER: _SESSION,
    ReminderKind.COURSE_NEXT_SESSION: _COMMON | {"starts_at", "session_number", "sessions_total"},
    ReminderKind.COURSE_NEXT_DUE: _COMMON | {"due_on"},
    ReminderKind.SCREENING_EXPIRING: _COMMON | {"starts_at", "expires_on"},
    ReminderKind.SESSION_MOVED: _SESSION | {"previous_starts_at"},
    ReminderKind.SESSION_CANCELLED: _SESSION,
    ReminderKind.COURSE_CANCELLED: _COMMON
    | {"therapist_name", "massage_type_name", "sessions_cancelled"},
    ReminderKind.WAITLIST_OFFER: _SESSION | {"expires_at", "claim_url"},
    ReminderKind.DOCUMENT_ISSUED: _COMMON | {"document_title", "document_amount", "document_url"},
}


class RenderedReminder(NamedTuple):
    subject: str
    text: str
    html: str
    sms_text: str


def _one_line(value: str) -> str:
    # A subject or an SMS is one line; a newline in a subject is a header injection to Django.
    return " ".join(value.split())


def _tidy_text(value: str) -> str:
    # Template tags leave blank lines behind; keep at most one between paragraphs.
    lines = [line.strip() for line in value.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _check_context(kind: ReminderKind, context: Mapping[str, Any]) -> None:
    missing = sorted(key for key in REQUIRED_KEYS[kind] if context.get(key) in (None, ""))
    if missing:
        raise ValueError(f"{kind} reminder needs {', '.join(missing)}.")
    for key, value in context.items():
        # A naive datetime would be shown as if it were in the practice's zone: wrong by hours.
        if isinstance(value, datetime) and timezone.is_naive(value):
            raise ValueError(f"{key} must be an aware datetime (R24).")
        if key.endswith("_on") and value is not None and not isinstance(value, date):
            raise ValueError(f"{key} must be a date.")


def render_reminder(
    kind: ReminderKind | str,
    context: Mapping[str, Any],
    *,
    language: str,
    time_zone: str | tzinfo,
) -> RenderedReminder:
    """Subject, plain text, HTML and SMS text of one reminder, in `language` and `time_zone`.

    Raises ValueError for an unknown kind, a missing context key or a naive datetime, and
    LookupError for a language the site does not offer.
    """
    kind = ReminderKind(kind)
    _check_context(kind, context)
    language = translation.get_supported_language_variant(language)
    with translation.override(language), timezone.override(time_zone):
        subject = _one_line(render_to_string(f"{TEMPLATE_DIR}/{kind}_subject.txt", context))
        values = {**context, "subject": subject}
        text = _tidy_text(render_to_string(f"{TEMPLATE_DIR}/{kind}.txt", values))
        html = render_to_string(f"{TEMPLATE_DIR}/{kind}.html", values)
        sms_text = _one_line(render_to_string(f"{TEMPLATE_DIR}/{kind}_sms.txt", values))
    return RenderedReminder(subject=subject, text=text, html=html, sms_text=sms_text)
