"""The staff patient record lists the patient's sessions and the reminders sent to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.models import Reminder, ReminderStatus
from tests.factories import PatientFactory, SessionFactory, TherapistFactory
from tests.pages import logged_in
from tests.sessions.outbox import book

pytestmark = pytest.mark.django_db


def record_page(client, practice, patient) -> str:
    url = reverse(
        "patients:patient-detail", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_record_shows_upcoming_and_past_sessions_of_this_patient_only(practice, desk) -> None:
    client = logged_in(desk)
    therapist = TherapistFactory(practice=practice, week=True)
    patient = PatientFactory(practice=practice)
    now = timezone.now()
    SessionFactory(therapist=therapist, patient=patient, starts_at=now + timedelta(days=2))
    SessionFactory(therapist=therapist, patient=patient, starts_at=now - timedelta(days=2))
    SessionFactory(
        therapist=therapist,
        patient=PatientFactory(practice=practice),
        starts_at=now + timedelta(days=3),
    )

    page = record_page(client, practice, patient)

    upcoming, past = page.split("<h3>Upcoming</h3>")[1].split("<h3>Past</h3>")
    assert upcoming.count("<tr>") == 2  # the header row and this patient's one upcoming session
    assert past.split("</table>")[0].count("<tr>") == 2


def test_r21_the_record_lists_the_reminders_with_their_status(practice, desk) -> None:
    client = logged_in(desk)
    patient = PatientFactory(practice=practice, consent_email=True)
    now = timezone.now()
    monday_next_week = (now + timedelta(days=7 - now.weekday() + 7)).astimezone(practice.zone)
    at_ten = monday_next_week.replace(hour=10, minute=0, second=0, microsecond=0)
    book(practice, at_ten, patient=patient, now=now)
    Reminder.objects.filter(patient=patient).update(
        status=ReminderStatus.FAILED, last_error="Mailbox unknown"
    )

    page = record_page(client, practice, patient)

    assert Reminder.objects.filter(patient=patient).count() >= 2
    assert page.count("Mailbox unknown") == Reminder.objects.filter(patient=patient).count()
    assert "Booking confirmation" in page
