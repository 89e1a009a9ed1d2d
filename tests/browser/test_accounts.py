from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from practice.models import Role
from practice.tasks import send_password_reset
from tests.browser.conftest import PHONE, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_logs_in_on_a_phone_and_sees_their_practice(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.MANAGER, email="boss@example.com", full_name="Maria Manager")
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert_accessible(page)
    log_in(page, live_server, "Boss@Example.com")

    expect(page.get_by_role("heading", name="Welcome, Maria Manager")).to_be_visible()
    expect(page.get_by_text("Linden")).to_be_visible()
    expect(page.get_by_role("link", name="Back office")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "home-phone")
    # Nothing sticks out sideways at 375 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_wrong_password_is_shown_next_to_the_form(
    page: Page, live_server, practice, member
) -> None:
    member(practice, Role.PATIENT, email="pat@example.com")

    log_in(page, live_server, "pat@example.com", "wrong")

    expect(page.get_by_role("alert")).to_contain_text("correct email and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_patient_resets_their_password_by_email(
    page: Page, live_server, practice, member, assert_accessible, monkeypatch
) -> None:
    member(practice, Role.PATIENT, email="pat@example.com")
    # The worker, at once: the page queues the email (practice.password_reset).
    monkeypatch.setattr(
        send_password_reset, "delay", lambda *args: send_password_reset.apply(args=args)
    )

    page.goto(f"{live_server.url}/accounts/password_reset/")
    assert_accessible(page)
    page.get_by_label("Email").fill("pat@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link.replace("https://", "http://").replace("http://testserver", live_server.url))
    page.get_by_label(re.compile(r"^New password:?$")).fill("a-new-longer-secret-42")
    page.get_by_label("New password confirmation").fill("a-new-longer-secret-42")
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_role("heading", name="Password saved")).to_be_visible()

    log_in(page, live_server, "pat@example.com", "a-new-longer-secret-42")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def test_the_pages_switch_to_russian(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    # The desk's home page names the role (a therapist lands on My day instead).
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    log_in(page, live_server, "desk@example.com")

    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    expect(page.get_by_text("Администратор")).to_be_visible()
    assert_accessible(page)
