"""The reminder dispatcher (R21, R22, R24): what it sends, in whose language, zone and name;
what it refuses to send; fairness across practices; retries, failures and resends after a
crash. In-process, against the real database; the real-worker tests are in test_workers.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.db import DatabaseError
from django.utils import timezone

from courses.models import Course
from practice.models import Practice, Role
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.models import Channel, Reminder, ReminderStatus, Session, SessionStatus
from sessions.reminders import dispatch
from sessions.reminders.channels import (
    ConsoleSmsBackend,
    EmailChannel,
    OutgoingMessage,
    SmsBackend,
    SmsChannel,
    TransientDeliveryError,
)
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from sessions.reminders.outbox import (
    next_course_due_remind,
    reminders_after_session_completed,
    reminders_retry,
    screenings_expiring_remind,
)
from sessions.tasks import (
    dispatch_due_reminders,
    remind_expiring_screenings,
    send_due_reminders,
)
from tests.clock import local, today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    PracticeFactory,
    ReminderFactory,
    ScreeningFactory,
    SessionFactory,
)
from tests.pages import logged_in
from tests.sessions.outbox import NOW, TUESDAY, book, book_course, rows
from tests.sessions.test_channels import FakeProvider, Reply, provider  # noqa: F401

# The services are handed NOW; what reads the clock itself sees the same Monday morning.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]

FIRST = ReminderKind.FIRST_REMINDER


@pytest.fixture(autouse=True)
def _empty_sms_log() -> Iterator[None]:
    ConsoleSmsBackend.clear()
    yield
    ConsoleSmsBackend.clear()


def texts_to(number: str) -> list[str]:
    return [sms.text for sms in ConsoleSmsBackend.sent() if sms.to == number]


def test_r21_due_reminders_are_sent_and_marked_sent(practice: Practice, mailoutbox: list) -> None:
    session = book(practice, local(practice, TUESDAY, 10))

    report = reminders_dispatch(now=NOW)

    assert (report.sent, report.retrying, report.failed, report.cancelled) == (2, 0, 0, 0)
    [mail] = mailoutbox
    assert mail.to == [session.patient.email]
    assert "10:00" in mail.body
    [sms] = texts_to(session.patient.phone)
    assert "10:00" in sms
    confirmations = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)
    assert {r.status for r in confirmations} == {ReminderStatus.SENT}
    assert all(r.sent_at and r.provider_message_id and r.attempts == 1 for r in confirmations)
    # The 24 h and 2 h reminders are not due yet.
    assert {r.status for r in rows(session, kind=FIRST)} == {ReminderStatus.PENDING}


def test_r21_the_booking_email_carries_the_session_as_a_calendar_file(
    practice: Practice, mailoutbox: list
) -> None:
    book(practice, local(practice, TUESDAY, 10))

    reminders_dispatch(now=NOW)

    [(filename, content, mimetype)] = mailoutbox[0].attachments
    assert (filename, mimetype) == ("session.ics", "text/calendar")
    assert "DTSTART:20260602T080000Z" in content


def test_r24_each_practice_speaks_its_own_language_zone_and_name(
    practice: Practice, mailoutbox: list
) -> None:
    practice.settings.sender_name = "Linden Massage"
    practice.settings.sender_email = "desk@linden.example"
    practice.settings.save()
    harbour = PracticeFactory(
        name="Harbour", slug="harbour-ru", time_zone="America/New_York", language="ru"
    )
    harbour.settings.sender_email = "hello@harbour.example"
    harbour.settings.save()
    berlin = book(practice, local(practice, TUESDAY, 16))
    # The same instant: 10:00 in New York is 16:00 in Berlin.
    new_york = book(harbour, local(harbour, TUESDAY, 10))
    assert berlin.starts_at == new_york.starts_at

    reminders_dispatch(now=NOW)

    by_address = {mail.to[0]: mail for mail in mailoutbox}
    english = by_address[berlin.patient.email]
    russian = by_address[new_york.patient.email]
    assert english.from_email == "Linden Massage <desk@linden.example>"
    assert "June 2, 2026 at 16:00" in english.body
    assert russian.from_email == "Harbour <hello@harbour.example>"
    assert "2 июня 2026" in russian.body
    assert "10:00" in russian.body
    assert "16:00" not in russian.body
    assert "02.06.2026" in texts_to(new_york.patient.phone)[0]


def test_r22_a_session_moved_after_its_24h_reminder_was_queued_gets_it_at_the_new_time(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    reminders_dispatch(now=NOW)  # the confirmation
    ConsoleSmsBackend.clear()
    old_due = session.starts_at - timedelta(hours=24)
    assert rows(session, kind=FIRST, channel=Channel.SMS)[0].due_at == old_due

    moved = session_reschedule(
        session=session, starts_at=local(practice, TUESDAY + timedelta(days=2), 15), now=NOW
    )
    reminders_dispatch(now=NOW)  # the move's confirmation
    ConsoleSmsBackend.clear()

    at_old_time = reminders_dispatch(now=old_due + timedelta(minutes=1))
    assert at_old_time.sent == 0
    assert texts_to(session.patient.phone) == []

    new_due = moved.starts_at - timedelta(hours=24)
    at_new_time = reminders_dispatch(now=new_due + timedelta(minutes=1))
    assert at_new_time.sent == 2
    [sms] = texts_to(session.patient.phone)
    assert "15:00" in sms
    assert "10:00" not in sms


def test_r22_a_cancelled_session_gets_no_reminder(practice: Practice) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    # The patient's own: a cancel by the practice is told to the patient (R21).
    session_cancel(session=session, by=None, now=NOW, by_patient=True)

    report = reminders_dispatch(now=session.starts_at - timedelta(minutes=90))

    assert report.sent == 0
    assert ConsoleSmsBackend.sent() == []
    assert not Reminder.objects.filter(status=ReminderStatus.SENT).exists()


def test_r22_the_dispatcher_rechecks_the_session_before_sending(practice: Practice) -> None:
    # A move that reached the session but not its reminders (a bug, a hand edit): the
    # dispatcher's own check still refuses the stale row.
    session = book(practice, local(practice, TUESDAY, 10))
    Session.objects.filter(pk=session.pk).update(schedule_version=2)

    report = reminders_dispatch(now=NOW)

    assert (report.sent, report.cancelled) == (0, 2)
    assert ConsoleSmsBackend.sent() == []
    cancelled = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)
    assert {r.last_error for r in cancelled} == {"The session was moved."}


def test_r21_a_reminder_for_a_session_that_has_begun_is_dropped_not_sent_late(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))

    # The dispatcher was down all night: at 10:05 every reminder is overdue.
    report = reminders_dispatch(now=session.starts_at + timedelta(minutes=5))

    assert report.sent == 0
    assert report.cancelled == 6
    assert ConsoleSmsBackend.sent() == []


def test_r21_an_overdue_24h_reminder_is_dropped_once_the_2h_one_is_due(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    reminders_dispatch(now=NOW)
    ConsoleSmsBackend.clear()

    reminders_dispatch(now=session.starts_at - timedelta(minutes=100))

    assert {r.status for r in rows(session, kind=FIRST)} == {ReminderStatus.CANCELLED}
    assert {r.status for r in rows(session, kind=ReminderKind.SECOND_REMINDER)} == {
        ReminderStatus.SENT
    }
    assert len(texts_to(session.patient.phone)) == 1


def test_r21_withdrawn_consent_stops_queued_reminders(practice: Practice) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    type(session.patient).objects.filter(pk=session.patient_id).update(consent_sms=False)

    reminders_dispatch(now=NOW)

    assert ConsoleSmsBackend.sent() == []
    [sms] = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION, channel=Channel.SMS)
    assert sms.status == ReminderStatus.CANCELLED


def test_r21_one_dispatcher_serves_every_practice_fairly(practice: Practice) -> None:
    busy = book(practice, local(practice, TUESDAY, 10))
    quiet_practice = PracticeFactory(name="Quiet", slug="quiet")
    quiet = book(quiet_practice, local(practice, TUESDAY, 10))
    Reminder.objects.all().delete()
    # The busy practice's 300 have waited longer: a plain "oldest first" would send them all
    # before the quiet practice's 3.
    ReminderFactory.create_batch(300, session=busy, due_at=NOW - timedelta(minutes=30))
    ReminderFactory.create_batch(3, session=quiet, due_at=NOW - timedelta(minutes=1))

    # One send at a time, so the provider sees them in the order they were claimed.
    report = reminders_dispatch(now=NOW, batch_size=10, concurrency=1)

    assert report.sent == 303
    assert report.by_practice == {practice.pk: 300, quiet_practice.pk: 3}
    order = [sms.to for sms in ConsoleSmsBackend.sent()]
    quiet_positions = [i for i, to in enumerate(order) if to == quiet.patient.phone]
    # Round one: ten of the busy practice's, then all three of the quiet one's.
    assert quiet_positions == [10, 11, 12]


class FlakySmsBackend(SmsBackend):
    """Fails the first `failures` sends with a transient error, then delivers."""

    failures: ClassVar[int] = 0
    retry_after: ClassVar[float | None] = None
    calls: ClassVar[int] = 0

    def send(self, *, to: str, text: str, sender: str = "", idempotency_key: str = "") -> str:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise TransientDeliveryError("provider busy", retry_after=type(self).retry_after)
        return "flaky-ok"


@pytest.fixture
def flaky(settings: Any) -> Iterator[type[FlakySmsBackend]]:
    settings.REMINDER_SMS_BACKEND = f"{__name__}.FlakySmsBackend"
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    settings.REMINDER_MAX_ATTEMPTS = 3
    FlakySmsBackend.calls = 0
    FlakySmsBackend.retry_after = None
    yield FlakySmsBackend
    FlakySmsBackend.failures = 0


def sms_confirmation(practice: Practice) -> Reminder:
    patient = PatientFactory(practice=practice, consent_sms=True)
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)
    return rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)[0]


def test_r22_a_transient_failure_is_retried_with_exponential_backoff(
    practice: Practice, flaky: type[FlakySmsBackend]
) -> None:
    flaky.failures = 2
    reminder = sms_confirmation(practice)

    reminders_dispatch(now=NOW)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 1)
    assert reminder.send_after == NOW + timedelta(seconds=60)
    assert "provider busy" in reminder.last_error

    assert reminders_dispatch(now=NOW + timedelta(seconds=59)).handled == 0
    reminders_dispatch(now=NOW + timedelta(seconds=60))
    reminder.refresh_from_db()
    assert reminder.send_after == NOW + timedelta(seconds=60 + 120)

    reminders_dispatch(now=NOW + timedelta(seconds=180))
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.last_error) == (
        ReminderStatus.SENT,
        3,
        "",
    )
    assert reminder.provider_message_id == "flaky-ok"


def test_r22_the_providers_retry_after_is_honoured(
    practice: Practice, flaky: type[FlakySmsBackend]
) -> None:
    flaky.failures = 1
    flaky.retry_after = 900
    reminder = sms_confirmation(practice)

    reminders_dispatch(now=NOW)

    reminder.refresh_from_db()
    assert reminder.send_after == NOW + timedelta(seconds=900)


def test_r22_after_the_last_attempt_a_reminder_fails_and_shows_why(
    practice: Practice, flaky: type[FlakySmsBackend]
) -> None:
    flaky.failures = 99
    reminder = sms_confirmation(practice)

    moment = NOW
    for _attempt in range(3):
        reminders_dispatch(now=moment)
        moment += timedelta(hours=1)  # past the backoff, before the 24 h reminder is due

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 3)
    assert "provider busy" in reminder.last_error
    assert reminders_dispatch(now=moment).handled == 0


def test_r22_an_invalid_number_fails_at_once(practice: Practice) -> None:
    patient = PatientFactory(practice=practice, consent_sms=True, phone="12")
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)

    report = reminders_dispatch(now=NOW)

    assert (report.sent, report.failed) == (0, 1)
    [reminder] = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 1)
    assert "Invalid phone number" in reminder.last_error


def test_r22_a_failed_reminder_can_be_retried_and_is_then_sent(practice: Practice) -> None:
    patient = PatientFactory(practice=practice, consent_sms=True, phone="12")
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)
    reminders_dispatch(now=NOW)
    type(patient).objects.filter(pk=patient.pk).update(phone="+4915199887766")

    assert reminders_retry(Reminder.objects.all(), now=NOW) == 1
    reminders_dispatch(now=NOW)

    [reminder] = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)
    assert reminder.status == ReminderStatus.SENT
    assert texts_to("+4915199887766")


def test_r22_the_admin_lists_failed_reminders_and_retries_them(
    practice: Practice, member: Any
) -> None:
    patient = PatientFactory(
        practice=practice,
        consent_sms=True,
        phone="12",
        family_name="Zimmermann",
    )
    book(practice, local(practice, TUESDAY, 10), patient=patient)
    reminders_dispatch(now=NOW)
    [failed] = Reminder.objects.filter(status=ReminderStatus.FAILED)
    client = logged_in(member(practice, Role.MANAGER))

    listing = client.get(
        "/admin/therapy_sessions/reminder/", {"status__exact": "failed", "q": "Zimmer"}
    )
    assert listing.status_code == 200
    assert f"/admin/therapy_sessions/reminder/{failed.pk}/change/" in listing.text
    assert "Invalid phone number" in listing.text

    answer = client.post(
        "/admin/therapy_sessions/reminder/",
        {"action": "retry", "index": 0, "_selected_action": [failed.pk]},
        follow=True,
    )

    assert answer.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (ReminderStatus.PENDING, 0)


def test_r22_another_practices_manager_cannot_see_or_retry_the_reminders(
    practice: Practice, other_practice: Practice, member: Any
) -> None:
    patient = PatientFactory(practice=practice, consent_sms=True, phone="12")
    book(practice, local(practice, TUESDAY, 10), patient=patient)
    reminders_dispatch(now=NOW)
    [failed] = Reminder.objects.filter(status=ReminderStatus.FAILED)
    client = logged_in(member(other_practice, Role.MANAGER))

    listing = client.get("/admin/therapy_sessions/reminder/")
    client.post(
        "/admin/therapy_sessions/reminder/",
        {"action": "retry", "index": 0, "_selected_action": [failed.pk]},
    )

    assert f"/reminder/{failed.pk}/change/" not in listing.text
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.FAILED


# Resends after a crash carry the same idempotency key (R22) -----------------------------------


def test_r22_a_crash_between_sending_and_recording_resends_after_the_lease_with_the_same_key(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.REMINDER_LEASE_SECONDS = 120
    patient = PatientFactory(practice=practice, consent_sms=True)
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)

    def crash(*args: object, **kwargs: object) -> bool:
        raise DatabaseError("the worker died before recording the send")

    monkeypatch.setattr(dispatch, "reminder_record", crash)
    with pytest.raises(DatabaseError):
        reminders_dispatch(now=NOW)
    monkeypatch.undo()
    [reminder] = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)
    # Not lost: still leased to the dead worker, and nobody else's while the lease runs.
    assert reminder.status == ReminderStatus.SENDING
    assert reminder.lease_expires_at is not None
    assert abs(reminder.lease_expires_at - (NOW + timedelta(seconds=120))) < timedelta(seconds=5)
    assert reminders_dispatch(now=NOW + timedelta(seconds=110)).handled == 0

    reminders_dispatch(now=NOW + timedelta(seconds=130))

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert (reminder.attempts, reminder.unknown_outcomes) == (2, 1)
    assert (reminder.lease_owner, reminder.lease_expires_at) == ("", None)
    # The backend saw the message twice under one key and delivered it once.
    [delivered] = ConsoleSmsBackend.sent()
    assert delivered.idempotency_key.startswith(f"p{practice.pk}:session:{session.pk}:v1:")
    assert reminder.provider_message_id == delivered.message_id


def test_r22_a_provider_slower_than_the_timeout_gets_one_message_and_it_never_fails(
    provider: FakeProvider,  # noqa: F811
    settings: Any,
    practice: Practice,
) -> None:
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.HttpSmsBackend"
    settings.REMINDER_SMS_HTTP_URL = provider.url
    settings.REMINDER_SMS_HTTP_TIMEOUT = 0.2
    settings.REMINDER_MAX_ATTEMPTS = 2
    # It takes every message and answers too late, more often than the attempt limit.
    provider.replies += [Reply(delay=0.6)] * 3
    patient = PatientFactory(practice=practice, consent_sms=True)
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)
    [reminder] = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)

    moment = NOW
    for _attempt in range(4):
        reminders_dispatch(now=moment)
        reminder.refresh_from_db()
        assert reminder.status != ReminderStatus.FAILED
        moment += timedelta(hours=1)  # past the backoff, before the 24 h reminder is due

    assert reminder.status == ReminderStatus.SENT
    assert (reminder.attempts, reminder.unknown_outcomes) == (4, 3)
    # One message, by the provider's count: every request carried the same key.
    keys = [request["headers"]["Idempotency-Key"] for request in provider.requests]
    assert len(keys) == 4
    assert len(set(keys)) == 1


def test_r22_the_console_log_file_records_a_resend_once_as_delivered(
    settings: Any, tmp_path: Path
) -> None:
    log = tmp_path / "sms.jsonl"
    settings.REMINDER_SMS_LOG_FILE = str(log)
    message = OutgoingMessage(subject="s", text="t", idempotency_key="p1:session:1:v1:x")

    first = SmsChannel(ConsoleSmsBackend()).send(to="+4915123456789", message=message)
    # Another worker process knows nothing in memory; only the file tells it.
    ConsoleSmsBackend.clear()
    second = SmsChannel(ConsoleSmsBackend()).send(to="+4915123456789", message=message)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert first == second
    assert [line.get("duplicate", False) for line in lines] == [False, True]
    assert ConsoleSmsBackend.sent() == []


def test_r22_an_email_resend_has_the_same_message_id() -> None:
    message = OutgoingMessage(subject="s", text="t", idempotency_key="p1:session:1:v1:x:ab")

    first = EmailChannel().build(to="anna@example.org", message=message)
    second = EmailChannel().build(to="anna@example.org", message=message)
    other = EmailChannel().build(
        to="anna@example.org", message=OutgoingMessage(subject="s", text="t")
    )

    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] != other.extra_headers["Message-ID"]


def test_r22_the_http_sms_backend_sends_the_idempotency_key(
    provider: FakeProvider,  # noqa: F811
    settings: Any,
    practice: Practice,
) -> None:
    settings.REMINDER_SMS_BACKEND = "sessions.reminders.channels.HttpSmsBackend"
    settings.REMINDER_SMS_HTTP_URL = provider.url
    provider.replies.append(Reply(status=503))
    patient = PatientFactory(practice=practice, consent_sms=True)
    book(practice, local(practice, TUESDAY, 10), patient=patient)

    reminders_dispatch(now=NOW)
    reminders_dispatch(now=NOW + timedelta(hours=1))

    keys = [request["headers"]["Idempotency-Key"] for request in provider.requests]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert keys[0].startswith(f"p{practice.pk}:session:")


def chronic_course(practice: Practice, *, preferred: time = time(10)) -> Course:
    patient = PatientFactory(practice=practice, consent_email=True, chronic_plan=True)
    return book_course(practice, patient=patient, preferred_time=preferred)


def test_r21_a_course_confirmation_holds_every_session_and_the_next_course_is_nudged(
    practice: Practice, mailoutbox: list
) -> None:
    course = chronic_course(practice)

    reminders_dispatch(now=NOW)
    [confirmation] = mailoutbox
    [(_name, calendar, _type)] = confirmation.attachments
    assert calendar.count("BEGIN:VEVENT") == 10  # the whole course in one file
    assert "June 2, 2026 at 10:00" in confirmation.body

    Session.objects.filter(course=course).update(status=SessionStatus.COMPLETED)
    # Two weeks before the next course is due, the daily sweep writes the nudge.
    next_course_due_remind(practice=practice, now=local(practice, date(2026, 8, 18), 6))
    nudge = Reminder.objects.get(kind=ReminderKind.COURSE_NEXT_DUE)
    mailoutbox.clear()
    reminders_dispatch(now=nudge.due_at)

    [mail] = mailoutbox
    assert "Sept. 1, 2026" in mail.body  # R11: a quarter after June 2
    assert "Relaxing" in mail.body  # R12: the next type in the rotation


@pytest.mark.parametrize("first_course", [True, False], ids=["first course", "next course"])
def test_r11_a_nudge_is_not_sent_once_the_next_course_is_booked_or_the_plan_ends(
    practice: Practice, first_course: bool
) -> None:
    booking, leaving = (
        PatientFactory(practice=practice, consent_email=True, chronic_plan=True) for _ in range(2)
    )
    if not first_course:
        for patient in (booking, leaving):
            CourseFactory(patient=patient, start_date=date(2026, 3, 1), bare=True)
    next_course_due_remind(practice=practice, now=NOW)
    CourseFactory(patient=booking, start_date=date(2026, 6, 8), bare=True)
    type(leaving).objects.filter(pk=leaving.pk).update(chronic_plan=False)

    report = reminders_dispatch(now=NOW + timedelta(days=1))

    assert (report.sent, report.cancelled) == (0, 2)
    stale = Reminder.objects.filter(kind=ReminderKind.COURSE_NEXT_DUE)
    assert {(r.patient_id, r.status, r.last_error) for r in stale} == {
        (booking.pk, ReminderStatus.CANCELLED, "The next course is booked."),
        (
            leaving.pk,
            ReminderStatus.CANCELLED,
            "The patient is no longer in a chronic/prevention plan.",
        ),
    }


def test_r21_the_next_session_and_screening_reminders_name_their_dates(
    practice: Practice, mailoutbox: list
) -> None:
    course = chronic_course(practice, preferred=time(12))
    first, second = course.sessions.order_by("sequence")[:2]
    Session.objects.filter(pk=first.pk).update(status=SessionStatus.COMPLETED)
    reminders_after_session_completed(first, now=first.ends_at)
    patient = PatientFactory(practice=practice, consent_email=True)
    ScreeningFactory(patient=patient, screened_on=NOW.date() - timedelta(days=27))
    single = book(practice, local(practice, TUESDAY + timedelta(days=4), 10), patient=patient)
    screenings_expiring_remind(now=NOW)
    mailoutbox.clear()

    reminders_dispatch(now=first.ends_at)

    by_address = {mail.to[0]: mail for mail in mailoutbox}
    expiring = by_address[single.patient.email]
    assert "expires on" in expiring.body
    assert "June 6, 2026 at 10:00" in expiring.body
    next_session = by_address[course.patient.email]
    assert "2 of 10" in next_session.body
    assert f"{second.starts_at.astimezone(practice.zone):%H:%M}" in next_session.body


def test_r21_the_beat_tasks_are_thin_and_safe_to_run_twice(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.REMINDER_SEND_CONCURRENCY = 2
    settings.REMINDER_DISPATCH_INTERVAL = 5
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(send_due_reminders, "apply_async", lambda **options: queued.append(options))
    now = timezone.now()
    session = SessionFactory(
        patient=PatientFactory(practice=practice, consent_sms=True),
        starts_at=local(practice, today(practice, days=3), 10),
    )
    ReminderFactory.create_batch(5, session=session, due_at=now - timedelta(minutes=1))
    ScreeningFactory(patient=session.patient, screened_on=today(practice, days=-28))

    # The sweep only queues the sending: a task per two due reminders, gone by the next sweep.
    assert dispatch_due_reminders.apply().get() == {"due": 5, "queued": 3}
    assert queued == [{"queue": None, "expires": 5}] * 3
    assert send_due_reminders.apply().get() == {
        "sent": 5,
        "retrying": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert send_due_reminders.apply().get()["sent"] == 0
    assert dispatch_due_reminders.apply().get() == {"due": 0, "queued": 0}
    assert remind_expiring_screenings.apply().get() == 1
    remind_expiring_screenings.apply().get()
    assert Reminder.objects.filter(kind=ReminderKind.SCREENING_EXPIRING).count() == 1
    assert len(ConsoleSmsBackend.sent()) == 5
