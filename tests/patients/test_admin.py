"""Admin pages for patients, screenings and the catalogue, scoped to the manager's practice."""

from __future__ import annotations

import pytest

from patients.models import Contraindication, ContraindicationOptOut, HighBloodPressure, Patient
from practice.models import Role
from tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db


ADMIN_PATIENT = {
    "given_name": "Iva",
    "family_name": "Kos",
    "date_of_birth": "1970-01-01",
    "sex": "female",
    "phone": "+49 30 123456",
}


def test_manager_sees_only_own_practices_patients(manager_client, practice, other_practice):
    own = PatientFactory(practice=practice, family_name="Ownpractice")
    foreign = PatientFactory(practice=other_practice, family_name="Foreignpractice")
    page = manager_client.get("/admin/patients/patient/")
    assert page.status_code == 200
    assert b"Ownpractice" in page.content
    assert b"Foreignpractice" not in page.content
    assert manager_client.get(f"/admin/patients/patient/{own.pk}/change/").status_code == 200
    foreign_page = manager_client.get(f"/admin/patients/patient/{foreign.pk}/change/")
    assert foreign_page.status_code == 302  # Django's "does not exist" redirect


def test_patients_are_archived_not_deleted_in_admin(manager_client, practice) -> None:
    patient = PatientFactory(practice=practice)
    delete = manager_client.get(f"/admin/patients/patient/{patient.pk}/delete/")
    assert delete.status_code == 403
    manager_client.post(
        "/admin/patients/patient/",
        {"action": "archive", "_selected_action": [patient.pk]},
    )
    patient.refresh_from_db()
    assert patient.archived is True


def test_screening_outcome_is_read_only_in_admin(manager_client, practice) -> None:
    screening = ScreeningFactory(patient=PatientFactory(practice=practice), yes={"pregnancy": ""})
    url = f"/admin/patients/screening/{screening.pk}/change/"
    page = manager_client.get(url)
    assert page.status_code == 200
    assert b"R4" in page.content
    assert b'name="status"' not in page.content
    manager_client.post(url, {"notes": "seen", "status": "cleared"})
    screening.refresh_from_db()
    assert screening.status == "restricted"
    assert manager_client.get("/admin/patients/screening/add/").status_code == 403


def test_screening_list_is_scoped(manager_client, practice, other_practice) -> None:
    ScreeningFactory(patient=PatientFactory(practice=practice, family_name="Mine"))
    ScreeningFactory(patient=PatientFactory(practice=other_practice, family_name="Theirs"))
    page = manager_client.get("/admin/patients/screening/")
    assert b"Mine" in page.content
    assert b"Theirs" not in page.content


def test_r8_managers_read_their_practices_high_readings_only(
    manager_client, practice, other_practice
) -> None:
    ScreeningFactory(patient=PatientFactory(practice=practice, family_name="Mine"), systolic=171)
    ScreeningFactory(
        patient=PatientFactory(practice=other_practice, family_name="Theirs"), systolic=172
    )
    page = manager_client.get("/admin/patients/highbloodpressure/")
    assert page.status_code == 200
    assert b"Mine" in page.content
    assert b"Theirs" not in page.content
    reading = HighBloodPressure.objects.get(practice=practice)
    assert manager_client.get("/admin/patients/highbloodpressure/add/").status_code == 403
    delete = f"/admin/patients/highbloodpressure/{reading.pk}/delete/"
    assert manager_client.get(delete).status_code == 403


def test_manager_reads_shared_catalogue_but_cannot_change_it(manager_client) -> None:
    oncology = Contraindication.objects.get(practice=None, code="oncology")
    assert b"Oncology" in manager_client.get("/admin/patients/contraindication/").content
    page = manager_client.get(f"/admin/patients/contraindication/{oncology.pk}/change/")
    assert page.status_code == 200
    assert b'name="question"' not in page.content  # view-only


def test_manager_adds_an_item_for_their_practice(manager_client, practice) -> None:
    response = manager_client.post(
        "/admin/patients/contraindication/add/",
        {
            "practice": practice.pk,
            "code": "varicose_veins",
            "name": "Varicose veins",
            "question": "Do you have varicose veins?",
            "kind": "local",
            "blocks_types": "[]",
            "position": 200,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    assert Contraindication.objects.get(code="varicose_veins").practice == practice


def test_switch_off_action_refuses_absolute_items(manager_client, practice) -> None:
    moles = Contraindication.objects.get(practice=None, code="moles")
    oncology = Contraindication.objects.get(practice=None, code="oncology")
    manager_client.post(
        "/admin/patients/contraindication/",
        {"action": "switch_off", "_selected_action": [moles.pk, oncology.pk]},
    )
    assert list(
        ContraindicationOptOut.objects.filter(practice=practice).values_list(
            "contraindication__code", flat=True
        )
    ) == ["moles"]


def test_admin_normalises_phone(manager_client, practice) -> None:
    response = manager_client.post(
        "/admin/patients/patient/add/", {**ADMIN_PATIENT, "practice": practice.pk}
    )
    assert response.status_code == 302, response.content
    assert Patient.objects.get(family_name="Kos").phone == "+4930123456"


def test_admin_refuses_a_duplicate_unless_confirmed(manager_client, practice) -> None:
    existing = PatientFactory(
        practice=practice, given_name="Iva", family_name="Kos", date_of_birth="1970-01-01"
    )
    refused = manager_client.post(
        "/admin/patients/patient/add/", {**ADMIN_PATIENT, "practice": practice.pk}
    )
    assert refused.status_code == 200
    assert f"#{existing.pk}".encode() in refused.content
    assert Patient.objects.count() == 1
    confirmed = manager_client.post(
        "/admin/patients/patient/add/",
        {**ADMIN_PATIENT, "practice": practice.pk, "confirm_duplicate": "on"},
    )
    assert confirmed.status_code == 302
    assert Patient.objects.count() == 2


def test_admin_offers_only_patient_accounts_of_the_practice(
    manager_client, practice, other_practice, member
) -> None:
    member(practice, Role.PATIENT, full_name="Own Patientaccount")
    member(other_practice, Role.PATIENT, full_name="Foreign Patientaccount")
    member(practice, Role.THERAPIST, full_name="Staff Therapistaccount")
    page = manager_client.get("/admin/patients/patient/add/").content.decode()
    assert "Own Patientaccount" in page
    assert "Foreign Patientaccount" not in page
    assert "Staff Therapistaccount" not in page
