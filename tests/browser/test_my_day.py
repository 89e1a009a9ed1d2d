"""A therapist logs in and lands on their own day: their sessions only, with the patient's
flags at a glance; accessible, on a phone as on a desk, and in Russian."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from practice.models import Role
from tests.browser.conftest import PHONE, fits_the_phone, log_in
from tests.clock import local, today
from tests.factories import PatientFactory, SessionFactory, TherapistFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_therapist_logs_in_and_sees_only_their_day(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    therapist_user = member(practice, Role.THERAPIST, email="tanja@example.com")
    own = TherapistFactory(practice=practice, user=therapist_user, week=True)
    SessionFactory(
        therapist=own,
        patient=PatientFactory(
            practice=practice, given_name="Ann", family_name="Berg", hypertensive=True
        ),
        starts_at=local(practice, today(practice), 15),
    )
    SessionFactory(
        therapist=own,
        patient=PatientFactory(practice=practice, given_name="Clara", family_name="Meyer"),
        starts_at=local(practice, today(practice), 16),
    )
    SessionFactory(
        therapist=TherapistFactory(practice=practice, week=True),
        patient=PatientFactory(practice=practice, given_name="Otto", family_name="Lang"),
        starts_at=local(practice, today(practice), 15),
    )

    log_in(page, live_server, "tanja@example.com")

    expect(page).to_have_url(re.compile(r"/p/linden/my-day/$"))
    expect(page.get_by_role("heading", name="My day", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Ann Berg", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Clara Meyer", exact=True)).to_be_visible()
    expect(page.get_by_text("Otto Lang")).to_have_count(0)
    expect(page.get_by_text("Hypertensive", exact=True)).to_have_count(1)
    # The menu is the therapist's: no desk work, no back office.
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="My day")).to_be_visible()
    expect(menu.get_by_role("link", name="Plan a course")).to_have_count(0)
    expect(menu.get_by_role("link", name="Back office")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "therapist-day")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_role("link", name="Ann Berg", exact=True)).to_be_visible()
    assert fits_the_phone(page)
    assert_accessible(page)
    screenshot(page, "therapist-day-phone")

    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("link", name="Следующий день")).to_be_visible()
    expect(page.get_by_role("link", name="Ann Berg", exact=True)).to_be_visible()
    expect(page.get_by_text("Otto Lang")).to_have_count(0)
    assert fits_the_phone(page)
    assert_accessible(page)

    # The next day's navigation keeps to the therapist's own sessions.
    page.get_by_role("link", name="Следующий день").click()
    expect(page.get_by_role("link", name="Ann Berg", exact=True)).to_have_count(0)
