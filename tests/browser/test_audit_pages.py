"""A manager's audit log and a patient's access history and data export in Debian's chromium:
axe on every page, phones at 375 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from practice.models import Role
from tests.browser.conftest import PHONE, fits_the_phone, logged_in
from tests.factories import PatientFactory, ScreeningFactory
from tests.second_factor import authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_the_log_the_access_history_and_the_export(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    manager = member(practice, Role.MANAGER, email="manager@example.com")
    ScreeningFactory(
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    )
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "manager@example.com", authenticator=authenticator(manager))

    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Berg, Ann").click()
    page.get_by_role("link", name="Access history").click()
    expect(page.get_by_role("heading", name="Access history: Ann Berg")).to_be_visible()
    expect(page.get_by_role("cell", name="manager@example.com").first).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "patient-access-history")

    page.get_by_role("link", name="Back to the record").click()
    page.get_by_role("link", name="Export data").click()
    expect(page.get_by_role("heading", name="Data held about Ann Berg")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "patient-export")

    page.go_back()  # the export is a page of its own; the record's menu has the log
    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_label("Action").select_option("export")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="exported")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "audit-log")
