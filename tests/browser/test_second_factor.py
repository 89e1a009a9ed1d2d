"""A manager sets up an authenticator app, signs out, and signs in again with a code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from practice.models import Role
from tests.browser.conftest import give_code, log_in
from tests.factories import PASSWORD, PatientFactory
from tests.second_factor import code_for_secret

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_sets_up_totp_signs_in_with_a_code_and_reads_the_access_history(
    page: Page, live_server, practice, member, clock, assert_accessible, screenshot
) -> None:
    member(practice, Role.MANAGER, email="boss@example.com", full_name="Maria Manager")
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    record = f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/"

    # Given a manager without a second factor, the patient's page sends them to set one up.
    log_in(page, live_server, "boss@example.com")
    page.goto(record)
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "totp-enrol")

    # When they confirm with the code their app computes from the secret shown...
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    assert secret
    page.get_by_label("Code from the app").fill(code_for_secret(secret))
    page.get_by_role("button", name="Confirm").click()

    # ...they get their recovery codes once, and go on to the patient.
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Ann Berg"))).to_be_visible()

    # Then signing in again asks for a code after the password. (The app's next code: the
    # one used to enrol is never accepted twice.)
    page.get_by_role("button", name="Log out").click()
    clock.shift(timedelta(seconds=30))
    page.goto(record)
    page.get_by_label("Email").fill("boss@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "totp-login")
    give_code(page, code_for_secret(secret))

    expect(page).to_have_url(record)
    expect(page.get_by_role("heading", name=re.compile("Ann Berg"))).to_be_visible()

    # And, signed in with the second factor, they read who has opened the patient's record.
    page.get_by_role("link", name="Access history").click()
    expect(page.get_by_role("heading", name="Access history: Ann Berg")).to_be_visible()
    expect(page.get_by_role("cell", name="boss@example.com").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "access-history")
