"""The front desk's calendar and course pages in Debian's chromium: a desk user plans and books
a 10-session course for a screened patient, finds it on the calendar, moves a session to another
free time and cancels one with a reason; the course page's chart; axe on every page, the
calendar at 375 px, and Russian."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest
from playwright.sync_api import Page, expect

from courses.models import Course
from practice.models import Practice, Role
from sessions.models import SessionStatus
from tests.browser.conftest import PHONE, fits_the_phone, logged_in
from tests.clock import today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionRecordFactory,
    TherapistFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def local_hhmm(practice: Practice, moment: datetime) -> str:
    return moment.astimezone(practice.zone).strftime("%H:%M")


def test_the_desk_plans_books_moves_and_cancels(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(20))
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient, screened_on=today(practice))
    start = today(practice, days=2)
    logged_in(page, live_server, "desk@example.com")

    # From the patient's record to the plan page.
    page.goto(f"{live_server.url}/p/{practice.slug}/patients/{patient.pk}/")
    courses = page.locator("section", has=page.get_by_role("heading", name="Courses"))
    expect(courses).to_contain_text("No course yet.")
    assert_accessible(page)
    courses.get_by_role("link", name="Plan a course").click()
    expect(page.get_by_role("heading", name="Plan a course for Ann Berg")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Massage type").select_option(label="Relaxing")
    page.get_by_label("Therapist").select_option(label=therapist.name)
    page.get_by_label("Number of sessions").fill("10")
    page.get_by_label("Cadence").select_option("every_other_day")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("Preferred time").fill("18:00")
    page.get_by_role("button", name="Show the plan").click()

    plan = page.locator("table.plan")
    expect(plan.locator("tbody tr")).to_have_count(10)
    expect(plan.locator("tbody tr").first).to_contain_text("18:00–18:10")
    assert Course.objects.count() == 0
    assert_accessible(page)
    screenshot(page, "course-plan")

    page.get_by_role("button", name="Book these 10 sessions").click()
    expect(page.get_by_text("The course is booked.")).to_be_visible()
    expect(page.locator("tr.status-booked")).to_have_count(10)
    course = Course.objects.get()
    assert course.sessions.filter(status=SessionStatus.BOOKED).count() == 10
    assert_accessible(page)

    # The first session on the calendar, on its day, in the practice's time (R24).
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
    page.get_by_label("Date:", exact=True).fill(start.isoformat())
    page.get_by_role("button", name="Show").click()
    column = page.locator("section.day-column", has_text=therapist.name)
    first = column.locator("li.block-session", has_text="Ann Berg")
    expect(first).to_contain_text("18:00–18:10")
    expect(first).to_contain_text("Booked")
    expect(first).to_contain_text("course 1/10")
    expect(column.locator("li.block-free").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "calendar")

    # The week view, chosen from the form (htmx swaps the calendar in place).
    page.get_by_label("View:", exact=True).select_option("week")
    expect(page.locator("table.week")).to_be_visible()
    expect(page.locator("table.week li.block-session")).not_to_have_count(0)
    assert_accessible(page)
    page.get_by_label("View:", exact=True).select_option("day")
    expect(page.locator("section.day-column").first).to_be_visible()

    # Move the first session to 10:00 the same day, one of the free times offered.
    first = page.locator("section.day-column li.block-session", has_text="Ann Berg")
    first.get_by_role("link", name=re.compile("^Move")).click()
    expect(page.get_by_role("heading", name="Move a session")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("10:00", exact=True).check()
    page.get_by_role("button", name="Move here").click()
    expect(page.get_by_text("The session was moved.")).to_be_visible()
    moved = page.locator("section.day-column li.block-session", has_text="Ann Berg")
    expect(moved).to_contain_text("10:00–10:10")
    session = course.sessions.get(sequence=1)
    assert local_hhmm(practice, session.starts_at) == "10:00"
    assert session.schedule_version == 2

    # Cancel the second session with a reason: R13 offers times to rebook it.
    second = course.sessions.get(sequence=2)
    page.get_by_label("Date:", exact=True).fill(
        second.starts_at.astimezone(practice.zone).date().isoformat()
    )
    page.get_by_role("button", name="Show").click()
    block = page.locator("section.day-column li.block-session", has_text="Ann Berg")
    expect(block).to_contain_text("course 2/10")
    block.get_by_role("link", name=re.compile("^Cancel")).click()
    expect(page.get_by_role("heading", name="Cancel a session")).to_be_visible()
    assert_accessible(page)
    # The browser itself asks for the reason before sending (the server checks it too).
    expect(page.get_by_label("Reason")).to_have_attribute("required", "")
    page.get_by_label("Reason").fill("Patient is travelling")
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("heading", name="Cancelled session")).to_be_visible()
    expect(page.get_by_text("Cancelled in time.")).to_be_visible()
    expect(page.get_by_role("heading", name="Rebook within the course (R13)")).to_be_visible()
    expect(page.locator("input[name=starts_at]").first).to_be_visible()
    assert_accessible(page)
    second.refresh_from_db()
    assert second.status == SessionStatus.CANCELLED
    assert second.cancellation_reason == "Patient is travelling"


def test_the_calendar_fits_a_phone(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    course = CourseFactory(practice=practice, start_date=today(practice, days=1))
    TherapistFactory(practice=practice, week=True)
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "desk@example.com")
    day = course.sessions.get(sequence=1).starts_at.astimezone(practice.zone).date()
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/?date={day.isoformat()}")
    expect(page.locator("li.block-session")).to_have_count(1)
    assert fits_the_phone(page)
    assert_accessible(page)
    # The week is a table that scrolls inside its own box; the page itself does not widen.
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/?view=week&date={day.isoformat()}")
    expect(page.locator("table.week")).to_be_visible()
    assert fits_the_phone(page)
    assert_accessible(page)
    page.goto(f"{live_server.url}/p/{practice.slug}/courses/{course.pk}/")
    assert fits_the_phone(page)


def test_the_course_page_charts_pain_and_blood_pressure(
    page: Page, live_server, practice, member, assert_accessible, screenshot
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    # A course that began eight days ago: four sessions done and recorded, six to come.
    course = CourseFactory(
        practice=practice,
        start_date=today(practice, days=-8),
        patient__given_name="Ann",
        patient__family_name="Berg",
    )
    readings = [(7, 5, 152, 96), (6, 3, 146, 92), (5, 3, 141, 90), (4, 1, 136, 86)]
    for sequence, (pain_before, pain_after, systolic, diastolic) in enumerate(readings, start=1):
        session = course.sessions.get(sequence=sequence)
        session.status = SessionStatus.COMPLETED
        session.save()
        SessionRecordFactory(
            session=session,
            pain_before=pain_before,
            pain_after=pain_after,
            systolic_before=systolic,
            diastolic_before=diastolic,
            systolic_after=systolic - 8,
            diastolic_after=diastolic - 4,
        )
    logged_in(page, live_server, "desk@example.com")
    page.get_by_role("link", name="Patients").first.click()
    page.get_by_role("link", name="Courses").first.click()
    page.get_by_role("link", name=re.compile("Ann Berg")).click()

    expect(page.get_by_text("4 of 10 done")).to_be_visible()
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("circle.dot.before")).to_have_count(4)
    expect(page.locator("tr.status-completed")).to_have_count(4)
    expect(page.locator("tr.status-completed").first).to_contain_text("7 → 5")
    assert_accessible(page)
    screenshot(page, "course-page")


def test_the_desk_pages_render_in_russian(
    page: Page, live_server, practice, member, assert_accessible
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    course = CourseFactory(practice=practice, start_date=today(practice, days=1))
    session = course.sessions.get(sequence=1)
    PatientFactory(practice=practice, chronic_plan=True)  # due for a first course (R11)
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/")
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    paths = [
        "calendar/",
        "calendar/?view=week",
        f"courses/plan/?patient={course.patient_id}",
        "courses/plan/",
        "courses/",
        "courses/due/",
        f"courses/{course.pk}/",
        f"sessions/{session.pk}/move/",
        f"sessions/{session.pk}/cancel/",
    ]
    for path in paths:
        page.goto(f"{live_server.url}/p/{practice.slug}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        # The staff navigation, translated by the project's catalogue.
        expect(page.get_by_role("link", name="Пациенты", exact=True)).to_be_visible()
        assert_accessible(page)
    # A status from the model's choices, translated.
    page.goto(
        f"{live_server.url}/p/{practice.slug}/calendar/"
        f"?date={session.starts_at.astimezone(practice.zone).date().isoformat()}"
    )
    expect(page.locator("li.block-session .status-badge").first).to_contain_text("Записан")
