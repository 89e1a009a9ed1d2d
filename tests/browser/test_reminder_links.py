"""A reminder's cancel link in Debian's chromium (R21, R13): the patient follows the link from
the email, is asked first, and the session is cancelled; a session inside the practice's notice
is refused, with the practice's phone number. axe on every page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from practice.models import PracticeSettings
from sessions.models import Session, SessionStatus
from sessions.reminders.dispatch import reminders_dispatch
from tests.clock import local, today
from tests.factories import PatientFactory
from tests.sessions.outbox import book

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+49 30 1234567"


def cancel_link_mailed_to(mailoutbox: list, address: str) -> str:
    # Every message about the session carries the links; the first will do.
    mail = next(m for m in mailoutbox if m.to == [address])
    found = re.search(r"(http://\S+/reply/\S+/cancel/)", mail.body)
    assert found, mail.body
    return found.group(1)


def test_a_patient_cancels_from_the_reminders_link_and_a_late_one_is_refused(
    page: Page, live_server, practice, settings, mailoutbox, assert_accessible, screenshot
) -> None:
    settings.SITE_URL = live_server.url
    PracticeSettings.objects.filter(practice=practice).update(phone=PHONE)
    now = timezone.now()
    erika = PatientFactory(practice=practice, consent_email=True, email="erika@example.com")
    in_time = book(practice, local(practice, today(practice, 3), 10), patient=erika, now=now)
    olga = PatientFactory(practice=practice, consent_email=True, email="olga@example.com")
    # Booked yesterday for five hours from now: inside the 24 hours' notice.
    late = book(practice, now + timedelta(hours=5), patient=olga, now=now - timedelta(days=1))
    reminders_dispatch(now=now)

    # Erika follows the link in her booking confirmation: asked first, then cancelled.
    page.goto(cancel_link_mailed_to(mailoutbox, "erika@example.com"))
    expect(page.get_by_role("heading", name="Cancel my session")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "reminder-link-cancel")
    in_time.refresh_from_db()
    assert in_time.status == SessionStatus.BOOKED
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_text("Your session is cancelled.")).to_be_visible()
    assert_accessible(page)
    assert Session.objects.get(pk=in_time.pk).status == SessionStatus.CANCELLED

    # Olga's session is too close: the link refuses and gives the practice's number.
    page.goto(cancel_link_mailed_to(mailoutbox, "olga@example.com"))
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(page.get_by_text("cannot be cancelled online any more")).to_be_visible()
    expect(page.get_by_role("link", name=PHONE)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "reminder-link-late")
    assert Session.objects.get(pk=late.pk).status == SessionStatus.BOOKED
