"""Open sign-up in Debian's chromium: a brand-new patient signs up, verifies their address,
fills in the questionnaire and books a first visit (R1); the desk sees it flagged "screening
to confirm at check-in" and confirms the screening; axe on every page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from practice.models import PatientSignup, Role
from sessions.models import Session
from tests.browser.conftest import free_times_shown, logged_in
from tests.browser.test_patient_pages import answer_every_question_no
from tests.clock import today
from tests.factories import TherapistFactory, massage_type

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "lilac-harbour-917-kettle"


def test_r1_a_new_patient_signs_up_and_books_a_first_visit_with_a_chosen_therapist(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    practice.settings.patient_signup = PatientSignup.OPEN
    practice.settings.save()
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    TherapistFactory(practice=practice, week=True, name="Ada Any")
    therapist = TherapistFactory(practice=practice, week=True, name="Cora Chosen")
    day = today(practice, days=3)

    page.goto(f"{live_server.url}/p/{practice.slug}/join/")
    expect(page.get_by_role("heading", name="Sign up as a new patient")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Given name").fill("Nina")
    page.get_by_label("Family name").fill("Neu")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Phone").fill("+49 151 23456789")
    page.get_by_label("Date of birth").fill("1990-04-05")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    screenshot(page, "signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Check your email")).to_be_visible()
    assert_accessible(page)

    link = re.search(r"https?://\S+/join/verify/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Activate your account")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("The password you chose").fill(PASSWORD)
    page.get_by_role("button", name="Activate my account").click()

    # Straight on to the questionnaire.
    answer_every_question_no(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Self-reported, to confirm")).to_be_visible()

    page.goto(f"{live_server.url}/p/{practice.slug}/me/book/")
    page.get_by_label("Massage type").select_option(value=str(massage_type(practice).pk))
    page.get_by_label("Therapist").select_option(label="Cora Chosen")
    free_times_shown(page, day)
    ten = page.get_by_role("radio", name="10:00")
    expect(ten).to_be_visible()
    ten.check()
    assert_accessible(page)
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your session is booked.")).to_be_visible()
    session = Session.objects.get(patient__email="nina@example.com")
    assert session.therapist == therapist
    assert session.self_report is not None
    page.get_by_role("button", name="Log out").click()

    # The desk sees the first visit flagged on the calendar and confirms at check-in.
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/?date={day.isoformat()}")
    block = page.locator("li.block-session", has_text="Nina Neu")
    expect(block).to_contain_text("Screening to confirm at check-in")
    assert_accessible(page)
    screenshot(page, "calendar-screening-to-confirm")
    block.get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_text("Screening to confirm at check-in")).to_be_visible()
    page.get_by_role("link", name="Confirm the screening").click()
    page.get_by_label("Temperature (°C)").fill("36.7")
    page.get_by_role("button", name="Confirm the screening").click()
    expect(page.get_by_text("Screening confirmed.")).to_be_visible()
    session.self_report.refresh_from_db()
    assert not session.self_report.awaiting_confirmation
