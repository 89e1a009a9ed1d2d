"""iCalendar files for sessions (RFC 5545): pure, no database."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.reminders.channels import EmailChannel, OutgoingMessage
from sessions.reminders.ics import (
    ICS_MIMETYPE,
    CalendarEvent,
    EventStatus,
    booking_attachment,
    build_calendar,
    calendar_feed,
    escape_text,
    fold,
    session_ics,
    session_uid,
)

pure = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


def event(**overrides: Any) -> CalendarEvent:
    values: dict[str, Any] = {
        "uid": session_uid(42, domain="linden.example"),
        "starts_at": datetime(2026, 3, 30, 18, 0, tzinfo=BERLIN),
        "ends_at": datetime(2026, 3, 30, 18, 30, tzinfo=BERLIN),
        "summary": "Classical massage with Olga",
        "location": "Linden Massage",
        "description": "Session 2 of 10.\nBring a towel.",
    }
    values.update(overrides)
    return CalendarEvent(**values)


def unfold(ics: str) -> list[str]:
    """Content lines as a reader sees them: CRLF + one space joins a continuation."""
    return ics.replace("\r\n ", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def as_read(text: str) -> str:
    """What a reader gets back: line breaks as \\n, control characters (but tab) gone."""
    text = "".join(c for c in text if c in "\t\r\n" or unicodedata.category(c) != "Cc")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def prop(ics: str, name: str) -> list[str]:
    return [line.split(":", 1)[1] for line in unfold(ics) if line.split(":", 1)[0] == name]


def test_a_booking_file_is_one_calendar_with_one_event() -> None:
    lines = unfold(session_ics(event(), now=NOW))

    assert lines[:4] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Massage Practice//Sessions//EN",
        "CALSCALE:GREGORIAN",
    ]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1


def test_r24_times_are_written_in_utc_with_z() -> None:
    ics = session_ics(event(), now=NOW)

    # 18:00 in Berlin on 30 March 2026 (summer time, UTC+2) is 16:00 UTC.
    assert prop(ics, "DTSTART") == ["20260330T160000Z"]
    assert prop(ics, "DTEND") == ["20260330T163000Z"]
    assert prop(ics, "DTSTAMP") == ["20260320T093000Z"]


def test_r24_a_course_crossing_the_clock_change_keeps_its_local_time() -> None:
    before = event(
        starts_at=datetime(2026, 3, 28, 18, 0, tzinfo=BERLIN),
        ends_at=datetime(2026, 3, 28, 18, 30, tzinfo=BERLIN),
    )

    ics = calendar_feed([before, event()], calendar_name="Anna", now=NOW)

    assert prop(ics, "DTSTART") == ["20260328T170000Z", "20260330T160000Z"]


def test_the_uid_is_stable_per_session(settings: Any) -> None:
    settings.ICS_UID_DOMAIN = "linden.example"

    assert session_uid(42) == "session-42@linden.example"
    first = session_ics(event(uid=session_uid(42)), now=NOW)
    moved = session_ics(
        event(
            uid=session_uid(42),
            starts_at=datetime(2026, 4, 1, 9, 0, tzinfo=BERLIN),
            ends_at=datetime(2026, 4, 1, 9, 30, tzinfo=BERLIN),
            sequence=1,
        ),
        now=NOW + timedelta(days=1),
    )
    assert prop(first, "UID") == prop(moved, "UID") == ["session-42@linden.example"]
    assert prop(moved, "SEQUENCE") == ["1"]
    assert session_uid(43) != session_uid(42)


def test_text_values_are_escaped() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"

    ics = session_ics(event(location="Linden; room 2, 1st floor"), now=NOW)
    assert prop(ics, "LOCATION") == ["Linden\\; room 2\\, 1st floor"]
    assert prop(ics, "DESCRIPTION") == ["Session 2 of 10.\\nBring a towel."]


def test_lines_end_in_crlf_and_fold_at_75_octets() -> None:
    ics = session_ics(event(description="Пожалуйста, примите душ без косметики. " * 5), now=NOW)

    assert ics.endswith("\r\n")
    assert "\n" not in ics.replace("\r\n", "")
    raw_lines = ics.encode("utf-8").split(b"\r\n")[:-1]
    assert max(len(line) for line in raw_lines) <= 75
    assert any(line.startswith(b" ") for line in raw_lines)
    # No line ends inside a Cyrillic letter: each decodes on its own.
    for line in raw_lines:
        line.decode("utf-8")


def test_fold_leaves_short_lines_alone() -> None:
    assert fold("SUMMARY:Short") == "SUMMARY:Short"
    assert fold("X:" + "a" * 73) == "X:" + "a" * 73


@pure
@given(
    summary=st.text(min_size=1, max_size=200),
    description=st.text(max_size=400),
    location=st.text(max_size=100),
)
def test_any_text_survives_escaping_and_folding(
    summary: str, description: str, location: str
) -> None:
    ics = session_ics(event(summary=summary, description=description, location=location), now=NOW)

    raw_lines = ics.encode("utf-8").split(b"\r\n")
    assert raw_lines[-1] == b""
    assert all(len(line) <= 75 for line in raw_lines)
    assert [unescape(v) for v in prop(ics, "SUMMARY")] == [as_read(summary)]
    assert [unescape(v) for v in prop(ics, "DESCRIPTION")] == (
        [as_read(description)] if description else []
    )
    assert prop(ics, "UID") == ["session-42@linden.example"]


def test_a_feed_holds_every_event_and_names_the_calendar() -> None:
    events = [
        event(
            uid=session_uid(n, domain="linden.example"),
            starts_at=datetime(2026, 4, n, 10, 0, tzinfo=BERLIN),
            ends_at=datetime(2026, 4, n, 10, 30, tzinfo=BERLIN),
        )
        for n in range(1, 11)
    ]
    cancelled = event(uid=session_uid(99, domain="linden.example"), status=EventStatus.CANCELLED)

    ics = calendar_feed([*events, cancelled], calendar_name="Anna, Linden", now=NOW)

    assert prop(ics, "X-WR-CALNAME") == ["Anna\\, Linden"]
    assert len(prop(ics, "UID")) == 11
    assert prop(ics, "STATUS").count("CANCELLED") == 1
    assert prop(ics, "METHOD") == ["PUBLISH"]


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    assert unfold(build_calendar([], now=NOW))[-1] == "END:VCALENDAR"


def test_r24_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        event(starts_at=datetime(2026, 3, 30, 18, 0))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("uid", ["", "a\r\nb"])
def test_a_uid_is_one_non_empty_line(uid: str) -> None:
    with pytest.raises(ValueError, match="UID"):
        event(uid=uid)


def test_an_event_ends_after_it_starts() -> None:
    with pytest.raises(ValueError, match="after"):
        event(ends_at=datetime(2026, 3, 30, 17, 0, tzinfo=BERLIN))


def test_r21_a_booking_email_carries_the_event_as_an_ics_attachment(mailoutbox: list) -> None:
    attachment = booking_attachment(event(description="Кабинет 2"), now=NOW)

    EmailChannel().send(
        to="anna@example.org",
        message=OutgoingMessage(subject="Booked", text="See you", attachments=(attachment,)),
    )

    raw = mailoutbox[0].message()
    [part] = [p for p in raw.walk() if p.get_filename() == "session.ics"]
    assert part.get_content_type() == ICS_MIMETYPE
    assert part.get_params().count(("charset", "utf-8")) == 1
    body = part.get_payload(decode=True).decode("utf-8")
    assert "UID:session-42@linden.example" in body
    assert "DESCRIPTION:Кабинет 2" in body
