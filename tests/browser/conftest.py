"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser) against
pytest-django's live server. Screenshots go to tests/artifacts/ for a person to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.conftest import CHROMIUM
from tests.factories import PASSWORD
from tests.second_factor import code_now

# The live server runs in a thread of this process while Playwright's sync API runs an event
# loop here too; Django would otherwise refuse database access from "async" code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 375, "height": 812}


def log_in(page: Page, live_server, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def logged_in(
    page: Page,
    live_server,
    email: str,
    password: str = PASSWORD,
    *,
    authenticator: TOTPDevice | None = None,
) -> None:
    """Logged in, with the current code of `authenticator` when the user has one."""
    log_in(page, live_server, email, password)
    if authenticator is not None:
        give_code(page, code_now(authenticator))
    # A therapist of one practice lands on their day, everyone else on their practices.
    expect(page.get_by_role("heading", name=re.compile("Welcome|My day"))).to_be_visible()


def give_code(page: Page, code: str) -> None:
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()


def free_times_shown(page: Page, day: date) -> None:
    """Choose `day` on a booking page and wait until htmx has brought that day's free times.
    The page's script must have started first (a change before it does fires no request),
    and on a busy CI machine the answer may take longer than an expectation's 5 s."""
    page.wait_for_load_state("load")
    with page.expect_response(
        lambda r: f"day={day.isoformat()}" in r.url, timeout=30_000
    ) as answer:
        page.get_by_label("Date").fill(day.isoformat())
    assert answer.value.ok, answer.value.status


def fits_the_phone(page: Page) -> bool:
    """Nothing sticks out sideways at 375 px."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


# Chromium logs every refusal as "Refused to … because it violates the following Content
# Security Policy directive …"; the listener adds the securitypolicyviolation events, which
# also name the directive and the blocked source.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI} `
    + `at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(autouse=True)
def no_csp_violations(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Every browser test fails if any page it opened broke the Content-Security-Policy."""
    violations: list[str] = []
    if "page" not in request.fixturenames:
        yield violations
        return
    page: Page = request.getfixturevalue("page")
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or message.text.startswith("CSP violation")
            else None
        ),
    )
    yield violations
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def assert_accessible(axe: Axe) -> Callable[[Page], None]:
    """No serious or critical axe-core violation on the page as it is now."""

    def check(page: Page) -> None:
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert not bad, "\n".join(bad)

    return check
