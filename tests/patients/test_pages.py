"""The patients pages through Django's test client: who may open what (two practices, two
patients), forms and their errors, the screening preview, clearances and the portal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from patients.models import DoctorClearance, Patient, Screening
from patients.screening import Status
from patients.selectors import patient_screening_status
from patients.services import clearance_add, screening_record
from practice.models import Role
from tests.clock import today
from tests.factories import PatientFactory, ScreeningFactory, answers_all_no
from tests.pages import field_errors, logged_in

pytestmark = pytest.mark.django_db


def url(name: str, practice, **kwargs: object) -> str:
    return reverse(f"patients:{name}", kwargs={"practice_slug": practice.slug, **kwargs})


@pytest.fixture
def ann(practice, member) -> Patient:
    user = member(practice, Role.PATIENT, email="ann@example.com")
    return PatientFactory(practice=practice, user=user, given_name="Ann", family_name="Berg")


@pytest.fixture
def bob(practice, member) -> Patient:
    user = member(practice, Role.PATIENT, email="bob@example.com")
    return PatientFactory(practice=practice, user=user, given_name="Bob", family_name="Stone")


@pytest.fixture
def harbour_patient(other_practice) -> Patient:
    return PatientFactory(practice=other_practice, given_name="Hal", family_name="Harbour")


def staff_urls(practice, patient: Patient, screening: Screening) -> list[str]:
    return [
        url("patient-list", practice),
        url("patient-new", practice),
        url("patient-detail", practice, pk=patient.pk),
        url("patient-edit", practice, pk=patient.pk),
        url("patient-archive", practice, pk=patient.pk),
        url("screening-new", practice, pk=patient.pk),
        url("clearance-new", practice, pk=patient.pk, screening_pk=screening.pk),
    ]


def answer_data(patient: Patient, **yes: str) -> dict[str, str]:
    """POST data answering every catalogue item "no", except `yes` (code → zone)."""
    data = {}
    for answer in answers_all_no(patient):
        data[f"item_{answer.code}"] = "yes" if answer.code in yes else "no"
        if answer.code in yes:
            data[f"zone_{answer.code}"] = yes[answer.code]
    return data


# --- Who may open what ------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login_page(practice, ann) -> None:
    screening = ScreeningFactory(patient=ann)
    for page in [*staff_urls(practice, ann, screening), url("portal", practice)]:
        response = Client().get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_staff_pages_to_patients(practice, ann) -> None:
    screening = ScreeningFactory(patient=ann)
    client = logged_in(ann.user)
    for page in staff_urls(practice, ann, screening):
        assert client.get(page).status_code == 403, page
    assert client.post(url("patient-archive", practice, pk=ann.pk)).status_code == 403
    ann.refresh_from_db()
    assert not ann.archived


def test_it_refuses_the_portal_to_staff(practice, desk) -> None:
    assert logged_in(desk).get(url("portal", practice)).status_code == 403


def test_staff_of_another_practice_get_404_on_every_page(
    practice, ann, other_desk, other_practice, harbour_patient
) -> None:
    screening = ScreeningFactory(patient=ann)
    client = logged_in(other_desk)
    for page in staff_urls(practice, ann, screening):
        assert client.get(page).status_code == 404, page
    # Their own practice's URLs with the other practice's ids: 404 too.
    for page in staff_urls(other_practice, ann, screening)[2:]:
        assert client.get(page).status_code == 404, page
    response = client.post(url("patient-archive", other_practice, pk=ann.pk))
    assert response.status_code == 404
    assert client.get(url("patient-list", other_practice)).status_code == 200


def test_search_never_lists_another_practices_patients(
    practice, desk, ann, harbour_patient
) -> None:
    html = logged_in(desk).get(url("patient-list", practice), {"q": "Harbour"}).content.decode()
    assert "Hal" not in html
    assert "0 patients" in html


def test_a_patient_never_sees_another_patients_screening(practice, ann, bob) -> None:
    bobs = ScreeningFactory(patient=bob)
    anns = ScreeningFactory(patient=ann)
    client = logged_in(ann.user)

    assert client.get(url("portal-screening", practice, pk=bobs.pk)).status_code == 404
    assert client.get(url("portal-screening", practice, pk=anns.pk)).status_code == 200
    portal = client.get(url("portal", practice)).content.decode()
    assert "Ann Berg" in portal
    assert "Bob" not in portal


def test_a_patient_of_another_practice_gets_404(practice, other_practice, member, ann) -> None:
    outsider = member(other_practice, Role.PATIENT)
    anns = ScreeningFactory(patient=ann)
    for page in (
        url("portal", practice),
        url("portal-screening-new", practice),
        url("portal-screening", practice, pk=anns.pk),
    ):
        assert logged_in(outsider).get(page).status_code == 404, page
    assert logged_in(ann.user).get(url("portal", other_practice)).status_code == 404


def test_a_huge_id_in_the_url_is_a_404(practice, desk) -> None:
    huge = 10**30
    assert logged_in(desk).get(f"/p/{practice.slug}/patients/{huge}/").status_code == 404


def test_forms_need_the_csrf_token(practice, desk, ann) -> None:
    client = logged_in(desk, enforce_csrf_checks=True)
    assert client.post(url("patient-archive", practice, pk=ann.pk)).status_code == 403
    ann.refresh_from_db()
    assert not ann.archived
    page = client.get(url("patient-new", practice)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


# --- Search -----------------------------------------------------------------------------------


def test_search_finds_patients_by_name_phone_and_email(practice, desk) -> None:
    PatientFactory(practice=practice, given_name="Clara", family_name="Zetkin", phone="+4915100001")
    PatientFactory(practice=practice, given_name="Dora", family_name="Maar", email="dm@ex.org")
    client = logged_in(desk)

    def names(query: str) -> str:
        return client.get(url("patient-list", practice), {"q": query}).content.decode()

    assert "Zetkin" in names("zetk cla")
    assert "Maar" not in names("zetk cla")
    assert "Zetkin" in names("0151 00001")
    assert "Maar" in names("dm@ex")
    assert "Zetkin" not in names("dm@ex")


def test_search_hides_archived_patients_unless_asked(practice, desk) -> None:
    PatientFactory(practice=practice, family_name="Gone", archived=True)
    client = logged_in(desk)
    assert "Gone" not in client.get(url("patient-list", practice)).content.decode()
    shown = client.get(url("patient-list", practice), {"archived": "on"}).content.decode()
    assert "Gone" in shown


def test_search_is_paginated_and_keeps_the_query(practice, desk) -> None:
    PatientFactory.create_batch(30, practice=practice, family_name="Same")
    client = logged_in(desk)

    first = client.get(url("patient-list", practice), {"q": "same"}).content.decode()
    second = client.get(url("patient-list", practice), {"q": "same", "page": 2}).content.decode()

    assert first.count('class="card"') == 25
    assert second.count('class="card"') == 5
    assert "?q=same&amp;page=2" in first


def test_search_answers_htmx_with_the_results(practice, desk, ann) -> None:
    response = logged_in(desk).get(
        url("patient-list", practice), {"q": "berg"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="results"' in response.content.decode()
    assert "Berg" in response.content.decode()


def test_search_runs_the_same_number_of_queries_for_3_or_40_patients(
    practice, desk, django_assert_num_queries
) -> None:
    client = logged_in(desk)
    PatientFactory.create_batch(3, practice=practice)
    # Session, user, the membership (the page decorator), the count, one page of rows.
    with django_assert_num_queries(5):
        assert client.get(url("patient-list", practice)).status_code == 200
    PatientFactory.create_batch(37, practice=practice)
    with django_assert_num_queries(5):
        assert client.get(url("patient-list", practice), {"q": "a"}).status_code == 200


# --- Patient forms ----------------------------------------------------------------------------


def new_patient_data(**overrides: str) -> dict[str, str]:
    data = {
        "given_name": "Erika",
        "family_name": "Mustermann",
        "date_of_birth": "1980-02-03",
        "sex": "female",
        "phone": "+49 (151) 2345-6789",
        "email": "Erika@Example.com",
    }
    return {**data, **overrides}


def test_it_creates_a_patient_through_the_service(practice, desk) -> None:
    response = logged_in(desk).post(url("patient-new", practice), new_patient_data())

    patient = Patient.objects.get(family_name="Mustermann")
    assert response.status_code == 302
    assert response["Location"] == url("patient-detail", practice, pk=patient.pk) + "?notice=saved"
    assert patient.practice == practice
    assert patient.phone == "+4915123456789"
    assert patient.email == "erika@example.com"


def test_it_shows_errors_next_to_the_fields(practice, desk) -> None:
    future = today(practice, days=10).isoformat()
    response = logged_in(desk).post(
        url("patient-new", practice),
        new_patient_data(
            given_name="", phone="12", date_of_birth=future, consent_sms="on", email="nope"
        ),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "required" in field_errors(html, "given_name")
    assert "international format" in field_errors(html, "phone")
    assert "valid email" in field_errors(html, "email")
    assert not Patient.objects.exists()


def test_model_rules_come_back_next_to_their_fields(practice, desk) -> None:
    future = today(practice, days=2).isoformat()
    response = logged_in(desk).post(
        url("patient-new", practice), new_patient_data(date_of_birth=future, consent_sms="on")
    )
    html = response.content.decode()
    assert "cannot be in the future" in field_errors(html, "date_of_birth")
    assert "consented" in field_errors(html, "consent_given_on")


def test_a_likely_duplicate_is_shown_and_saved_only_when_confirmed(practice, desk) -> None:
    existing = PatientFactory(practice=practice, email="erika@example.com")
    client = logged_in(desk)

    first = client.post(url("patient-new", practice), new_patient_data())

    html = first.content.decode()
    assert first.status_code == 400
    assert url("patient-detail", practice, pk=existing.pk) in html
    assert "This is a different person: save anyway" in html
    assert Patient.objects.count() == 1

    saved = client.post(url("patient-new", practice), new_patient_data(confirm_duplicate="on"))
    assert saved.status_code == 302
    assert Patient.objects.count() == 2


def test_it_edits_a_patient(practice, desk, ann) -> None:
    data = new_patient_data(
        given_name="Anne", family_name="Berg", email="", phone="", user=str(ann.user_id)
    )
    response = logged_in(desk).post(url("patient-edit", practice, pk=ann.pk), data)

    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.given_name == "Anne"
    assert ann.user is not None


def test_the_portal_account_must_be_a_patient_of_this_practice(
    practice, desk, ann, other_practice, member
) -> None:
    stranger = member(other_practice, Role.PATIENT)
    response = logged_in(desk).post(
        url("patient-new", practice), new_patient_data(user=str(stranger.pk))
    )
    assert "valid choice" in field_errors(response.content.decode(), "user")


def test_archiving_asks_first_and_needs_a_post(practice, desk, ann) -> None:
    client = logged_in(desk)
    confirm_page = client.get(url("patient-archive", practice, pk=ann.pk))
    ann.refresh_from_db()
    assert confirm_page.status_code == 200
    assert not ann.archived

    response = client.post(url("patient-archive", practice, pk=ann.pk))
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.archived


# --- Record page ------------------------------------------------------------------------------


def test_the_record_shows_screenings_with_their_outcome_and_rule_ids(practice, desk, ann) -> None:
    ScreeningFactory(patient=ann, yes={"pregnancy": "", "inflamed_skin": "lower_back", "moles": ""})

    html = logged_in(desk).get(url("patient-detail", practice, pk=ann.pk)).content.decode()

    assert "Restricted" in html
    assert "Cupping / vacuum" in html or "Cupping" in html
    assert "Lower back" in html
    for rule in ("R3", "R4"):
        assert f'<span class="rule">{rule}</span>' in html
    assert "massage with caution" in html


def test_the_record_says_when_there_is_no_valid_screening(practice, desk, ann) -> None:
    html = logged_in(desk).get(url("patient-detail", practice, pk=ann.pk)).content.decode()
    assert "No valid screening" in html
    assert "R1" in html


# --- Screening form ---------------------------------------------------------------------------


def test_the_form_asks_every_catalogue_question(practice, desk, ann) -> None:
    html = logged_in(desk).get(url("screening-new", practice, pk=ann.pk)).content.decode()
    for answer in answers_all_no(ann):
        assert f'name="item_{answer.code}"' in html
    assert 'name="zone_inflamed_skin"' in html
    assert 'name="zone_oncology"' not in html
    assert 'name="temperature"' in html
    assert 'name="systolic"' in html


def test_check_shows_the_outcome_and_saves_nothing(practice, desk, ann) -> None:
    data = {**answer_data(ann, oncology=""), "temperature": "36.6", "action": "check"}

    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Computed outcome (not saved yet)" in html
    assert "Blocked" in html
    assert '<span class="rule">R2</span>' in html
    assert 'value="save"' in html
    assert not Screening.objects.exists()


def test_r7_the_outcome_shows_a_high_reading_as_a_warning(practice, desk, ann) -> None:
    data = {**answer_data(ann), "systolic": "150", "diastolic": "95", "action": "check"}

    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "No contraindication found." not in html
    assert '<li class="finding finding-warn"><span class="rule">R7</span>' in html
    assert "150/95 mmHg is high: consider flagging the patient as hypertensive" in html


def test_check_over_htmx_answers_200_even_with_errors(practice, desk, ann) -> None:
    data = {**answer_data(ann), "temperature": "50", "action": "check"}
    response = logged_in(desk).post(
        url("screening-new", practice, pk=ann.pk), data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "temperature")


def test_save_records_the_screening_through_the_service(practice, desk, ann) -> None:
    data = {**answer_data(ann, inflamed_skin="neck"), "temperature": "36.6", "action": "save"}

    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)

    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.recorded_by == desk
    assert not screening.self_reported
    assert screening.status == Status.RESTRICTED
    assert screening.outcome.blocked_zones == {"neck"}
    assert patient_screening_status(patient=ann, on=screening.screened_on).screening == screening


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", "29.9"), ("temperature", "45.1"), ("systolic", "400"), ("pulse", "5")],
)
def test_impossible_vitals_are_shown_next_to_the_field(practice, desk, ann, field, value) -> None:
    for action in ("check", "save"):
        data = {**answer_data(ann), field: value, "action": action}
        response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)
        assert response.status_code == 400
        assert field_errors(response.content.decode(), field)
    assert not Screening.objects.exists()


def test_r3_a_local_yes_without_zone_is_shown_next_to_the_question(practice, desk, ann) -> None:
    data = {**answer_data(ann, wound=""), "action": "check"}
    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)
    assert "Say which zone is affected (R3)." in field_errors(
        response.content.decode(), "zone_wound"
    )


def test_r7_a_hypertensive_patient_needs_blood_pressure_next_to_the_field(
    practice, desk, ann
) -> None:
    data = {**answer_data(ann, hypertension=""), "action": "save"}
    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)
    html = response.content.decode()
    assert "R7" in field_errors(html, "systolic")
    assert "R7" in field_errors(html, "diastolic")
    assert not Screening.objects.exists()


def test_every_question_must_be_answered(practice, desk, ann) -> None:
    data = answer_data(ann)
    del data["item_oncology"]
    response = logged_in(desk).post(url("screening-new", practice, pk=ann.pk), data)
    assert "required" in field_errors(response.content.decode(), "item_oncology")


# --- Clearances -------------------------------------------------------------------------------


def letter(name: str = "letter.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 cleared", "application/pdf")


def test_r6_a_clearance_upload_recomputes_the_outcome(
    practice, desk, ann, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    screening = ScreeningFactory(patient=ann, yes={"uncertain_diagnosis": ""})
    item = screening.answers.get(contraindication__code="uncertain_diagnosis").contraindication
    data = {
        "contraindication": item.pk,
        "doctor_name": "Dr. Novak",
        "issued_on": today(practice).isoformat(),
        "document": letter(),
    }

    response = logged_in(desk).post(
        url("clearance-new", practice, pk=ann.pk, screening_pk=screening.pk), data
    )

    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.status == Status.RESTRICTED
    assert screening.clearances.get().document.name.startswith(f"clearances/{practice.pk}/")


def test_a_clearance_offers_only_items_a_doctor_can_lift(practice, desk, ann) -> None:
    screening = ScreeningFactory(patient=ann, yes={"oncology": "", "tuberculosis": ""})
    oncology = screening.answers.get(contraindication__code="oncology").contraindication
    page = url("clearance-new", practice, pk=ann.pk, screening_pk=screening.pk)
    client = logged_in(desk)

    html = client.get(page).content.decode()
    assert "Tuberculosis" in html
    assert "Oncology" not in html

    response = client.post(
        page,
        {"contraindication": oncology.pk, "doctor_name": "Dr. X", "issued_on": "2020-01-01"},
    )
    assert "valid choice" in field_errors(response.content.decode(), "contraindication")
    assert not DoctorClearance.objects.exists()


def test_a_clearance_document_must_be_a_pdf_or_a_photo(practice, desk, ann) -> None:
    screening = ScreeningFactory(patient=ann, yes={"tuberculosis": ""})
    item = screening.answers.get(contraindication__code="tuberculosis").contraindication
    response = logged_in(desk).post(
        url("clearance-new", practice, pk=ann.pk, screening_pk=screening.pk),
        {
            "contraindication": item.pk,
            "doctor_name": "Dr. X",
            "issued_on": "2020-01-01",
            "document": SimpleUploadedFile("run.exe", b"MZ"),
        },
    )
    assert response.status_code == 400
    assert "extension" in field_errors(response.content.decode(), "document")
    assert not DoctorClearance.objects.exists()


def test_clearance_documents_are_served_to_staff_of_the_practice_only(
    practice, desk, ann, bob, other_desk, other_practice, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    screening = ScreeningFactory(patient=ann, yes={"tuberculosis": ""})
    clearance = clearance_add(
        screening=screening,
        code="tuberculosis",
        doctor_name="Dr. Novak",
        issued_on=screening.screened_on,
        document=letter(),
    )
    page = url("clearance-document", practice, pk=clearance.pk)

    response = logged_in(desk).get(page)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 cleared"

    assert Client().get(page).status_code == 302
    assert logged_in(ann.user).get(page).status_code == 403
    assert logged_in(bob.user).get(page).status_code == 403
    assert logged_in(other_desk).get(page).status_code == 404
    other_page = url("clearance-document", other_practice, pk=clearance.pk)
    assert logged_in(other_desk).get(other_page).status_code == 404


def test_a_clearance_without_a_document_has_nothing_to_download(practice, desk, ann) -> None:
    screening = ScreeningFactory(patient=ann, yes={"tuberculosis": ""})
    clearance = clearance_add(
        screening=screening,
        code="tuberculosis",
        doctor_name="Dr. Novak",
        issued_on=screening.screened_on,
    )
    page = url("clearance-document", practice, pk=clearance.pk)
    assert logged_in(desk).get(page).status_code == 404


# --- Portal -----------------------------------------------------------------------------------


def test_r1_the_portal_questionnaire_is_stored_self_reported_and_does_not_count(
    practice, ann
) -> None:
    ann.hypertensive = True  # R7 waits for the confirmation: no reading at home
    ann.save()
    client = logged_in(ann.user)
    data = {**answer_data(ann, moles="shoulders"), "notes": "Sore neck"}

    response = client.post(url("portal-screening-new", practice), data)

    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(url("portal-screening", practice, pk=screening.pk))
    assert screening.self_reported
    assert screening.awaiting_confirmation
    assert screening.recorded_by == ann.user
    assert screening.patient == ann
    assert not patient_screening_status(patient=ann, on=screening.screened_on).valid
    assert "Self-reported, to confirm" in client.get(response["Location"]).content.decode()
    assert "Self-reported, to confirm" in client.get(url("portal", practice)).content.decode()


def test_the_portal_questionnaire_has_no_vitals_and_shows_errors(practice, ann) -> None:
    client = logged_in(ann.user)
    form = client.get(url("portal-screening-new", practice)).content.decode()
    assert 'name="temperature"' not in form

    response = client.post(url("portal-screening-new", practice), answer_data(ann, wound=""))
    assert response.status_code == 400
    assert "R3" in field_errors(response.content.decode(), "zone_wound")
    assert not Screening.objects.exists()


def test_a_patient_without_a_record_is_told_so(practice, member) -> None:
    user = member(practice, Role.PATIENT)
    client = logged_in(user)
    assert "not linked a patient record" in client.get(url("portal", practice)).content.decode()
    assert client.get(url("portal-screening-new", practice)).status_code == 404


def test_staff_confirm_a_self_reported_screening(practice, desk, ann) -> None:
    screening = screening_record(
        patient=ann, answers=answers_all_no(ann), recorded_by=ann.user, self_reported=True
    )
    record = logged_in(desk).get(url("patient-detail", practice, pk=ann.pk)).content.decode()
    confirm = url("screening-confirm", practice, pk=ann.pk, screening_pk=screening.pk)
    assert "Self-reported, to confirm" in record
    assert confirm in record

    response = logged_in(desk).post(confirm, {"temperature": "36.8"})

    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.confirmed_by == desk
    assert screening.temperature == Decimal("36.8")
    assert patient_screening_status(patient=ann, on=screening.screened_on).screening == screening
    assert logged_in(desk).get(confirm).status_code == 404  # nothing left to confirm


def test_r7_confirming_shows_the_missing_blood_pressure_next_to_the_field(
    practice, desk, ann
) -> None:
    ann.hypertensive = True
    ann.save()
    screening = screening_record(
        patient=ann, answers=answers_all_no(ann), recorded_by=ann.user, self_reported=True
    )
    confirm = url("screening-confirm", practice, pk=ann.pk, screening_pk=screening.pk)

    response = logged_in(desk).post(confirm, {"temperature": "36.8"})

    assert response.status_code == 400
    assert "R7" in field_errors(response.content.decode(), "systolic")
    screening.refresh_from_db()
    assert screening.awaiting_confirmation


def test_confirming_is_staff_only_and_scoped(practice, ann, bob, other_desk) -> None:
    screening = screening_record(
        patient=ann, answers=answers_all_no(ann), recorded_by=ann.user, self_reported=True
    )
    confirm = url("screening-confirm", practice, pk=ann.pk, screening_pk=screening.pk)
    assert logged_in(ann.user).post(confirm).status_code == 403
    assert logged_in(other_desk).post(confirm).status_code == 404
    # A screening of one patient under another patient's URL: 404.
    wrong = url("screening-confirm", practice, pk=bob.pk, screening_pk=screening.pk)
    assert logged_in(other_desk).get(wrong).status_code == 404
    screening.refresh_from_db()
    assert screening.awaiting_confirmation


def test_a_screening_under_another_patients_url_is_404(practice, desk, ann, bob) -> None:
    screening = ScreeningFactory(patient=ann)
    wrong = url("clearance-new", practice, pk=bob.pk, screening_pk=screening.pk)
    assert logged_in(desk).get(wrong).status_code == 404


# --- Nothing a user types makes a 500 ---------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%",
    "_",
    "\\",
    "'; DROP TABLE patients_patient; --",
    "x" * 5000,
    "9" * 400,
    "-1",
    "1e999",
    "NaN",
    "Infinity",
    "ё😀\u202e",
    "0000-00-00",
    "99999-12-31",
]


@pytest.mark.parametrize("value", NASTY)
def test_nothing_typed_into_a_page_makes_a_500(practice, desk, ann, value) -> None:
    screening = ScreeningFactory(patient=ann, yes={"tuberculosis": ""})
    self_reported = screening_record(
        patient=ann, answers=answers_all_no(ann), recorded_by=ann.user, self_reported=True
    )
    staff = logged_in(desk)
    patient_fields = [*new_patient_data(), "consent_given_on", "user", "notes"]
    screening_fields = [*answer_data(ann), "zone_wound", "temperature", "systolic", "notes"]
    pages = [
        (staff, "get", url("patient-list", practice), {"q": value, "page": value}),
        (staff, "post", url("patient-new", practice), dict.fromkeys(patient_fields, value)),
        (
            staff,
            "post",
            url("patient-edit", practice, pk=ann.pk),
            {**new_patient_data(), "phone": value, "date_of_birth": value},
        ),
        (
            staff,
            "post",
            url("screening-new", practice, pk=ann.pk),
            {**dict.fromkeys(screening_fields, value), "action": value},
        ),
        (
            staff,
            "post",
            url("screening-new", practice, pk=ann.pk),
            {**answer_data(ann), "temperature": value, "pulse": value, "action": "check"},
        ),
        (
            staff,
            "post",
            url("clearance-new", practice, pk=ann.pk, screening_pk=screening.pk),
            {"contraindication": value, "doctor_name": value, "issued_on": value},
        ),
        (
            logged_in(ann.user),
            "post",
            url("portal-screening-new", practice),
            {**dict.fromkeys(screening_fields, value)},
        ),
        (
            staff,
            "post",
            url("screening-confirm", practice, pk=ann.pk, screening_pk=self_reported.pk),
            dict.fromkeys(["temperature", "systolic", "diastolic", "pulse"], value),
        ),
    ]
    for client, method, page, data in pages:
        response = getattr(client, method)(page, data)
        assert response.status_code in (200, 302, 400), (page, response.status_code)


def test_the_home_page_links_staff_to_the_search_and_patients_to_their_record(
    practice, desk, ann
) -> None:
    staff_home = logged_in(desk).get("/").content.decode()
    patient_home = logged_in(ann.user).get("/").content.decode()

    assert url("patient-list", practice) in staff_home
    assert url("portal", practice) not in staff_home
    assert url("portal", practice) in patient_home
    assert url("patient-list", practice) not in patient_home


def test_confirming_without_any_vitals_works_for_a_patient_who_needs_none(
    practice, desk, ann
) -> None:
    screening = screening_record(
        patient=ann, answers=answers_all_no(ann), recorded_by=ann.user, self_reported=True
    )
    confirm = url("screening-confirm", practice, pk=ann.pk, screening_pk=screening.pk)

    assert logged_in(desk).post(confirm).status_code == 302
    screening.refresh_from_db()
    assert screening.confirmed_by == desk
