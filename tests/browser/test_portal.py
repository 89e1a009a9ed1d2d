"""The patient portal's booking side in Debian's chromium: the desk invites a patient, who
joins, logs in, books, moves and cancels a session (warned that it is late), and downloads its
.ics; axe on every page, phones at 375 px, and Russian."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Patient
from practice.models import PracticeSettings, Role
from sessions.models import Session, SessionStatus
from tests.browser.conftest import PHONE, fits_the_phone, free_times_shown, logged_in
from tests.clock import today
from tests.factories import (
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "lilac-harbour-917-kettle"


def test_a_patient_joins_books_moves_cancels_and_downloads_the_ics(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    therapist = TherapistFactory(practice=practice, week=True)
    erika = PatientFactory(
        practice=practice, given_name="Erika", family_name="Muster", email="erika@example.com"
    )
    ScreeningFactory(patient=erika)
    day = today(practice, days=3)

    # The front desk invites Erika from her record and sees the link.
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/patients/{erika.pk}/")
    page.get_by_role("button", name="Invite to the portal").click()
    expect(page.get_by_text("The invitation was emailed to erika@example.com.")).to_be_visible()
    assert_accessible(page)
    link = page.get_by_label("Invitation link").input_value()
    page.get_by_role("button", name="Log out").click()

    # Erika opens the link on her phone and chooses a password.
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", name="Join the patient portal")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-join")
    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="My record")).to_be_visible()
    expect(page.get_by_text("You have no upcoming sessions.")).to_be_visible()
    erika.refresh_from_db()
    assert erika.user is not None
    assert erika.user.email == "erika@example.com"

    # The link is spent; she logs in with her new password instead.
    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    expect(page.get_by_text("This invitation was already used.")).to_be_visible()
    assert_accessible(page)
    logged_in(page, live_server, "erika@example.com", NEW_PASSWORD)
    page.get_by_role("link", name="My record").first.click()

    # Booking: a type, a day (free times arrive by htmx), a time.
    page.get_by_role("link", name="Book a session").first.click()
    expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
    page.get_by_label("Massage type").select_option(value=str(massage_type(practice).pk))
    free_times_shown(page, day)
    ten = page.get_by_role("radio", name="10:00")
    expect(ten).to_be_visible()
    ten.check()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-booking")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your session is booked.")).to_be_visible()
    session = Session.objects.get(patient=erika)
    assert session.therapist == therapist
    assert session.starts_at.astimezone(practice.zone).hour == 10
    assert_accessible(page)
    assert fits_the_phone(page)

    # The portal home shows it (loaded by htmx).
    page.get_by_role("link", name="My record").first.click()
    expect(page.locator(".card", has_text="10:00–10:15")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-home")

    # Moving it to 14:00 the same day.
    page.locator(".card", has_text="10:00–10:15").get_by_role("link").click()
    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_label("Date")).to_have_value(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.get_by_role("radio", name="14:00").check()
    assert_accessible(page)
    assert fits_the_phone(page)
    page.get_by_role("button", name="Move to this time").click()
    expect(page.get_by_text("Your session is moved.")).to_be_visible()
    session.refresh_from_db()
    assert session.starts_at.astimezone(practice.zone).hour == 14

    # Its .ics.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    ics = Path(download.value.path()).read_text()
    assert "BEGIN:VEVENT" in ics
    assert f"UID:session-{session.pk}@" in ics

    # The practice asks for more notice than three days: cancelling now is late, and the
    # page says so before anything happens.
    PracticeSettings.objects.filter(practice=practice).update(cancellation_notice_hours=240)
    page.get_by_role("link", name="Cancel the session").click()
    warning = page.locator("#late-warning")
    expect(warning).to_contain_text("This will be a late cancellation")
    expect(warning).to_contain_text("240 hours of notice")
    assert_accessible(page)
    assert fits_the_phone(page)
    screenshot(page, "portal-cancel-late")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    page.get_by_role("button", name="Cancel anyway (late)").click()
    expect(page.get_by_text("recorded as a late cancellation")).to_be_visible()
    expect(page.get_by_text("You have no upcoming sessions.")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert session.late_cancellation


def test_a_session_is_cancelled_outside_the_notice_without_a_warning(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    TherapistFactory(practice=practice, week=True)
    user = member(practice, Role.PATIENT, email="ann@example.com")
    ann = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=ann)
    logged_in(page, live_server, "ann@example.com")
    page.goto(
        f"{live_server.url}/p/{practice.slug}/me/book/"
        f"?massage_type={massage_type(practice).pk}&day={today(practice, days=4)}"
    )
    page.get_by_role("radio", name="11:00").check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_text("Your session is booked.")).to_be_visible()

    page.get_by_role("link", name="Cancel the session").click()
    expect(page.locator("#late-warning")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_text("Your session is cancelled.")).to_be_visible()
    session = Session.objects.get(patient=ann)
    assert session.status == SessionStatus.CANCELLED
    assert not session.late_cancellation


def test_a_patient_cannot_open_another_patients_session(
    page: Page, live_server, practice, member
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    PatientFactory(practice=practice, user=member(practice, Role.PATIENT, email="a@x.org"))
    bob = PatientFactory(practice=practice, user=member(practice, Role.PATIENT))
    bobs = SessionFactory(
        therapist=therapist, patient=bob, starts_at=timezone.now() + timedelta(days=2)
    )
    logged_in(page, live_server, "a@x.org")
    for path in ("", "move/", "cancel/", "session.ics"):
        response = page.request.get(
            f"{live_server.url}/p/{practice.slug}/me/sessions/{bobs.pk}/{path}"
        )
        assert response.status == 404, path


def test_the_portal_pages_render_in_russian(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    TherapistFactory(practice=practice, week=True)
    user = member(practice, Role.PATIENT, email="ann@example.com")
    ann: Patient = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=ann)
    logged_in(page, live_server, "ann@example.com")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/p/{practice.slug}/me/sessions/")
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    # The base template's "Log out", from the project's catalogue.
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    assert_accessible(page)
    assert fits_the_phone(page)

    # Django's own catalogue: "This field is required." next to the empty date.
    page.goto(
        f"{live_server.url}/p/{practice.slug}/me/book/?massage_type={massage_type(practice).pk}&day="
    )
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#id_day_errors")).to_contain_text("Обязательное поле.")
    assert_accessible(page)
    assert fits_the_phone(page)
    page.goto(f"{live_server.url}/p/{practice.slug}/me/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert_accessible(page)
