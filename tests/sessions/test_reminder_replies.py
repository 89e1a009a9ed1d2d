"""A reminder's links (R21): the patient confirms or cancels a session without signing in; the
practice's own moves and cancels are told to the patient, the patient's own are not; R13's
notice holds for a cancel through a link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from practice.models import Practice, PracticeSettings, Role
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.models import Reminder, ReminderStatus, Session, SessionStatus
from sessions.reminders.channels import ConsoleSmsBackend
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.links import session_link_token
from sessions.reminders.messages import ReminderKind
from tests.clock import local, today
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory
from tests.pages import logged_in, text
from tests.sessions.outbox import book

pytestmark = pytest.mark.django_db

MOVED = ReminderKind.SESSION_MOVED
CANCELLED = ReminderKind.SESSION_CANCELLED
PHONE = "+49 30 1234567"


@pytest.fixture(autouse=True)
def _site(settings) -> Iterator[None]:
    settings.SITE_URL = "https://linden.example"
    ConsoleSmsBackend.clear()
    yield
    ConsoleSmsBackend.clear()


@pytest.fixture
def phone(practice: Practice) -> str:
    PracticeSettings.objects.filter(practice=practice).update(phone=PHONE)
    practice.settings.refresh_from_db()
    return PHONE


def booked(practice: Practice, days: int = 3, hour: int = 10) -> Session:
    """A session `days` from now, booked now for a screened patient who takes email and SMS
    (screened: the patient may move it too, R1)."""
    patient = PatientFactory(practice=practice, consenting=True)
    ScreeningFactory(patient=patient, screened_on=today(practice))
    return book(
        practice, local(practice, today(practice, days), hour), patient=patient, now=timezone.now()
    )


def path_of(link: str) -> str:
    return link.removeprefix("https://linden.example")


def links_in_mail(mail: object) -> dict[str, str]:
    body = getattr(mail, "body", "")
    found = re.findall(r"https://linden\.example(/p/[^\s]+/reply/[^\s/]+/(confirm|cancel)/)", body)
    return {action: path for path, action in found}


def reply_url(practice: Practice, session: Session, action: str = "") -> str:
    name = f"portal:reply-{action}" if action else "portal:reply"
    token = session_link_token(session)
    return reverse(name, kwargs={"practice_slug": practice.slug, "token": token})


# --- The links in the messages ----------------------------------------------------------------


def test_r21_every_session_reminder_carries_its_links_by_email_and_sms(
    practice: Practice, mailoutbox: list
) -> None:
    session = booked(practice)

    reminders_dispatch(now=timezone.now())

    [mail] = mailoutbox
    assert links_in_mail(mail) == {
        "confirm": reply_url(practice, session, "confirm"),
        "cancel": reply_url(practice, session, "cancel"),
    }
    html = mail.alternatives[0][0]
    assert reply_url(practice, session, "confirm") in html
    [sms] = ConsoleSmsBackend.sent()
    assert f"https://linden.example{reply_url(practice, session)}" in sms.text


def test_r21_a_link_from_the_mail_confirms_the_session_once(
    practice: Practice, mailoutbox: list, clock
) -> None:
    session = booked(practice)
    reminders_dispatch(now=timezone.now())
    confirm = links_in_mail(mailoutbox[0])["confirm"]
    client = Client()

    page = client.get(confirm)
    session.refresh_from_db()
    assert page.status_code == 200
    assert "I will come" in text(page)
    assert session.confirmed_at is None  # a GET changes nothing

    assert client.post(confirm).status_code == 200
    session.refresh_from_db()
    first = session.confirmed_at
    assert first is not None

    clock.shift(timedelta(minutes=5))
    again = client.post(confirm)
    session.refresh_from_db()
    assert again.status_code == 200
    assert session.confirmed_at == first


def test_r21_a_moved_sessions_old_links_no_longer_work_and_the_move_clears_the_confirmation(
    practice: Practice,
) -> None:
    session = booked(practice)
    old_confirm = reply_url(practice, session, "confirm")
    Client().post(old_confirm)

    moved = session_reschedule(
        session=session, starts_at=local(practice, today(practice, 4), 11), by_patient=True
    )

    assert moved.confirmed_at is None
    page = Client().post(old_confirm)
    assert page.status_code == 410
    assert "moved" in text(page)
    moved.refresh_from_db()
    assert moved.confirmed_at is None
    assert Client().post(reply_url(practice, moved, "confirm")).status_code == 200


def test_r21_a_link_expires_when_the_session_starts(practice: Practice, clock) -> None:
    session = booked(practice, days=1)
    confirm = reply_url(practice, session, "confirm")

    clock.move_to(session.starts_at)
    page = Client().post(confirm)

    assert page.status_code == 410
    assert "expired" in text(page)
    session.refresh_from_db()
    assert session.confirmed_at is None


@pytest.mark.parametrize("damage", ["tampered", "garbage", "other practice"])
def test_r21_a_tampered_link_is_a_clear_page_never_an_error(
    practice: Practice, other_practice: Practice, damage: str
) -> None:
    session = booked(practice)
    token = session_link_token(session)
    if damage == "tampered":
        # Another session's id under this session's signature.
        token = token.replace(f"{session.pk}.", f"{session.pk + 1}.", 1)
        slug = practice.slug
    elif damage == "garbage":
        token, slug = "not-a-token", practice.slug
    else:
        slug = other_practice.slug
    url = reverse("portal:reply-cancel", kwargs={"practice_slug": slug, "token": token})

    for response in (Client().get(url), Client().post(url)):
        assert response.status_code == 400
        assert "This link is not valid" in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_r21_the_cancel_page_asks_first_and_a_patients_cancel_sends_no_notice(
    practice: Practice,
) -> None:
    session = booked(practice)
    cancel = reply_url(practice, session, "cancel")
    client = Client(enforce_csrf_checks=True)

    page = client.get(cancel)
    session.refresh_from_db()
    assert page.status_code == 200
    assert session.status == SessionStatus.BOOKED
    assert 'method="post"' in page.content.decode()

    token = client.cookies["csrftoken"].value
    done = client.post(cancel, {"csrfmiddlewaretoken": token})

    assert done.status_code == 200
    assert "Your session is cancelled." in text(done)
    session.refresh_from_db()
    assert (session.status, session.late_cancellation) == (SessionStatus.CANCELLED, False)
    assert not Reminder.objects.filter(session=session, kind=CANCELLED).exists()
    # Cancelled once: the link has done its work.
    assert client.get(cancel).status_code == 410


def test_r13_a_late_cancel_through_a_link_is_refused_with_the_practices_phone(
    practice: Practice, phone: str
) -> None:
    # The default notice is 24 hours; this session is in 5.
    session = book(
        practice, timezone.now() + timedelta(hours=5), now=timezone.now() - timedelta(days=1)
    )
    cancel = reply_url(practice, session, "cancel")

    for response in (Client().get(cancel), Client().post(cancel)):
        assert response.status_code == 409
        assert phone in text(response)
        assert "cannot be cancelled online" in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    # Confirming it is still welcome, and the page offers it.
    overview = Client().get(reply_url(practice, session))
    assert "I will come" in text(overview)
    assert phone in text(overview)


# --- Confirmations where the desk looks -------------------------------------------------------


def test_r21_a_confirmation_shows_on_the_desks_calendar_and_in_the_api(
    practice: Practice, desk, api_as
) -> None:
    session = booked(practice, days=2)
    calendar = reverse("sessions:calendar", kwargs={"practice_slug": practice.slug})
    day = {"date": today(practice, 2).isoformat()}
    assert "Confirmed by the patient" not in text(logged_in(desk).get(calendar, day))

    Client().post(reply_url(practice, session, "confirm"))

    assert "Confirmed by the patient" in text(logged_in(desk).get(calendar, day))
    answer = (
        api_as(desk).get(f"/api/v1/sessions/{session.pk}/", HTTP_X_PRACTICE=practice.slug).json()
    )
    session.refresh_from_db()
    assert answer["confirmed_at"] is not None
    assert datetime.fromisoformat(answer["confirmed_at"]) == session.confirmed_at


# --- The practice's changes, told to the patient ----------------------------------------------


def notices(session: Session, kind: str) -> list[Reminder]:
    return list(Reminder.objects.filter(session=session, kind=kind))


def test_r21_a_practice_move_writes_one_notice_per_channel_and_a_patients_move_none(
    practice: Practice, mailoutbox: list
) -> None:
    session = booked(practice)
    first_time = session.starts_at

    moved = session_reschedule(session=session, starts_at=local(practice, today(practice, 4), 11))

    assert sorted(r.channel for r in notices(moved, MOVED)) == ["email", "sms"]
    assert {r.session_version for r in notices(moved, MOVED)} == {2}
    reminders_dispatch(now=timezone.now())
    [mail] = [m for m in mailoutbox if "moved" in m.subject]
    assert first_time.astimezone(practice.zone).strftime("%H:%M") in mail.body
    assert links_in_mail(mail)["confirm"] == reply_url(practice, moved, "confirm")

    by_patient = session_reschedule(
        session=moved, starts_at=local(practice, today(practice, 5), 11), by_patient=True
    )
    assert len(notices(by_patient, MOVED)) == 2  # still only the practice's move


def test_r21_a_practice_cancel_is_told_once_and_sent_though_the_session_is_cancelled(
    practice: Practice, phone: str
) -> None:
    session = booked(practice)

    session_cancel(session=session, by=None, reason="Therapist ill")

    [sms_notice] = [r for r in notices(session, CANCELLED) if r.channel == "sms"]
    assert len(notices(session, CANCELLED)) == 2
    reminders_dispatch(now=timezone.now())
    sms_notice.refresh_from_db()
    assert sms_notice.status == ReminderStatus.SENT
    [text_message] = [s.text for s in ConsoleSmsBackend.sent() if "cancelled" in s.text]
    assert phone in text_message
    # The rest of the session's reminders stay cancelled.
    assert not Reminder.objects.filter(
        session=session, status=ReminderStatus.SENT, kind=ReminderKind.FIRST_REMINDER
    ).exists()


def test_r21_a_patients_cancel_through_the_portal_or_the_api_writes_no_notice(
    practice: Practice, member, api_as
) -> None:
    user = member(practice, Role.PATIENT, email="pat@example.com")
    patient = PatientFactory(practice=practice, consenting=True, user=user)
    therapist = TherapistFactory(practice=practice, week=True)
    at_portal = book(
        practice,
        local(practice, today(practice, 3), 10),
        patient=patient,
        therapist=therapist,
        now=timezone.now(),
    )
    by_api = book(
        practice,
        local(practice, today(practice, 4), 10),
        patient=patient,
        therapist=therapist,
        now=timezone.now(),
    )

    portal = reverse("portal:cancel", kwargs={"practice_slug": practice.slug, "pk": at_portal.pk})
    assert logged_in(user).post(portal, {"reason": ""}).status_code == 302
    answer = api_as(user).post(
        f"/api/v1/sessions/{by_api.pk}/cancel/", {}, HTTP_X_PRACTICE=practice.slug
    )

    assert answer.status_code == 200
    assert not Reminder.objects.filter(kind=CANCELLED).exists()
