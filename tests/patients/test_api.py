"""The patients, screenings and catalogue API: who sees what, bad input, query counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from patients.catalogue import DEFAULT_CONTRAINDICATIONS
from patients.models import Patient, Screening
from patients.selectors import catalogue_for
from practice.models import Practice, Role, User
from tests.clock import today
from tests.factories import ContraindicationFactory, PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"


def screenings_url(patient: Patient) -> str:
    return f"{PATIENTS}{patient.pk}/screenings/"


def answers(practice: Practice, **yes: str) -> list[dict[str, object]]:
    return [
        {"item": item.code, "yes": item.code in yes, "zone": yes.get(item.code, "")}
        for item in catalogue_for(practice=practice)
    ]


@pytest.fixture
def front_desk(practice: Practice, member: Callable[..., User]) -> APIClient:
    client = APIClient()
    client.force_authenticate(member(practice, Role.FRONT_DESK))
    return client


@pytest.fixture
def two_patients(practice: Practice, member: Callable[..., User]) -> dict[str, object]:
    """Patients A and B of one practice, each with a portal user and a screening."""
    user_a = member(practice, Role.PATIENT)
    user_b = member(practice, Role.PATIENT)
    patient_a = PatientFactory(practice=practice, user=user_a)
    patient_b = PatientFactory(practice=practice, user=user_b)
    return {
        "user_a": user_a,
        "patient_a": patient_a,
        "screening_a": ScreeningFactory(patient=patient_a),
        "patient_b": patient_b,
        "screening_b": ScreeningFactory(patient=patient_b),
    }


# --- Ownership --------------------------------------------------------------------------------


def test_anonymous_gets_401(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    client = APIClient()
    for url in (PATIENTS, f"{PATIENTS}{patient.pk}/", screenings_url(patient)):
        assert client.get(url).status_code == 401
    assert client.get("/api/v1/contraindications/").status_code == 401


def test_patient_cannot_list_patients(api_as, two_patients) -> None:
    response = api_as(two_patients["user_a"]).get(PATIENTS)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_patient_reads_own_record_and_screenings(api_as, two_patients) -> None:
    client = api_as(two_patients["user_a"])
    patient_a = two_patients["patient_a"]
    record = client.get(f"{PATIENTS}{patient_a.pk}/").json()
    assert record["id"] == patient_a.pk
    assert "notes" not in record  # staff notes stay with the staff
    assert record["screening"]["outcome"]["status"] == "cleared"
    listed = client.get(screenings_url(patient_a)).json()["results"]
    assert [s["id"] for s in listed] == [two_patients["screening_a"].pk]
    detail = client.get(f"{screenings_url(patient_a)}{two_patients['screening_a'].pk}/")
    assert detail.json()["outcome"]["status"] == "cleared"


def test_patient_a_gets_404_for_patient_b(api_as, two_patients) -> None:
    client = api_as(two_patients["user_a"])
    patient_b = two_patients["patient_b"]
    screening_b = two_patients["screening_b"]
    assert client.get(f"{PATIENTS}{patient_b.pk}/").status_code == 404
    assert client.get(screenings_url(patient_b)).status_code == 404
    assert client.get(f"{screenings_url(patient_b)}{screening_b.pk}/").status_code == 404
    # Nor through their own record's URL.
    own_url = screenings_url(two_patients["patient_a"])
    assert client.get(f"{own_url}{screening_b.pk}/").status_code == 404


def test_patient_cannot_change_or_screen(api_as, two_patients, practice) -> None:
    client = api_as(two_patients["user_a"])
    patient_a = two_patients["patient_a"]
    assert client.patch(f"{PATIENTS}{patient_a.pk}/", {"notes": "x"}).status_code == 403
    response = client.post(screenings_url(patient_a), {"answers": answers(practice)}, "json")
    assert response.status_code == 403
    assert Screening.objects.count() == 2


def test_staff_of_practice_a_get_404_for_practice_b(
    front_desk: APIClient, other_practice: Practice
) -> None:
    elsewhere = PatientFactory(practice=other_practice)
    screening = ScreeningFactory(patient=elsewhere)
    assert front_desk.get(f"{PATIENTS}{elsewhere.pk}/").status_code == 404
    assert front_desk.patch(f"{PATIENTS}{elsewhere.pk}/", {"notes": "x"}).status_code == 404
    assert front_desk.post(f"{PATIENTS}{elsewhere.pk}/archive/").status_code == 404
    assert front_desk.get(screenings_url(elsewhere)).status_code == 404
    assert front_desk.get(f"{screenings_url(elsewhere)}{screening.pk}/").status_code == 404
    assert front_desk.get(PATIENTS).json()["results"] == []


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK])
def test_the_desk_and_managers_see_the_practices_patients(practice, member, api_as, role) -> None:
    # Therapists see their own patients: tests/patients/test_therapist_visibility.py.
    patient = PatientFactory(practice=practice)
    response = api_as(member(practice, role)).get(PATIENTS)
    assert [row["id"] for row in response.json()["results"]] == [patient.pk]


# --- Patients ---------------------------------------------------------------------------------

NEW_PATIENT = {
    "given_name": "Mila",
    "family_name": "Horvat",
    "date_of_birth": "1985-09-12",
    "phone": "+385 91 234 5678",
    "email": "mila@example.com",
    "consent_sms": True,
    "consent_given_on": "2026-01-10",
}


def test_staff_creates_patient_with_normalised_phone(front_desk, practice) -> None:
    response = front_desk.post(PATIENTS, NEW_PATIENT, "json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+385912345678"
    assert Patient.objects.get(pk=body["id"]).practice == practice


def test_duplicate_is_409_pointing_at_existing_until_confirmed(front_desk) -> None:
    first = front_desk.post(PATIENTS, NEW_PATIENT, "json").json()
    again = {**NEW_PATIENT, "phone": "", "email": "", "consent_sms": False}
    response = front_desk.post(PATIENTS, again, "json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "duplicate_patient"
    assert [d["id"] for d in body["duplicates"]] == [first["id"]]
    confirmed = front_desk.post(PATIENTS, {**again, "confirm_duplicate": True}, "json")
    assert confirmed.status_code == 201
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"phone": "not a phone"}, "phone"),
        ({"email": "nope"}, "email"),
        ({"given_name": ""}, "given_name"),
        ({"sex": "unicorn"}, "sex"),
    ],
)
def test_bad_patient_input_is_400_with_field_messages(front_desk, change, field) -> None:
    response = front_desk.post(PATIENTS, {**NEW_PATIENT, **change}, "json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Patient.objects.exists()


def test_update_and_archive(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice)
    response = front_desk.patch(f"{PATIENTS}{patient.pk}/", {"hypertensive": True}, "json")
    assert response.status_code == 200
    assert response.json()["hypertensive"] is True
    assert (
        front_desk.patch(f"{PATIENTS}{patient.pk}/", {"archived": True}, "json").json()["archived"]
        is False
    )
    archived = front_desk.post(f"{PATIENTS}{patient.pk}/archive/")
    assert archived.json()["archived"] is True
    assert front_desk.get(PATIENTS).json()["results"] == []
    assert len(front_desk.get(PATIENTS, {"archived": "true"}).json()["results"]) == 1
    assert front_desk.delete(f"{PATIENTS}{patient.pk}/").status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_search_by_name_phone_and_email(front_desk, practice) -> None:
    anna = PatientFactory(
        practice=practice, given_name="Anna", family_name="Berg", phone="+4915100000001"
    )
    PatientFactory(practice=practice, given_name="Boris", family_name="Keller")
    for query in ("berg ann", "0151 00000001", anna.email.upper()):
        found = front_desk.get(PATIENTS, {"q": query}).json()["results"]
        assert [row["id"] for row in found] == [anna.pk], query


def test_search_also_answers_to_search_as_other_apis_name_it(front_desk, practice) -> None:
    anna = PatientFactory(practice=practice, given_name="Anna", family_name="Berg")
    PatientFactory(practice=practice, given_name="Boris", family_name="Keller")

    found = front_desk.get(PATIENTS, {"search": "berg"}).json()["results"]
    q_wins = front_desk.get(PATIENTS, {"q": "keller", "search": "berg"}).json()["results"]

    assert [row["id"] for row in found] == [anna.pk]
    assert [row["given_name"] for row in q_wins] == ["Boris"]


def test_patient_list_has_constant_queries(front_desk, practice, django_assert_num_queries) -> None:
    PatientFactory(practice=practice)
    with CaptureQueriesContext(connection) as one:
        assert front_desk.get(PATIENTS).status_code == 200
    PatientFactory.create_batch(15, practice=practice)
    with django_assert_num_queries(len(one)):
        assert front_desk.get(PATIENTS, {"q": "a"}).status_code == 200


# --- Screenings -------------------------------------------------------------------------------


def test_staff_records_screening_and_gets_computed_outcome(front_desk, practice, member) -> None:
    patient = PatientFactory(practice=practice)
    payload = {
        "temperature": "36.7",
        "answers": answers(practice, pregnancy="", wound="lower_back"),
        "notes": "first visit",
    }
    response = front_desk.post(screenings_url(patient), payload, "json")
    assert response.status_code == 201, response.json()
    outcome = response.json()["outcome"]
    assert outcome["status"] == "restricted"
    assert outcome["blocked_massage_types"] == ["cupping"]
    assert outcome["blocked_zones"] == ["lower_back"]
    assert {(f["rule"], f["code"]) for f in outcome["findings"]} == {
        ("R4", "pregnancy"),
        ("R3", "wound"),
    }
    screening = Screening.objects.get()
    assert screening.recorded_by is not None
    assert screening.status == "restricted"


def test_r7_a_high_reading_is_a_warning_suggesting_the_hypertensive_flag(
    front_desk, practice
) -> None:
    patient = PatientFactory(practice=practice)
    payload = {"answers": answers(practice), "systolic": 150, "diastolic": 95}

    response = front_desk.post(screenings_url(patient), payload, "json")

    assert response.status_code == 201, response.json()
    outcome = response.json()["outcome"]
    assert outcome["status"] == "restricted"  # no longer "cleared"
    assert outcome["blocked_massage_types"] == []
    (finding,) = outcome["findings"]
    assert (finding["rule"], finding["code"], finding["effect"]) == (
        "R7",
        "high_blood_pressure",
        "warn",
    )
    assert finding["message"] == (
        "Blood pressure 150/95 mmHg is high: consider flagging the patient as hypertensive."
    )


def test_outcome_cannot_be_typed_by_hand(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice)
    payload = {"answers": answers(practice, oncology=""), "status": "cleared"}
    response = front_desk.post(screenings_url(patient), payload, "json")
    assert response.json()["outcome"]["status"] == "blocked"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"temperature": "29.5"}, "temperature"),
        ({"temperature": "45.5"}, "temperature"),
        ({"systolic": 59, "diastolic": 40}, "systolic"),
        ({"systolic": 301, "diastolic": 90}, "systolic"),
        ({"temperature": "hot"}, "temperature"),
        ({"screened_on": "2999-01-01"}, "screened_on"),
    ],
)
def test_impossible_screening_values_are_400(front_desk, practice, change, field) -> None:
    patient = PatientFactory(practice=practice)
    payload = {"answers": answers(practice), **change}
    response = front_desk.post(screenings_url(patient), payload, "json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Screening.objects.exists()


def test_unknown_item_code_is_400(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice)
    payload = {"answers": [*answers(practice), {"item": "levitation", "yes": True}]}
    response = front_desk.post(screenings_url(patient), payload, "json")
    assert response.status_code == 400
    assert "levitation" in " ".join(response.json()["errors"]["answers"])
    assert not Screening.objects.exists()


def test_r7_hypertensive_without_blood_pressure_is_400(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    response = front_desk.post(screenings_url(patient), {"answers": answers(practice)}, "json")
    assert response.status_code == 400
    assert "R7" in response.json()["errors"]["systolic"][0]
    assert not Screening.objects.exists()


def test_r2_doctor_clearance_for_oncology_is_400(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice)
    payload = {
        "answers": answers(practice, oncology=""),
        "clearances": [{"item": "oncology", "doctor_name": "Dr. A", "issued_on": "2026-01-02"}],
    }
    response = front_desk.post(screenings_url(patient), payload, "json")
    assert response.status_code == 400
    assert "clearances" in response.json()["errors"]


def test_r6_clearance_upload_lifts_needs_doctor(front_desk, practice, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient, yes={"uncertain_diagnosis": ""})
    url = f"{screenings_url(patient)}{screening.pk}/clearances/"
    issued = today(practice)
    response = front_desk.post(
        url,
        {
            "item": "uncertain_diagnosis",
            "doctor_name": "Dr. Novak",
            "issued_on": issued.isoformat(),
            "document": SimpleUploadedFile("letter.pdf", b"%PDF-1.4", "application/pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"]["status"] == "restricted"
    assert body["clearances"][0]["document"].endswith(".pdf")


def test_clearance_document_must_be_pdf_or_image(front_desk, practice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient, yes={"uncertain_diagnosis": ""})
    response = front_desk.post(
        f"{screenings_url(patient)}{screening.pk}/clearances/",
        {
            "item": "uncertain_diagnosis",
            "doctor_name": "Dr. Novak",
            "issued_on": "2026-01-05",
            "document": SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream"),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "clearances" in response.json()["errors"]
    screening.refresh_from_db()
    assert screening.status == "needs_doctor"
    assert not screening.clearances.exists()


def test_screening_list_has_constant_queries(
    front_desk, practice, django_assert_num_queries
) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient)
    with CaptureQueriesContext(connection) as one:
        assert front_desk.get(screenings_url(patient)).status_code == 200
    for days in range(1, 6):
        ScreeningFactory(
            patient=patient, yes={"moles": "neck"}, screened_on=today(practice, days=-days)
        )
    with django_assert_num_queries(len(one)):
        response = front_desk.get(screenings_url(patient))
    assert response.json()["count"] == 6


# --- Catalogue and /me/ -----------------------------------------------------------------------


def test_catalogue_is_read_only_and_has_rule_ids(front_desk) -> None:
    response = front_desk.get("/api/v1/contraindications/")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == {item.code for item in DEFAULT_CONTRAINDICATIONS}
    assert rows["oncology"]["rule"] == "R2"
    assert rows["oncology"]["clearable"] is False
    assert rows["pregnancy"]["blocks_types"] == ["cupping"]
    assert front_desk.post("/api/v1/contraindications/", {}).status_code == 405


def test_catalogue_list_has_constant_queries(
    front_desk, practice, django_assert_num_queries
) -> None:
    with CaptureQueriesContext(connection) as before:
        front_desk.get("/api/v1/contraindications/")
    ContraindicationFactory.create_batch(5, practice=practice)
    with django_assert_num_queries(len(before)):
        assert len(front_desk.get("/api/v1/contraindications/").json()) == 21


def test_me_shows_a_patient_their_record_and_screening(api_as, two_patients) -> None:
    body = api_as(two_patients["user_a"]).get("/api/v1/me/").json()
    assert body["patient"]["id"] == two_patients["patient_a"].pk
    assert body["patient"]["screening"]["outcome"]["status"] == "cleared"


def test_me_shows_staff_no_patient_record(front_desk) -> None:
    assert front_desk.get("/api/v1/me/").json()["patient"] is None


def test_r8_screening_status_answers_per_day(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    screening = ScreeningFactory(patient=patient, systolic=170, diastolic=95)
    url = f"{PATIENTS}{patient.pk}/screening-status/"
    today = front_desk.get(url).json()
    assert today["valid"] is True
    assert today["screening"]["id"] == screening.pk
    assert today["screening"]["outcome"]["status"] == "blocked"
    tomorrow = screening.screened_on + timedelta(days=1)
    later = front_desk.get(url, {"on": tomorrow.isoformat()}).json()
    assert later["screening"]["outcome"]["status"] == "restricted"  # no vibration only
    assert later["screening"]["outcome"]["blocked_massage_types"] == ["vibration"]


def test_r1_screening_status_none_valid(front_desk, practice, api_as, two_patients) -> None:
    patient = PatientFactory(practice=practice)
    body = front_desk.get(f"{PATIENTS}{patient.pk}/screening-status/").json()
    assert body["valid"] is False
    assert body["screening"] is None
    assert (
        front_desk.get(
            f"{PATIENTS}{patient.pk}/screening-status/", {"on": "not-a-date"}
        ).status_code
        == 400
    )
    # A patient asks about their own record only.
    client = api_as(two_patients["user_a"])
    own = two_patients["patient_a"]
    assert client.get(f"{PATIENTS}{own.pk}/screening-status/").json()["valid"] is True
    other = two_patients["patient_b"]
    assert client.get(f"{PATIENTS}{other.pk}/screening-status/").status_code == 404


def test_r2_a_screening_recorded_in_english_reads_in_russian(front_desk, practice) -> None:
    patient = PatientFactory(practice=practice)
    payload = {"answers": answers(practice, tuberculosis="")}
    created = front_desk.post(screenings_url(patient), payload, "json", HTTP_ACCEPT_LANGUAGE="en")
    url = f"{screenings_url(patient)}{created.json()['id']}/"

    russian = front_desk.get(url, HTTP_ACCEPT_LANGUAGE="ru").json()["outcome"]["findings"]

    assert [f["message"] for f in russian] == ["Туберкулёз: любой массаж запрещён."]


def test_the_patients_list_pages_by_the_size_a_client_asks(practice, desk, api_as) -> None:
    PatientFactory.create_batch(25, practice=practice)
    client = api_as(desk)

    first = client.get("/api/v1/patients/?page_size=20").json()
    assert len(first["results"]) == 20
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 5
    assert {p["id"] for p in first["results"]}.isdisjoint({p["id"] for p in rest["results"]})
    assert len(client.get("/api/v1/patients/?page_size=1000").json()["results"]) == 25
