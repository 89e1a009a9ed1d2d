"""The patients pages in Debian's chromium: the front desk screens a new patient, a patient
fills the questionnaire in the portal and the desk confirms it; axe on every page, phones at
375 px, and Russian."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from patients.models import Patient, Screening
from patients.screening import Status
from practice.models import Role
from tests.browser.conftest import PHONE, fits_the_phone, logged_in
from tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db(transaction=True)


def answer_every_question_no(page: Page) -> None:
    expect(page.locator("fieldset.question").first).to_be_visible()
    questions = page.locator("fieldset.question").all()
    assert len(questions) == 16  # the whole default catalogue
    for question in questions:
        question.get_by_label("No", exact=True).check()


def question(page: Page, text: str):
    return page.locator("fieldset.question").filter(has_text=text)


def test_the_front_desk_screens_a_new_patient(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    PatientFactory(practice=practice, given_name="Otto", family_name="Lang")
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "desk@example.com")

    # Search, with results arriving as the name is typed (htmx): no button is pressed.
    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="2 patients")).to_be_visible()
    page.get_by_label("Name, phone or email").press_sequentially("berg", delay=50)
    expect(page.get_by_role("heading", name="1 patient", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Berg, Ann")).to_be_visible()
    expect(page.get_by_role("link", name="Lang, Otto")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?q=berg"))
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "patient-search")

    # A new patient.
    page.get_by_role("link", name="New patient").first.click()
    page.get_by_label("Given name").fill("Erika")
    page.get_by_label("Family name").fill("Mustermann")
    page.get_by_label("Date of birth").fill("1980-02-03")
    page.get_by_label(re.compile(r"^Phone:?$")).fill("+49 151 23456789")
    page.get_by_label("Hypertensive").check()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "patient-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Erika Mustermann")).to_be_visible()
    expect(page.get_by_text("No valid screening")).to_be_visible()

    # The screening: the outcome is computed and shown before anything is saved.
    page.get_by_role("link", name="New screening").click()
    answer_every_question_no(page)
    question(page, "Are you pregnant?").get_by_label("Yes", exact=True).check()
    inflamed = question(page, "Is the skin inflamed")
    inflamed.get_by_label("Yes", exact=True).check()
    inflamed.get_by_label("Affected zone").select_option("lower_back")
    page.get_by_label("Temperature (°C)").fill("36.6")
    page.get_by_label("Systolic (mmHg)").fill("150")
    page.get_by_label("Diastolic (mmHg)").fill("90")
    # With JS the check is an htmx request that swaps the section in place.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as check:
        page.get_by_role("button", name="Check the outcome").click()
    assert check.value.status == 200

    outcome = page.locator("#outcome")
    expect(outcome.get_by_role("heading", name="Computed outcome (not saved yet)")).to_be_visible()
    expect(outcome).to_contain_text("Restricted")
    expect(outcome).to_contain_text("Lower back")
    for rule in ("R3", "R4", "R8"):
        expect(outcome.locator(".rule", has_text=rule).first).to_be_visible()
    assert Screening.objects.count() == 0
    assert_accessible(page)
    screenshot(page, "screening-form")

    page.get_by_role("button", name="Save the screening").click()
    expect(page.get_by_text("Screening saved.")).to_be_visible()
    current = page.locator("section", has=page.get_by_role("heading", name="Screening today"))
    expect(current).to_contain_text("Restricted")
    expect(current).to_contain_text("R4")
    screening = Screening.objects.get()
    assert screening.patient == Patient.objects.get(family_name="Mustermann")
    assert screening.status == Status.RESTRICTED
    assert_accessible(page)
    screenshot(page, "patient-record")


def test_errors_appear_next_to_the_fields_in_the_browser(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    patient = PatientFactory(practice=practice, hypertensive=True)
    logged_in(page, live_server, "desk@example.com")

    page.goto(f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/screenings/new/")
    answer_every_question_no(page)
    page.get_by_label("Temperature (°C)").fill("52")
    page.get_by_role("button", name="Check the outcome").click()

    expect(page.locator("#id_temperature_errors")).to_contain_text("less than or equal to 45")
    expect(page.locator("#id_systolic_errors")).to_contain_text("R7")
    expect(page.locator("#outcome")).to_have_count(0)
    assert_accessible(page)
    assert Screening.objects.count() == 0


def test_a_patient_fills_the_questionnaire_and_the_desk_confirms_it(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    user = member(practice, Role.PATIENT, email="ann@example.com")
    PatientFactory(practice=practice, user=user, given_name="Ann", family_name="Berg")
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "ann@example.com")

    page.get_by_role("link", name="My record").first.click()
    expect(page.get_by_role("heading", name="My record")).to_be_visible()
    expect(page.get_by_text("You have no valid screening")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)

    page.get_by_role("link", name="Fill in the screening questionnaire").click()
    answer_every_question_no(page)
    moles = question(page, "moles")
    moles.get_by_label("Yes", exact=True).check()
    moles.get_by_label("Affected zone").select_option("shoulders")
    page.get_by_label("Notes").fill("A sore neck after work.")
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-questionnaire")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("Self-reported, to confirm")).to_be_visible()
    expect(page.get_by_text("Do you have moles where we would massage? Yes")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-screening")
    screening = Screening.objects.get()
    assert screening.awaiting_confirmation

    page.get_by_role("button", name="Log out").click()
    page.set_viewport_size({"width": 1280, "height": 900})
    logged_in(page, live_server, "desk@example.com")
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Berg, Ann").click()
    expect(page.get_by_text("Self-reported, to confirm")).to_be_visible()
    expect(page.get_by_text("No valid screening")).to_be_visible()
    page.get_by_role("link", name="Confirm", exact=True).click()
    assert_accessible(page)
    page.get_by_label("Temperature (°C)").fill("36.7")
    page.get_by_role("button", name="Confirm the screening").click()

    expect(page.get_by_text("Screening confirmed.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Self-reported; confirmed by"))).to_be_visible()
    expect(page.get_by_text("No valid screening")).to_have_count(0)
    screening.refresh_from_db()
    assert not screening.awaiting_confirmation


def test_a_patient_cannot_open_another_patients_screening(
    page: Page, live_server, practice, member
) -> None:
    ann = member(practice, Role.PATIENT, email="ann@example.com")
    PatientFactory(practice=practice, user=ann)
    bob = PatientFactory(practice=practice, user=member(practice, Role.PATIENT))
    bobs = ScreeningFactory(patient=bob)
    logged_in(page, live_server, "ann@example.com")

    response = page.goto(f"{live_server.url}/p/{practice.slug}/me/screenings/{bobs.pk}/")
    assert response is not None
    assert response.status == 404
    response = page.goto(f"{live_server.url}/p/{practice.slug}/patients/{bob.pk}/")
    assert response is not None
    assert response.status == 403


def test_the_patients_pages_render_in_russian(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    patient = PatientFactory(practice=practice)
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/patients/new/")

    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.locator("form[method=post] button[type=submit]").last.click()
    # Django's own catalogue: "This field is required."
    expect(page.locator("#id_given_name_errors")).to_contain_text("Обязательное поле.")
    assert_accessible(page)
    for path in ("patients/", f"patients/{patient.pk}/", f"patients/{patient.pk}/screenings/new/"):
        page.goto(f"{live_server.url}/p/{practice.slug}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        assert_accessible(page)


def test_a_doctors_letter_is_uploaded_and_downloaded_by_staff_only(
    page: Page, live_server, practice, member, assert_accessible, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    screening = ScreeningFactory(patient=patient, yes={"tuberculosis": ""})
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4 cleared")
    logged_in(page, live_server, "desk@example.com")
    record = f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/"

    # The other staff pages pass axe too.
    for path in ("edit/", "archive/"):
        page.goto(record + path)
        assert_accessible(page)
    page.goto(record)
    expect(page.get_by_text("No valid screening")).to_have_count(0)
    expect(page.locator(".status").first).to_contain_text("Blocked")
    page.get_by_role("link", name="Add a doctor's clearance").click()
    assert_accessible(page)
    page.get_by_label("Item the doctor clears").select_option(label="Tuberculosis")
    page.get_by_role("textbox", name="Doctor").fill("Dr. Novak")
    page.get_by_label("Issued on").fill(screening.screened_on.isoformat())
    page.get_by_label("Document").set_input_files(str(letter))
    page.get_by_role("button", name="Record the clearance").click()

    expect(page.get_by_text("Clearance recorded; the outcome was recomputed.")).to_be_visible()
    expect(page.locator(".status").first).to_contain_text("Restricted")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the letter").click()
    assert download.value.suggested_filename.startswith("letter")
    assert Path(download.value.path()).read_bytes() == b"%PDF-1.4 cleared"
    assert_accessible(page)

    # Without a login, the document's URL leads to the login page, never to the file.
    href = page.get_by_role("link", name="Download the letter").get_attribute("href")
    page.get_by_role("button", name="Log out").click()
    response = page.goto(f"{live_server.url}{href}")
    assert response is not None
    assert "/accounts/login/" in response.url
