"""Failed reminders surface (R21): on the desk's day and the patient's record, with the reason
and a "send again" (staff of the practice only); the managers hear once an hour however many
fail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from practice.models import Practice, Role
from sessions.models import Reminder, ReminderFailureAlert, ReminderStatus, Session
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from tests.clock import local, today
from tests.factories import PatientFactory
from tests.pages import logged_in, text
from tests.sessions.outbox import book

pytestmark = pytest.mark.django_db


def failed_sms(practice: Practice, days: int = 2, hour: int = 10) -> Reminder:
    """A session whose patient's number the provider refuses: its confirmation fails at once."""
    patient = PatientFactory(practice=practice, consent_sms=True, phone="12")
    session = book(
        practice, local(practice, today(practice, days), hour), patient=patient, now=timezone.now()
    )
    reminders_dispatch(now=timezone.now())
    return Reminder.objects.get(session=session, kind=ReminderKind.BOOKING_CONFIRMATION)


def send_again_url(practice: Practice, reminder: Reminder) -> str:
    return reverse(
        "sessions:reminder-send-again", kwargs={"practice_slug": practice.slug, "pk": reminder.pk}
    )


def test_r21_a_failed_reminder_shows_on_its_sessions_day_with_the_reason(
    practice: Practice, desk
) -> None:
    reminder = failed_sms(practice, days=2)
    assert reminder.status == ReminderStatus.FAILED
    calendar = reverse("sessions:calendar", kwargs={"practice_slug": practice.slug})

    day = text(logged_in(desk).get(calendar, {"date": today(practice, 2).isoformat()}))
    later = text(logged_in(desk).get(calendar, {"date": today(practice, 5).isoformat()}))

    assert "Reminders that failed" in day
    assert reminder.patient.full_name in day
    assert "Invalid phone number" in day
    assert (
        send_again_url(practice, reminder)
        in logged_in(desk).get(calendar, {"date": today(practice, 2).isoformat()}).content.decode()
    )
    assert "Reminders that failed" not in later


def test_r21_the_patient_record_offers_send_again_for_a_failed_reminder(
    practice: Practice, desk
) -> None:
    reminder = failed_sms(practice)
    record = reverse(
        "patients:patient-detail",
        kwargs={"practice_slug": practice.slug, "pk": reminder.patient_id},
    )

    page = logged_in(desk).get(record).content.decode()

    assert "Invalid phone number" in page
    assert send_again_url(practice, reminder) in page


def test_r21_send_again_requeues_the_row_with_fresh_attempts_and_the_same_key(
    practice: Practice, desk
) -> None:
    reminder = failed_sms(practice)
    record = reverse(
        "patients:patient-detail",
        kwargs={"practice_slug": practice.slug, "pk": reminder.patient_id},
    )

    response = logged_in(desk).post(send_again_url(practice, reminder), {"next": record})

    assert response.status_code == 302
    assert response["Location"] == record
    again = Reminder.objects.get(pk=reminder.pk)
    assert (again.status, again.attempts, again.unknown_outcomes) == (ReminderStatus.PENDING, 0, 0)
    assert again.dedupe_key == reminder.dedupe_key
    assert again.send_after <= timezone.now()
    # Sent again only once: a second press finds it pending and changes nothing.
    logged_in(desk).post(send_again_url(practice, reminder))
    assert Reminder.objects.get(pk=reminder.pk).send_after == again.send_after


def test_r21_send_again_is_for_the_practices_staff_only(
    practice: Practice, other_desk, member
) -> None:
    reminder = failed_sms(practice)
    url = send_again_url(practice, reminder)
    patient_user = member(practice, Role.PATIENT, email="pat@example.com")
    desk = member(practice, Role.FRONT_DESK, email="front@example.com")
    elsewhere = reverse(
        "sessions:reminder-send-again",
        kwargs={"practice_slug": "harbour", "pk": reminder.pk},
    )

    assert logged_in(other_desk).post(url).status_code == 404
    assert logged_in(other_desk).post(elsewhere).status_code == 404
    assert logged_in(patient_user).post(url).status_code == 403
    assert logged_in(desk).get(url).status_code == 405
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.FAILED
    # Not a redirect to wherever `next` says.
    answer = logged_in(desk).post(url, {"next": "https://evil.example/"})
    assert answer["Location"].startswith("/p/linden/patients/")


def test_r21_many_failures_alert_the_practices_managers_once_an_hour(
    practice: Practice, other_practice: Practice, member, mailoutbox: list, clock
) -> None:
    member(practice, Role.MANAGER, email="boss@linden.example")
    member(practice, Role.FRONT_DESK, email="desk@linden.example")
    member(other_practice, Role.MANAGER, email="boss@harbour.example")
    for hour in range(10, 15):
        patient = PatientFactory(practice=practice, consent_sms=True, phone="12")
        book(
            practice, local(practice, today(practice, 2), hour), patient=patient, now=timezone.now()
        )

    reminders_dispatch(now=timezone.now())

    assert Reminder.objects.filter(status=ReminderStatus.FAILED).count() == 5
    [alert] = mailoutbox
    assert alert.to == ["boss@linden.example"]
    # Told at the first failure; the four after it within the hour add no email.
    assert "1 reminder of Linden failed" in alert.body
    assert "Invalid phone number" in alert.body

    clock.shift(timedelta(minutes=30))
    failed_sms(practice, days=3)
    assert len(mailoutbox) == 1

    clock.shift(timedelta(minutes=31))
    failed_sms(practice, days=4)
    assert len(mailoutbox) == 2
    assert ReminderFailureAlert.objects.filter(practice=practice).count() == 1
    assert not Session.objects.filter(practice=other_practice).exists()
