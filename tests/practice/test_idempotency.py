"""The Idempotency-Key header of the API's POSTs (`practice.idempotency`), on creating a
patient: one effect per key, the first response again on a retry, a reused key refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Patient
from practice.idempotency import idempotency_keys_sweep
from practice.models import IdempotencyKey, Role
from practice.tasks import sweep_idempotency_keys
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"
NEW_PATIENT = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "1980-05-01"}


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


def post(client, body, key, **headers):
    return client.post(PATIENTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_idempotency_a_retry_answers_the_first_response_and_creates_one_row(staff, api_as):
    client = api_as(staff)

    first = post(client, NEW_PATIENT, "c1b7a2f0-key")
    retry = post(client, NEW_PATIENT, "c1b7a2f0-key")

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Patient.objects.count() == 1


def test_idempotency_the_same_key_with_another_body_is_422(staff, api_as):
    client = api_as(staff)
    post(client, NEW_PATIENT, "key-1")

    other = post(client, {**NEW_PATIENT, "given_name": "Grace"}, "key-1")

    assert other.status_code == 422
    assert other.json()["status"] == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Patient.objects.count() == 1


def test_idempotency_the_same_key_on_another_endpoint_is_422(staff, api_as):
    client = api_as(staff)
    patient_id = post(client, NEW_PATIENT, "key-1").json()["id"]

    archive = client.post(f"{PATIENTS}{patient_id}/archive/", HTTP_IDEMPOTENCY_KEY="key-1")

    assert archive.status_code == 422
    assert Patient.objects.get().archived is False


def test_idempotency_another_users_same_key_is_independent(practice, staff, member, api_as):
    colleague = member(practice, Role.FRONT_DESK)

    mine = post(api_as(staff), NEW_PATIENT, "shared-key")
    theirs = post(api_as(colleague), {**NEW_PATIENT, "given_name": "Grace"}, "shared-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["id"] != mine.json()["id"]
    assert "Idempotent-Replayed" not in theirs
    assert Patient.objects.count() == 2


def test_idempotency_keys_are_per_practice(practice, other_practice, staff, api_as):
    MembershipFactory(practice=other_practice, user=staff, role=Role.FRONT_DESK)
    client = api_as(staff)

    here = post(client, NEW_PATIENT, "key-1", HTTP_X_PRACTICE="linden")
    there = post(client, NEW_PATIENT, "key-1", HTTP_X_PRACTICE="harbour")

    assert (here.status_code, there.status_code) == (201, 201)
    assert Patient.objects.filter(practice=practice).count() == 1
    assert Patient.objects.filter(practice=other_practice).count() == 1


def test_idempotency_a_refusal_is_not_kept_and_its_retry_acts_again(staff, api_as):
    client = api_as(staff)
    client.post(PATIENTS, NEW_PATIENT, format="json")

    duplicate = post(client, NEW_PATIENT, "key-1")
    retry = post(client, NEW_PATIENT, "key-1")
    invalid = post(client, {**NEW_PATIENT, "date_of_birth": "soon"}, "key-2")

    assert (duplicate.status_code, retry.status_code) == (409, 409)
    assert "Idempotent-Replayed" not in retry
    assert invalid.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert Patient.objects.count() == 1


def test_idempotency_without_a_key_every_post_acts(staff, api_as):
    client = api_as(staff)

    client.post(PATIENTS, NEW_PATIENT, format="json")
    again = client.post(PATIENTS, {**NEW_PATIENT, "confirm_duplicate": True}, format="json")

    assert again.status_code == 201
    assert Patient.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "has space", "x" * 256])
def test_idempotency_a_malformed_key_is_400_naming_the_header(staff, api_as, key):
    response = post(api_as(staff), NEW_PATIENT, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Patient.objects.exists()


def test_idempotency_a_key_is_kept_24_hours_then_swept(staff, api_as, clock):
    client = api_as(staff)
    post(client, NEW_PATIENT, "key-1")

    clock.shift(timedelta(hours=23))
    within = post(client, NEW_PATIENT, "key-1")
    assert idempotency_keys_sweep() == 0
    clock.shift(timedelta(hours=2))
    swept = sweep_idempotency_keys()

    assert within.status_code == 201
    assert within["Idempotent-Replayed"] == "true"
    assert swept == 1
    assert not IdempotencyKey.objects.exists()


def test_idempotency_an_expired_key_not_yet_swept_acts_again(staff, api_as, clock):
    client = api_as(staff)
    post(client, NEW_PATIENT, "key-1")
    clock.shift(timedelta(hours=25))

    later = post(client, {**NEW_PATIENT, "given_name": "Grace"}, "key-1")

    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later
    assert Patient.objects.count() == 2
    assert IdempotencyKey.objects.get().created_at > timezone.now() - timedelta(minutes=1)
