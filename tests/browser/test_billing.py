"""Billing in Debian's chromium: the desk sells a course package and takes a partial payment,
the patient pays the rest online with the fake provider in the portal and downloads the PDF
receipt, which is rendered to tests/artifacts/invoice.png for a person to look at; a session
booked online is held for its deposit, which the patient pays on the way."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from billing.models import Deposit, DepositKind, Payment, PaymentMethod
from practice.models import Practice, Role, User
from tests.billing.helpers import policy, priced
from tests.browser.conftest import ARTIFACTS, log_in
from tests.clock import today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    TherapistFactory,
    massage_type,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_package_sold_paid_in_part_at_the_desk_and_the_rest_online(
    page: Page,
    live_server,
    practice: Practice,
    member: Callable[..., User],
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    patient_user = member(practice, Role.PATIENT, email="ann@example.com")
    patient = PatientFactory(
        practice=practice, given_name="Ann", family_name="Berg", user=patient_user
    )
    priced(practice, "therapeutic", amount="50.00")
    policy(practice, letterhead="Linden Massage GmbH · VAT DE123456789")
    CourseFactory(practice=practice, patient=patient)

    # The desk sells the course as a package with 10 % off and takes 200 in cash.
    log_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/billing/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name="Account: Ann Berg")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Discount (%)").fill("10")
    page.get_by_role("button", name="Sell as a package").click()
    expect(page.get_by_text("The course is sold as a package and invoiced.")).to_be_visible()
    invoice = page.locator("article.open-invoice")
    expect(invoice.locator(".outstanding")).to_have_text("450.00 EUR")
    invoice.get_by_label("Amount").fill("200.00")
    invoice.get_by_label("Method").select_option("cash")
    invoice.get_by_role("button", name="Take payment").click()
    expect(page.get_by_text("The payment is recorded.")).to_be_visible()
    expect(page.locator("article.open-invoice .outstanding")).to_have_text("250.00 EUR")
    expect(page.locator(".balance-invoiced")).to_have_text("250.00 EUR")
    assert_accessible(page)
    screenshot(page, "billing-account")

    # The patient pays the rest online in the portal.
    page.context.clear_cookies()
    log_in(page, live_server, "ann@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/me/invoices/")
    expect(page.locator(".invoice .outstanding")).to_have_text("250.00 EUR")
    assert_accessible(page)
    page.get_by_role("button", name="Pay online").click()
    expect(page.get_by_role("heading", name="Pay online")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Thank you: your payment is received.")).to_be_visible()
    expect(page.locator(".invoice .paid")).to_have_text("Paid")
    online = Payment.objects.get(method=PaymentMethod.ONLINE)
    assert online.amount == Decimal("250.00")
    screenshot(page, "billing-portal-paid")

    # The receipt: the invoice's PDF, with both payments and nothing outstanding.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "invoice.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    # pdftoppm (poppler) is not on every machine; PDFium renders it from a wheel.
    document = pypdfium2.PdfDocument(pdf)
    first_page = document[0]
    text = first_page.get_textpage().get_text_range()
    assert "Paid in full" in text
    assert "VAT DE123456789" in text
    assert "INV-2026-00001" in text
    first_page.render(scale=1.5).to_pil().save(ARTIFACTS / "invoice.png")
    assert (ARTIFACTS / "invoice.png").stat().st_size > 0


def test_a_session_booked_online_is_held_for_its_deposit_until_paid(
    page: Page,
    live_server,
    practice: Practice,
    member: Callable[..., User],
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    TherapistFactory(practice=practice, week=True)
    patient_user = member(practice, Role.PATIENT, email="ann@example.com")
    ScreeningFactory(patient=PatientFactory(practice=practice, user=patient_user))
    priced(practice, "classical", amount="60.00")
    policy(practice, deposit=DepositKind.PERCENT, deposit_value=Decimal(25))

    log_in(page, live_server, "ann@example.com")
    page.goto(
        f"{live_server.url}/p/{practice.slug}/me/book/"
        f"?massage_type={massage_type(practice).pk}&day={today(practice, days=2)}"
    )
    page.get_by_role("radio", name="11:00").check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Pay the deposit")).to_be_visible()
    expect(page.locator(".deposit-due")).to_contain_text("15.00 EUR")
    assert_accessible(page)
    screenshot(page, "billing-deposit-due")

    page.get_by_role("button", name="Pay the deposit online").click()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Thank you: your payment is received.")).to_be_visible()
    deposit = Deposit.objects.get()
    page.goto(f"{live_server.url}/p/{practice.slug}/me/sessions/{deposit.session_id}/deposit/")
    expect(page.locator(".paid")).to_have_text("The deposit is paid: your booking stands.")
