"""A mobile client retrying a booking or a session's step after a dropped connection: with an
Idempotency-Key it books once and gets the first answer again, even when the retries race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from practice.models import Role
from sessions.models import Session, SessionStatus
from tests.clock import local, today
from tests.factories import (
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)

SESSIONS = "/api/v1/sessions/"


def booking(practice) -> dict[str, object]:
    therapist = TherapistFactory(practice=practice, week=True)
    return {
        "therapist": therapist.pk,
        "massage_type": massage_type(practice).pk,
        "starts_at": local(practice, today(practice, days=3), 10).isoformat(),
    }


@pytest.fixture
def patient_user(practice, member):
    user = member(practice, Role.PATIENT)
    ScreeningFactory(patient=PatientFactory(practice=practice, user=user))
    return user


@pytest.mark.django_db
def test_r19_idempotency_a_retried_booking_answers_the_first_session_and_books_once(
    practice, patient_user, api_as
):
    client = api_as(patient_user)
    payload = booking(practice)

    first = client.post(SESSIONS, payload, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    retry = client.post(SESSIONS, payload, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    without_key = client.post(SESSIONS, payload, format="json")

    assert first.status_code == 201, first.json()
    assert (retry.status_code, retry.json()) == (201, first.json())
    # What a retry without a key would have met: its own booking, taken (R19).
    assert without_key.status_code == 409
    assert Session.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_a_retried_cancel_answers_the_first_cancellation(
    practice, patient_user, api_as
):
    patient = patient_user.patient_records.get()
    session = SessionFactory(patient=patient)
    client = api_as(patient_user)
    url = f"{SESSIONS}{session.pk}/cancel/"

    first = client.post(url, {"reason": "travel"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    retry = client.post(url, {"reason": "travel"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = client.post(url, {"reason": "travel"}, format="json")

    assert first.status_code == 200, first.json()
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert again.status_code == 409
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r19_idempotency_racing_retries_book_one_session_and_both_get_it(
    practice, patient_user
) -> None:
    payload = booking(practice)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def retry() -> None:
        client = APIClient()
        client.force_authenticate(patient_user)
        try:
            barrier.wait()
            response = client.post(SESSIONS, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Without the key's row, the second would meet the first's booking: a 409 (R19).
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert Session.objects.count() == 1
