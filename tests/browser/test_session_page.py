"""The session page in Debian's chromium: the front desk checks a patient in, the therapist starts
the session and records it by clicking zones on the body chart (forbidden zones cannot be
chosen), then completes it; axe on every state, the record form at 375 px, and Russian."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from practice.models import Practice, Role, Therapist, User
from sessions.day.check_in import session_check_in
from sessions.day.running import session_complete, session_start
from sessions.models import Session, SessionRecord, SessionStatus
from tests.browser.conftest import PHONE, fits_the_phone, logged_in
from tests.clock import noon
from tests.factories import SessionFactory, TherapistFactory, all_no, good_record
from tests.second_factor import authenticator

pytestmark = pytest.mark.django_db(transaction=True)


def session_url(live_server, session: Session) -> str:
    return f"{live_server.url}/p/{session.practice.slug}/sessions/{session.pk}/"


def therapist_of(practice: Practice, user: User) -> Therapist:
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.user = user
    therapist.save(update_fields=["user"])
    return therapist


def test_the_desk_checks_in_and_the_therapist_records_on_the_body_chart(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    therapist_user = member(practice, Role.THERAPIST, email="therapist@example.com")
    session = SessionFactory(
        practice=practice,
        therapist=therapist_of(practice, therapist_user),
        patient__given_name="Ann",
        patient__family_name="Berg",
        screened=True,
        # Soon after the clock's 10:30: a session starts from 30 minutes before its time.
        starts_at=noon(practice) - timedelta(minutes=75),
    )

    # The front desk finds the session on the calendar and opens its page.
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/")
    page.locator("li.block-session", has_text="Ann Berg").get_by_role(
        "link", name=re.compile("^Open")
    ).click()
    expect(page.get_by_role("heading", name="Session: Ann Berg")).to_be_visible()
    expect(page.get_by_role("heading", name="Check the patient in")).to_be_visible()
    assert_accessible(page)

    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(6)
    for n in range(6):
        questions.nth(n).get_by_label("No").check()
    page.get_by_label("Temperature (°C)").fill("36.6")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_text("The patient is checked in.")).to_be_visible()
    expect(page.get_by_role("heading", name="Planned protocol")).to_be_visible()
    expect(page.locator("table.protocol-steps tbody tr").first).to_contain_text("Stroking")
    expect(page.locator("ul.avoid")).to_contain_text("R17: no direct work on the spine")
    # Starting is clinical work: the desk is not offered the button.
    expect(page.get_by_role("button", name="Start the session")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "session-protocol")
    page.get_by_role("button", name="Log out").click()

    # The therapist starts it and records it on the body chart.
    logged_in(page, live_server, "therapist@example.com")
    page.goto(session_url(live_server, session))
    page.get_by_role("button", name="Start the session").click()
    expect(page.get_by_text("The session has started.")).to_be_visible()
    expect(page.get_by_role("heading", name="Record the session")).to_be_visible()
    assert_accessible(page)

    chart = page.locator("svg.body-chart-svg")
    # A click on a region ticks its checkbox; a second click unticks it.
    chart.locator('[data-zone="shoulders"] rect').first.click()
    expect(page.get_by_label("Shoulders", exact=True)).to_be_checked()
    chart.locator('[data-zone="scapular"] rect').first.click()
    expect(page.get_by_label("Shoulder blades", exact=True)).to_be_checked()
    chart.locator('[data-zone="scapular"] rect').first.click()
    expect(page.get_by_label("Shoulder blades", exact=True)).not_to_be_checked()
    chart.locator('[data-zone="lumbar"] rect').click()
    expect(page.get_by_label("Lumbar", exact=True)).to_be_checked()
    # The keyboard works on the boxes themselves, and the drawing follows.
    page.get_by_label("Sides", exact=True).check()
    expect(chart.locator('[data-zone="sides"]')).to_have_class(re.compile("is-chosen"))

    # Forbidden zones (R17) are shaded, disabled and not toggled by a click, which says why.
    spine = page.get_by_label(re.compile("^Spine"))
    expect(spine).to_be_disabled()
    expect(page.locator("#zone-spine-why")).to_contain_text("R17")
    expect(chart.locator('[data-zone="spine"]')).to_have_class(re.compile("is-forbidden"))
    chart.locator('[data-zone="heart"] circle').click()
    expect(page.locator("#zone-heart")).not_to_be_checked()
    expect(chart.locator('[data-zone="heart"]')).not_to_have_class(re.compile("is-chosen"))
    expect(page.locator(".chart-note")).to_contain_text("R17")
    for area in ("kidneys", "heart", "lymph_nodes"):
        expect(page.locator(f"#zone-{area}")).to_be_disabled()
        expect(chart.locator(f'[data-zone="{area}"]')).to_have_class(re.compile("is-forbidden"))

    # The techniques come from the plan, in order (R15: stroking first and last).
    expect(page.get_by_label("Technique 1:", exact=True)).to_have_value("stroking")
    page.get_by_label("Pressure:", exact=True).select_option("medium")
    page.get_by_label("Pain before (0–10)").fill("6")
    page.get_by_label("Pain after (0–10)").fill("3")
    page.get_by_label("Notes").fill("Tension in the lower back eased.")
    assert_accessible(page)
    screenshot(page, "body-chart")

    page.get_by_role("button", name="Complete the session").click()
    expect(page.get_by_text("The session is recorded and completed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Session record")).to_be_visible()
    expect(page.locator("svg.body-chart-svg [data-zone='lumbar']")).to_have_class(
        re.compile("is-chosen")
    )
    assert_accessible(page)
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED
    record = SessionRecord.objects.get(session=session)
    assert sorted(record.zones) == ["lumbar", "shoulders", "sides"]
    assert record.techniques[0] == record.techniques[-1] == "stroking"
    assert record.pain_before == 6
    assert record.pain_after == 3


def test_a_click_in_the_middle_of_the_lumbar_or_shoulder_zone_chooses_it(
    page: Page, live_server, practice, member
) -> None:
    therapist_user = member(practice, Role.THERAPIST, email="therapist@example.com")
    session = SessionFactory(
        practice=practice, therapist=therapist_of(practice, therapist_user), screened=True
    )
    session_check_in(session=session, answers=all_no(), by=None)
    session_start(session=session, by=None, now=session.starts_at)
    logged_in(page, live_server, "therapist@example.com")
    page.goto(session_url(live_server, session))
    chart = page.locator("svg.body-chart-svg")

    for zone, label in (("lumbar", "Lumbar"), ("shoulders", "Shoulders")):
        # Where a person aims: the middle of the zone, which the spine's strip runs through.
        region = chart.locator(f'[data-zone="{zone}"]')
        region.scroll_into_view_if_needed()
        area = region.bounding_box()
        assert area is not None
        page.mouse.click(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
        expect(page.get_by_label(label, exact=True)).to_be_checked()
        expect(chart.locator(f'[data-zone="{zone}"]')).to_have_class(re.compile("is-chosen"))

    # A click on a zone R17 forbids is refused with its reason, not silently.
    chart.locator('[data-zone="kidneys"] ellipse').first.click()
    expect(page.locator("#zone-kidneys")).not_to_be_checked()
    expect(page.locator(".chart-note")).to_contain_text("Kidney area")
    expect(page.locator(".chart-note")).to_contain_text("R17")


def test_record_errors_are_shown_next_to_the_fields_and_the_form_fits_a_phone(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    therapist_user = member(practice, Role.THERAPIST, email="therapist@example.com")
    session = SessionFactory(
        practice=practice, therapist=therapist_of(practice, therapist_user), screened=True
    )
    session_check_in(session=session, answers=all_no(), by=None)
    session_start(session=session, by=None, now=session.starts_at)
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "therapist@example.com")
    page.goto(session_url(live_server, session))
    expect(page.get_by_role("heading", name="Record the session")).to_be_visible()
    assert fits_the_phone(page)
    assert_accessible(page)

    # Kneading first and nothing else filled in: the service's rules answer, by rule id.
    page.get_by_label("Technique 1:", exact=True).select_option("kneading")
    page.get_by_role("button", name="Complete the session").click()
    expect(page.locator("#techniques_errors")).to_contain_text(
        "R15: the session must start with stroking."
    )
    expect(page.locator("#id_zones_errors")).to_contain_text("R20: record the zones worked.")
    expect(page.locator("#id_pain_before_errors")).to_contain_text("R18")
    expect(page.get_by_label("Technique 1:", exact=True)).to_have_value("kneading")
    assert fits_the_phone(page)
    assert_accessible(page)
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_the_session_page_renders_in_russian_in_every_state_on_a_phone(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    manager = member(practice, Role.MANAGER, email="manager@example.com")
    booked = SessionFactory(practice=practice, starts_at=noon(practice, days=1), screened=True)
    checked_in = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    session_check_in(session=checked_in, answers=all_no(), systolic=140, diastolic=85, by=manager)
    running = SessionFactory(practice=practice, screened=True)
    session_check_in(session=running, answers=all_no(), by=manager)
    session_start(session=running, by=manager, now=running.starts_at)
    done = SessionFactory(
        practice=practice, starts_at=noon(practice) - timedelta(hours=1), screened=True
    )
    session_check_in(session=done, answers=all_no(), by=manager)
    session_start(session=done, by=manager, now=done.starts_at)
    record = good_record()
    session_complete(session=done, by=manager, direction=None, **record)

    # Russian labels run longer: every state is checked at phone width too.
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "manager@example.com", authenticator=authenticator(manager))
    page.goto(session_url(live_server, booked))
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    for session in (booked, checked_in, running, done):
        page.goto(session_url(live_server, session))
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.get_by_role("link", name="Пациенты", exact=True)).to_be_attached()
        assert fits_the_phone(page)
        assert_accessible(page)
