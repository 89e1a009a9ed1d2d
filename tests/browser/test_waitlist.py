"""The waitlist in Debian's chromium: a freed time is offered by email, the patient follows
the link and books it (one session, or a whole course the desk put them on the waitlist
for), and the desk sees the entry booked. axe on every page."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from courses.models import Course
from patients.models import Patient
from sessions.booking.sessions import session_cancel
from sessions.models import Session, SessionStatus, WaitlistEntry, WaitlistEntryStatus
from sessions.reminders.dispatch import reminders_dispatch
from sessions.waitlist.offers import waitlist_offer_slot
from tests.browser.conftest import logged_in
from tests.clock import today
from tests.factories import massage_type
from tests.sessions.waitlist import booked_session, screened_patient, waiting

pytestmark = pytest.mark.django_db(transaction=True)


ERIKA = "erika@example.com"


class OfferAtOnce:
    """Stands in for the Celery task after commit: the offer is made right away."""

    @staticmethod
    def delay(slot_id: int) -> None:
        waitlist_offer_slot(slot_id=slot_id)


@pytest.fixture(autouse=True)
def _offers_sent_at_once(settings, live_server, monkeypatch) -> None:
    settings.SITE_URL = live_server.url
    monkeypatch.setattr("sessions.waitlist.freeing.offer_freed_slot", OfferAtOnce)


@pytest.fixture
def erika(practice) -> Patient:
    return screened_patient(practice, email=ERIKA, consent_sms=False)


def offer_mail(mailoutbox) -> tuple[str, str]:
    """The offer's email to Erika, sent now, and its claim link."""
    reminders_dispatch(now=timezone.now())
    mail = next(m for m in mailoutbox if m.to == [ERIKA])
    link = re.search(r"(http://\S+/waitlist/offer/\S+/)", mail.body)
    assert link, mail.body
    return mail.body, link.group(1)


def test_a_patient_books_a_freed_time_from_the_offer_and_the_desk_sees_it(
    page: Page, live_server, practice, desk, erika, mailoutbox, assert_accessible, screenshot
) -> None:
    session = booked_session(practice)
    entry = waiting(practice, patient=erika)
    session_cancel(session=session, by=desk)
    _body, link = offer_mail(mailoutbox)

    page.goto(link)
    expect(page.get_by_role("heading", name="A time is free for you")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "waitlist-offer")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Your session is booked")).to_be_visible()
    assert_accessible(page)
    booked = Session.objects.get(status=SessionStatus.BOOKED)
    assert booked.patient == erika

    logged_in(page, live_server, desk.email)
    page.goto(f"{live_server.url}/p/{practice.slug}/waitlist/?status=all")
    row = page.locator(f"#waitlist-entry-{entry.pk}")
    expect(row).to_contain_text(str(WaitlistEntryStatus.BOOKED.label))
    expect(row).to_contain_text("Claimed")
    assert_accessible(page)
    screenshot(page, "waitlist-desk")


def test_the_desk_puts_a_patient_on_for_a_course_and_the_patient_books_the_whole_course(
    page: Page, live_server, practice, desk, erika, mailoutbox, assert_accessible, screenshot
) -> None:
    session = booked_session(practice)

    logged_in(page, live_server, desk.email)
    page.goto(f"{live_server.url}/p/{practice.slug}/waitlist/")
    form = page.get_by_role("form", name="Add to the waitlist")
    form.get_by_label("Patient").select_option(str(erika.pk))
    form.get_by_label("A whole course").check()
    form.get_by_label("Massage type").select_option(str(massage_type(practice).pk))
    form.get_by_label("Number of sessions").fill("10")
    form.get_by_label("From").fill(today(practice).isoformat())
    form.get_by_label("Until").fill(today(practice, 7).isoformat())
    form.get_by_role("button", name="Add to the waitlist").click()
    expect(page.get_by_role("status")).to_contain_text("on the waitlist")
    entry = WaitlistEntry.objects.get(patient=erika)
    expect(page.locator(f"#waitlist-entry-{entry.pk}")).to_contain_text("A course of 10")
    assert_accessible(page)

    session_cancel(session=session, by=desk)
    body, link = offer_mail(mailoutbox)
    assert "The course you were waiting for can start" in body

    page.goto(link)
    expect(page.get_by_role("heading", name="A course can start for you")).to_be_visible()
    expect(page.locator("#course-sessions li")).to_have_count(10)
    assert_accessible(page)
    screenshot(page, "waitlist-course-offer")
    page.get_by_role("button", name="Book this course").click()
    expect(page.get_by_role("heading", name="Your course is booked")).to_be_visible()
    assert_accessible(page)
    course = Course.objects.get(patient=erika)
    assert course.sessions.filter(status=SessionStatus.BOOKED).count() == 10

    page.goto(f"{live_server.url}/p/{practice.slug}/waitlist/?status=all")
    row = page.locator(f"#waitlist-entry-{entry.pk}")
    expect(row.get_by_role("link", name="Claimed")).to_have_attribute(
        "href", f"/p/{practice.slug}/courses/{course.pk}/"
    )
    screenshot(page, "waitlist-course-desk")
