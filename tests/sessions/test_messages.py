"""Reminder texts (R21) in the practice's language and time zone (R24): no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from sessions.reminders.messages import REQUIRED_KEYS, ReminderKind, render_reminder

STARTS = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)
CONTEXT: dict[str, Any] = {
    "patient_name": "Anna <Schmidt>",
    "practice_name": "Linden",
    "starts_at": STARTS,
    "previous_starts_at": STARTS - timedelta(days=1),
    "therapist_name": "Olga",
    "massage_type_name": "Classical",
    "session_number": 2,
    "sessions_total": 10,
    "sessions_cancelled": 9,
    "due_on": date(2026, 6, 1),
    "expires_on": date(2026, 3, 29),
    "practice_phone": "+49 30 123456",
    "manage_url": "https://linden.example/portal/",
    "expires_at": STARTS - timedelta(hours=2),
    # As long as a signed claim link is.
    "claim_url": "https://linden.example/p/linden/waitlist/offer/12:" + "x" * 43 + "/",
    "document_title": "invoice INV-2026-00001",
    "document_amount": "60.00 EUR",
    "document_url": "https://linden.example/p/linden/me/invoices/",
}


def render(kind: str, language: str = "en", zone: str = "Europe/Berlin", **extra: Any) -> Any:
    return render_reminder(kind, {**CONTEXT, **extra}, language=language, time_zone=zone)


@pytest.mark.parametrize("kind", ReminderKind.values)
def test_r21_every_reminder_kind_renders_subject_text_html_and_sms(kind: str) -> None:
    subject, text, html, sms_text = render(kind)

    assert subject
    assert "\n" not in subject
    assert "\n" not in sms_text
    assert text.startswith("Hello Anna <Schmidt>,")
    assert "Linden" in text
    assert "Phone: +49 30 123456" in text
    assert "https://linden.example/portal/" in text
    assert "Anna &lt;Schmidt&gt;" in html
    assert '<html lang="en">' in html
    assert sms_text.startswith("Linden: ")
    # An SMS fits one 160-character message in English.
    assert len(sms_text) <= 160
    for part in (subject, text, html, sms_text):
        assert "{{" not in part
        assert "{%" not in part
        assert "\n\n\n" not in part


def test_a_waitlist_offer_of_a_course_names_the_course_in_every_part() -> None:
    subject, text, html, sms_text = render(
        ReminderKind.WAITLIST_OFFER, course_sessions=12, course_cadence="Every other day"
    )

    assert subject == "Your course can start: March 30, 2026 at 18:00"
    sentence = "12 Classical massage sessions with Olga, every other day, the first on"
    assert sentence in text
    assert sentence in html
    assert "Book this course" in html
    assert sms_text.startswith("Linden: your course can start 03/30/2026 18:00.")
    assert len(sms_text) <= 160


@pytest.mark.parametrize(
    ("zone", "shown", "not_shown"),
    [
        ("Europe/Berlin", "18:00", "16:00"),
        ("UTC", "16:00", "18:00"),
        ("America/New_York", "12:00", "16:00"),
    ],
)
def test_r24_a_time_is_shown_in_the_zone_passed(zone: str, shown: str, not_shown: str) -> None:
    subject, text, html, sms_text = render(ReminderKind.FIRST_REMINDER, zone=zone)

    for part in (subject, text, html, sms_text):
        assert shown in part
        assert not_shown not in part


def test_r24_a_zone_object_works_as_well_as_a_name() -> None:
    assert "18:00" in render(ReminderKind.SECOND_REMINDER, zone=ZoneInfo("Europe/Berlin")).sms_text


def test_r24_the_date_is_the_local_date_not_the_utc_one() -> None:
    late = datetime(2026, 3, 30, 23, 30, tzinfo=UTC)

    text = render(ReminderKind.BOOKING_CONFIRMATION, starts_at=late).text

    assert "March 31, 2026 at 01:30" in text


def test_the_language_passed_is_the_language_of_the_reminder() -> None:
    english = render(ReminderKind.BOOKING_CONFIRMATION, language="en")
    russian = render(ReminderKind.BOOKING_CONFIRMATION, language="ru")

    # Django's own Russian catalogue names the month in the genitive.
    assert "30 марта 2026" in russian.text
    assert "марта" not in english.text
    assert "March 30, 2026" in english.text
    assert '<html lang="ru">' in russian.html
    assert "30.03.2026" in russian.sms_text
    assert "03/30/2026" in english.sms_text


def test_rendering_leaves_the_callers_language_and_zone_alone() -> None:
    with translation.override("en"), timezone.override("UTC"):
        render(ReminderKind.FIRST_REMINDER, language="ru", zone="Europe/Berlin")

        assert translation.get_language() == "en"
        assert timezone.get_current_timezone_name() == "UTC"


def test_r13_the_next_session_reminder_asks_to_keep_the_course_going() -> None:
    text = render(ReminderKind.COURSE_NEXT_SESSION).text

    assert "2 of 10" in text
    assert "without interruptions" in text


def test_r11_r12_the_next_course_reminder_gives_the_date_and_proposes_the_type() -> None:
    with_type = render(ReminderKind.COURSE_NEXT_DUE, massage_type_name="Lymphatic drainage")
    without = render(ReminderKind.COURSE_NEXT_DUE, massage_type_name="")

    assert "June 1, 2026" in with_type.text
    assert "We suggest a Lymphatic drainage massage" in with_type.text
    assert "We suggest" in with_type.html
    assert "We suggest" not in without.text
    assert "We suggest" not in without.html


def test_r1_the_screening_reminder_gives_the_expiry_and_the_session() -> None:
    text = render(ReminderKind.SCREENING_EXPIRING).text

    assert "expires on March 29, 2026" in text
    assert "March 30, 2026 at 18:00" in text


def test_optional_contact_details_are_left_out_when_missing() -> None:
    context = {k: v for k, v in CONTEXT.items() if k not in ("practice_phone", "manage_url")}

    _, text, html, _ = render_reminder(
        ReminderKind.BOOKING_CONFIRMATION, context, language="en", time_zone="UTC"
    )

    assert "Phone" not in text
    assert "Phone" not in html
    assert "href" not in html


@pytest.mark.parametrize("kind", ReminderKind.values)
def test_a_missing_context_value_is_refused_by_name(kind: str) -> None:
    for key in REQUIRED_KEYS[kind]:
        context = {k: v for k, v in CONTEXT.items() if k != key}
        with pytest.raises(ValueError, match=key):
            render_reminder(kind, context, language="en", time_zone="UTC")


def test_r24_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        render(ReminderKind.FIRST_REMINDER, starts_at=datetime(2026, 3, 30, 18, 0))  # noqa: DTZ001


def test_an_unknown_kind_or_language_is_refused() -> None:
    with pytest.raises(ValueError, match="carrier_pigeon"):
        render("carrier_pigeon")
    with pytest.raises(LookupError):
        render(ReminderKind.FIRST_REMINDER, language="xx")
