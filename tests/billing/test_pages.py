"""The desk's billing pages and the portal's invoices: who sees what, payments at the desk,
fees waived with a reason, packages sold, PDFs, paying online with the fake provider."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import Charge, ChargeStatus, CoursePackage, FeeKind, Invoice, Payment
from practice.models import Practice, Role, User
from sessions.booking.sessions import session_cancel
from tests.billing.helpers import issued_for, policy, priced
from tests.factories import CourseFactory, PatientFactory, SessionFactory
from tests.pages import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(practice: Practice) -> Invoice:
    priced(practice, amount="60.00")
    return issued_for(SessionFactory(practice=practice))


def test_the_desk_takes_a_partial_payment(invoice: Invoice, desk: User) -> None:
    client = logged_in(desk)
    account = f"/p/linden/billing/patients/{invoice.patient_id}/"
    assert "60.00 EUR" in client.get(account).text
    paid = client.post(
        f"/p/linden/billing/invoices/{invoice.pk}/payments/",
        {f"pay-{invoice.pk}-amount": "20.00", f"pay-{invoice.pk}-method": "card"},
    )
    assert paid.status_code == 302
    assert Payment.objects.get().amount == Decimal("20.000")
    assert "40.00 EUR" in client.get(account).text
    too_much = client.post(
        f"/p/linden/billing/invoices/{invoice.pk}/payments/",
        {f"pay-{invoice.pk}-amount": "41.00", f"pay-{invoice.pk}-method": "card"},
    )
    assert too_much.status_code == 400
    assert "Only 40.00 is outstanding" in too_much.text


def test_the_session_page_shows_what_the_patient_owes(invoice: Invoice, desk: User) -> None:
    client = logged_in(desk)
    session = Charge.objects.get().session
    page = client.get(f"/p/linden/sessions/{session.pk}/")
    panel_url = f"/p/linden/billing/sessions/{session.pk}/panel/"
    assert f'hx-get="{panel_url}"' in page.text
    panel = client.get(panel_url)
    assert "60.00 EUR" in panel.text
    assert f"/p/linden/billing/patients/{invoice.patient_id}/" in panel.text


def test_a_therapist_sees_no_billing(
    invoice: Invoice, practice: Practice, member: Callable[..., User]
) -> None:
    client = logged_in(member(practice, Role.THERAPIST))
    session = Charge.objects.get().session
    assert client.get(f"/p/linden/billing/sessions/{session.pk}/panel/").content == b""
    assert client.get(f"/p/linden/billing/patients/{invoice.patient_id}/").status_code == 403


def test_the_desk_waives_a_fee_only_with_a_reason(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    fee = Charge.objects.get()
    client = logged_in(desk)
    assert (
        client.post(f"/p/linden/billing/charges/{fee.pk}/waive/", {"reason": ""}).status_code == 400
    )
    done = client.post(f"/p/linden/billing/charges/{fee.pk}/waive/", {"reason": "First time"})
    assert done.status_code == 302
    fee.refresh_from_db()
    assert (fee.status, fee.waived_by, fee.waive_reason) == (
        ChargeStatus.WAIVED,
        desk,
        "First time",
    )


def test_the_desk_sells_a_course_package(practice: Practice, desk: User) -> None:
    priced(practice, "therapeutic", amount="50.00")
    course = CourseFactory(practice=practice)
    client = logged_in(desk)
    account = client.get(f"/p/linden/billing/patients/{course.patient_id}/")
    assert f"/p/linden/billing/courses/{course.pk}/package/" in account.text
    sold = client.post(
        f"/p/linden/billing/courses/{course.pk}/package/", {"discount_percent": "10"}
    )
    assert sold.status_code == 302
    assert CoursePackage.objects.get().charge.gross == Decimal("450.000")
    pdf = client.get(f"/p/linden/billing/invoices/{Invoice.objects.get().pk}/invoice.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_another_practices_billing_pages_are_not_found(invoice: Invoice, other_desk: User) -> None:
    client = logged_in(other_desk)
    assert client.get(f"/p/harbour/billing/patients/{invoice.patient_id}/").status_code == 404
    assert client.get(f"/p/harbour/billing/invoices/{invoice.pk}/invoice.pdf").status_code == 404
    assert client.post(f"/p/harbour/billing/invoices/{invoice.pk}/credit/").status_code == 404
    assert client.get(f"/p/linden/billing/patients/{invoice.patient_id}/").status_code == 404


def test_the_patient_pays_online_and_downloads_the_receipt(
    practice: Practice, member: Callable[..., User]
) -> None:
    priced(practice, amount="60.00")
    user = member(practice, Role.PATIENT)
    mine = issued_for(
        SessionFactory(practice=practice, patient=PatientFactory(practice=practice, user=user))
    )
    theirs = issued_for(SessionFactory(practice=practice))
    client = logged_in(user)
    listing = client.get("/p/linden/me/invoices/")
    assert mine.display_number in listing.text
    assert theirs.display_number not in listing.text
    assert client.get(f"/p/linden/me/invoices/{theirs.pk}/invoice.pdf").status_code == 404
    assert client.post(f"/p/linden/me/invoices/{theirs.pk}/pay/").status_code == 404
    started = client.post(f"/p/linden/me/invoices/{mine.pk}/pay/")
    assert started.status_code == 302
    checkout = client.get(started["Location"])
    assert "60.00 EUR" in checkout.text
    assert client.post(started["Location"]).status_code == 302
    assert Payment.objects.get().amount == Decimal("60.00")
    assert "Paid" in client.get("/p/linden/me/invoices/").text
    assert client.get(f"/p/linden/me/invoices/{mine.pk}/invoice.pdf").content.startswith(b"%PDF")


def test_the_admin_shows_issued_invoices_read_only(
    invoice: Invoice, manager_client: Client
) -> None:
    change = f"/admin/billing/invoice/{invoice.pk}/change/"
    page = manager_client.get(change)
    assert page.status_code == 200
    assert 'name="gross"' not in page.text
    assert manager_client.post(change, {"gross": "1.00"}).status_code == 403
    assert (
        manager_client.post(
            f"/admin/billing/invoice/{invoice.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert manager_client.get("/admin/billing/invoice/add/").status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).gross == Decimal("60.000")


def test_the_desk_invoices_a_session_from_its_panel(practice: Practice, desk: User) -> None:
    priced(practice, amount="60.00")
    session = SessionFactory(practice=practice)
    client = logged_in(desk)
    panel = client.get(f"/p/linden/billing/sessions/{session.pk}/panel/")
    assert f"/p/linden/billing/sessions/{session.pk}/charge/" in panel.text
    assert client.post(f"/p/linden/billing/sessions/{session.pk}/charge/").status_code == 302
    assert client.post(f"/p/linden/billing/sessions/{session.pk}/charge/").status_code == 302
    invoice = Invoice.objects.get()  # charging twice invoices once
    assert invoice.gross == Decimal("60.000")
    credited = client.post(f"/p/linden/billing/invoices/{invoice.pk}/credit/")
    assert credited.status_code == 302
    assert client.post(f"/p/linden/billing/invoices/{invoice.pk}/credit/").status_code == 400
    assert Invoice.objects.filter(credits=invoice).count() == 1


def test_a_package_session_is_drawn_not_charged(practice: Practice, desk: User) -> None:
    priced(practice, "therapeutic", amount="50.00")
    course = CourseFactory(practice=practice)
    client = logged_in(desk)
    client.post(f"/p/linden/billing/courses/{course.pk}/package/", {"discount_percent": "0"})
    session = course.sessions.first()
    panel = client.get(f"/p/linden/billing/sessions/{session.pk}/panel/")
    assert "drawn from a paid course package" in panel.text
    refused = client.post(f"/p/linden/billing/sessions/{session.pk}/charge/")
    assert refused.status_code == 400
    assert Invoice.objects.count() == 1


def test_a_confirmed_fee_is_invoiced_with_the_open_charges(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("20.00"))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    fee = Charge.objects.get()
    client = logged_in(desk)
    nothing_open = client.post(f"/p/linden/billing/patients/{session.patient_id}/invoice/")
    assert nothing_open.status_code == 400
    assert client.post(f"/p/linden/billing/charges/{fee.pk}/confirm/").status_code == 302
    assert client.post(f"/p/linden/billing/charges/{fee.pk}/confirm/").status_code == 400
    invoiced = client.post(f"/p/linden/billing/patients/{session.patient_id}/invoice/")
    assert invoiced.status_code == 302
    assert Invoice.objects.get().gross == Decimal("20.000")
