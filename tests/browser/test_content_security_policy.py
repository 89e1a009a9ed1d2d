"""Pages that needed changes to work under the Content-Security-Policy (every browser test
also fails on any violation: tests/browser/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from practice.models import Role
from tests.browser.conftest import logged_in
from tests.factories import TherapistFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_works_from_local_files_under_the_policy(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/api/docs/")

    expect(page.get_by_role("heading", name="Massage Practice API")).to_be_visible()
    expect(page.get_by_text("/api/v1/auth/token/").first).to_be_visible()


def test_the_calendar_shows_each_therapists_colour_without_style_attributes(
    page: Page, live_server, practice, member
) -> None:
    TherapistFactory(practice=practice, name="Tara Teal", colour="#118877")
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    logged_in(page, live_server, "desk@example.com")

    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/")

    column = page.locator("[data-therapist-colour]", has_text="Tara Teal").first
    expect(column).to_be_visible()
    assert column.evaluate("e => getComputedStyle(e).getPropertyValue('--therapist')") == "#118877"
