"""The waitlist in Debian's chromium: a freed time is offered by email, the patient follows
the link and books it, and the desk sees the entry booked. axe on every page."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sessions.booking.sessions import session_cancel
from sessions.models import Session, SessionStatus, WaitlistEntryStatus
from sessions.reminders.dispatch import reminders_dispatch
from sessions.waitlist.offers import waitlist_offer_slot
from tests.browser.conftest import logged_in
from tests.sessions.waitlist import booked_session, screened_patient, waiting

pytestmark = pytest.mark.django_db(transaction=True)


class OfferAtOnce:
    """Stands in for the Celery task after commit: the offer is made right away."""

    @staticmethod
    def delay(slot_id: int) -> None:
        waitlist_offer_slot(slot_id=slot_id)


def test_a_patient_books_a_freed_time_from_the_offer_and_the_desk_sees_it(
    page: Page,
    live_server,
    practice,
    desk,
    settings,
    mailoutbox,
    monkeypatch,
    assert_accessible,
    screenshot,
) -> None:
    settings.SITE_URL = live_server.url
    monkeypatch.setattr("sessions.waitlist.freeing.offer_freed_slot", OfferAtOnce)
    session = booked_session(practice)
    erika = screened_patient(practice, email="erika@example.com", consent_sms=False)
    entry = waiting(practice, patient=erika)
    session_cancel(session=session, by=desk)
    reminders_dispatch(now=timezone.now())
    mail = next(m for m in mailoutbox if m.to == ["erika@example.com"])
    link = re.search(r"(http://\S+/waitlist/offer/\S+/)", mail.body)
    assert link, mail.body

    page.goto(link.group(1))
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
