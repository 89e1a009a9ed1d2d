"""Patient records: validation, duplicate detection, archiving and search."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from patients.models import Patient
from patients.selectors import patient_search, patients_visible_to
from patients.services import DuplicatePatient, patient_archive, patient_create, patient_update
from practice.models import Role
from tests.clock import today
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def create(practice, **fields):
    values = {
        "given_name": "Anna",
        "family_name": "Berg",
        "date_of_birth": date(1980, 4, 1),
        "phone": "+49 151 1234 5678",
        "email": "Anna.Berg@Example.com",
    }
    values.update(fields)
    return patient_create(practice=practice, **values)


def test_phone_is_stored_as_e164_and_email_lowercased(practice) -> None:
    patient = create(practice, emergency_contact_phone="+44 20 7946 0958")
    assert patient.phone == "+4915112345678"
    assert patient.emergency_contact_phone == "+442079460958"
    assert patient.email == "anna.berg@example.com"


def test_long_formatted_phone_fits_once_normalised(practice) -> None:
    patient = create(practice, phone="+49 (0) 151 / 1234 - 5678", email="")
    assert patient.phone == "+4915112345678"


@pytest.mark.parametrize("phone", ["0151 1234", "12", "call me"])
def test_phone_must_be_a_possible_international_number(practice, phone: str) -> None:
    with pytest.raises(ValidationError) as refused:
        create(practice, phone=phone)
    assert "phone" in refused.value.message_dict
    assert not Patient.objects.exists()


def test_date_of_birth_in_the_future_is_refused(practice) -> None:
    tomorrow = today(practice, days=1)
    with pytest.raises(ValidationError) as refused:
        create(practice, date_of_birth=tomorrow)
    assert "date_of_birth" in refused.value.message_dict


def test_reminder_consent_needs_a_date_and_a_channel(practice) -> None:
    with pytest.raises(ValidationError) as refused:
        create(practice, consent_sms=True, phone="")
    assert {"consent_given_on", "consent_sms"} <= set(refused.value.message_dict)


@pytest.mark.parametrize(
    "same",
    [
        {"given_name": "anna", "family_name": "BERG", "phone": "", "email": ""},
        {"given_name": "Other", "phone": "+4915112345678", "email": ""},
        {"given_name": "Other", "phone": "", "email": "ANNA.berg@example.com"},
    ],
    ids=["name-and-birth-date", "phone", "email"],
)
def test_duplicate_is_refused_pointing_at_the_existing_record(practice, same: dict) -> None:
    existing = create(practice)
    with pytest.raises(DuplicatePatient) as refused:
        create(practice, **same)
    assert refused.value.duplicates == [existing]
    assert f"#{existing.pk}" in refused.value.messages[0]
    assert Patient.objects.count() == 1


def test_duplicate_is_saved_when_confirmed(practice) -> None:
    create(practice)
    twin = create(practice, confirm_duplicate=True)
    assert Patient.objects.filter(pk=twin.pk).exists()
    assert Patient.objects.count() == 2


def test_duplicate_detection_is_per_practice(practice, other_practice) -> None:
    create(practice)
    elsewhere = create(other_practice)
    assert elsewhere.practice == other_practice


def test_same_name_other_birth_date_is_not_a_duplicate(practice) -> None:
    create(practice)
    create(practice, date_of_birth=date(1981, 4, 1), phone="", email="")
    assert Patient.objects.count() == 2


def test_update_to_anothers_phone_is_refused_unless_confirmed(practice) -> None:
    create(practice)
    other = create(practice, given_name="Bert", phone="+4915199999999", email="")
    with pytest.raises(DuplicatePatient):
        patient_update(patient=other, phone="+49 151 1234 5678")
    patient_update(patient=other, phone="+49 151 1234 5678", confirm_duplicate=True)
    other.refresh_from_db()
    assert other.phone == "+4915112345678"


def test_fields_outside_the_record_cannot_be_set(practice) -> None:
    with pytest.raises(ValidationError) as refused:
        create(practice, archived=True, practice_id=999)
    assert set(refused.value.message_dict) == {"archived", "practice_id"}
    assert not Patient.objects.exists()


def test_portal_user_must_be_a_patient_member(practice) -> None:
    stranger = UserFactory()
    with pytest.raises(ValidationError) as refused:
        create(practice, user=stranger)
    assert "user" in refused.value.message_dict
    MembershipFactory(practice=practice, user=stranger, role=Role.PATIENT)
    assert create(practice, user=stranger).user == stranger


def test_archive_keeps_the_record(practice) -> None:
    patient = create(practice)
    patient_archive(patient=patient)
    patient.refresh_from_db()
    assert patient.archived is True


def test_patient_user_sees_only_own_record(practice) -> None:
    user = UserFactory()
    membership = MembershipFactory(practice=practice, user=user, role=Role.PATIENT)
    own = PatientFactory(practice=practice, user=user)
    PatientFactory(practice=practice)
    assert list(patients_visible_to(membership=membership)) == [own]


# --- Search -----------------------------------------------------------------------------------

GIVEN = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Frank", "Greta", "Hugo", "Irina", "Jonas"]
FAMILY = ["Schmidt", "Ivanova", "Müller", "Petrov", "Weber", "Novak", "Keller", "Sokolov"]


@pytest.fixture
def ten_thousand(practice, other_practice) -> list[Patient]:
    """10,000 generated patients in `practice` (plus a few elsewhere), saved with bulk_create."""
    rng = random.Random(7)
    rows = [
        PatientFactory.build(
            practice=practice,
            given_name=rng.choice(GIVEN),
            family_name=f"{rng.choice(FAMILY)}{n % 97}",
            date_of_birth=date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
            phone=f"+49151{n:08d}",
            email=f"p{n}@mail.example",
        )
        for n in range(10_000)
    ]
    rows.append(
        PatientFactory.build(
            practice=practice,
            given_name="Zoe",
            family_name="Quartermaine",
            date_of_birth=date(1990, 2, 3),
            phone="+447700900123",
            email="zoe.q@harbour.example",
        )
    )
    rows.append(
        PatientFactory.build(
            practice=other_practice,
            given_name="Zoe",
            family_name="Quartermaine",
            date_of_birth=date(1990, 2, 3),
            phone="+447700900124",
            email="zoe.other@harbour.example",
        )
    )
    return Patient.objects.bulk_create(rows, batch_size=2_000)


def search(practice, query: str) -> list[Patient]:
    return list(patient_search(patients=Patient.objects.for_practice(practice), query=query))


def test_search_on_ten_thousand_patients_finds_the_right_rows(practice, ten_thousand) -> None:
    zoe = ten_thousand[10_000]
    assert search(practice, "quarterm") == [zoe]
    assert search(practice, "Quartermaine zoe") == [zoe]  # any word order, any case
    assert search(practice, "+44 7700 900123") == [zoe]
    assert search(practice, "07700 900123") == [zoe]
    assert search(practice, "ZOE.Q@harbour") == [zoe]
    expected = {
        p.pk for p in ten_thousand[:10_000] if p.given_name == "Greta" and "Weber" in p.family_name
    }
    assert expected
    assert {p.pk for p in search(practice, "greta weber")} == expected
    assert [p.phone for p in search(practice, "0151 00004711")] == ["+4915100004711"]


def test_search_never_crosses_practices(practice, other_practice, ten_thousand) -> None:
    found = search(other_practice, "Quartermaine")
    assert [p.email for p in found] == ["zoe.other@harbour.example"]


def test_search_treats_wildcards_literally(practice, ten_thousand) -> None:
    assert search(practice, "%") == []
    assert search(practice, "_") == []


@pytest.mark.postgres
def test_search_can_use_the_trigram_indexes(practice, ten_thousand) -> None:
    # At 10k rows a scan is cheaper, so the planner is told not to scan: what this shows is
    # that the search's expressions match the trigram indexes (Django's icontains would not).
    queryset = patient_search(patients=Patient.objects.all(), query="quarterm")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_name_trgm_idx" in plan
    assert "patient_email_trgm_idx" in plan
