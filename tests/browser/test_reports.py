"""A manager's reports in Debian's chromium: from the staff menu to a report with its SVG
charts and tables, a period chosen, a table exported as CSV (a download); axe on each page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from practice.models import Role
from tests.browser.conftest import logged_in
from tests.clock import today
from tests.reports.conftest import build_history
from tests.second_factor import authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_a_report_and_exports_it_as_csv(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    manager = member(practice, Role.MANAGER, email="manager@example.com")
    build_history(practice, 3)
    logged_in(page, live_server, "manager@example.com", authenticator=authenticator(manager))

    page.goto(f"{live_server.url}/p/{practice.slug}/patients/")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="No-shows and late cancellations").click()

    expect(
        page.get_by_role("heading", name="No-shows and late cancellations", exact=True)
    ).to_be_visible()
    page.get_by_label("From").fill(today(practice, days=-60).isoformat())
    page.get_by_label("Count").select_option("week")
    page.get_by_role("button", name="Show").click()
    chart = page.get_by_role("img", name="No-shows and late cancellations by therapist")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(6)  # 3 therapists x 2 series
    table = page.get_by_role("table", name="No-shows and late cancellations by therapist")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("Therapist 0")
    assert_accessible(page)
    screenshot(page, "reports")

    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name="Export “No-shows and late cancellations by therapist” as CSV"
        ).click()
    download = download_info.value
    body = Path(download.path()).read_text(encoding="utf-8-sig")

    assert download.suggested_filename.startswith("no-shows-therapists-")
    assert body.splitlines()[0] == (
        "Therapist id,Therapist,Appointments,No-shows,Late cancellations,Missed rate"
    )
    assert len(body.splitlines()) == 4
