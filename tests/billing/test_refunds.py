"""Refunds of online payments through the provider (Stripe's /v1/refunds): full and partial,
never more than was paid or than the invoice was overpaid, recorded once whatever the
provider's refund events replay; the desk's page and the API; another practice's a 404."""

from __future__ import annotations

import io
import json
import urllib.error
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from billing.invoicing import credit_note_issue
from billing.models import Invoice, Payment, PaymentMethod, UnusedSessions
from billing.online import online_payment_start, webhook_receive
from billing.packages import package_sell
from billing.payments import online_refund, payment_record
from billing.providers import FakeProvider, StripeProvider, refund_object, signed_event
from billing.selectors import invoice_outstanding, patient_balance
from practice.models import Practice, Role, User
from sessions.booking.courses import course_cancel
from tests.billing.helpers import issued_for, policy, priced
from tests.factories import CourseFactory, SessionFactory
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

ApiAs = Callable[[User | None], APIClient]


def paid_online(invoice: Invoice) -> Payment:
    """What is outstanding on `invoice`, paid with the fake provider."""
    intent = online_payment_start(invoice=invoice)
    payload, header = FakeProvider().succeeded_event(intent)
    assert webhook_receive(provider="fake", payload=payload, signature=header) == "recorded"
    return Payment.objects.get(reference=intent.intent_id)


@pytest.fixture
def payment(practice: Practice) -> Payment:
    """80.00 paid online for a session; the invoice then credited, so all of it is owed back."""
    priced(practice, amount="80.00")
    invoice = issued_for(SessionFactory(practice=practice))
    paid = paid_online(invoice)
    credit_note_issue(invoice=invoice, by=None)
    return paid


def refunds_of(payment: Payment) -> list[Decimal]:
    return list(payment.refunds.order_by("id").values_list("amount", flat=True))


def deliver(kind: str, data: dict) -> tuple[str, tuple[bytes, str]]:
    event = signed_event(kind, data)
    return webhook_receive(provider="fake", payload=event[0], signature=event[1]), event


def test_a_full_refund_goes_through_the_provider(payment: Payment, desk: User) -> None:
    refund = online_refund(payment=payment, amount=Decimal("80.00"), by=desk)
    assert (refund.amount, refund.method, refund.refund_of) == (
        Decimal("-80.00"),
        PaymentMethod.ONLINE,
        payment,
    )
    assert refund.reference.startswith("re_fake_")
    assert invoice_outstanding(payment.invoice) == 0
    assert patient_balance(payment.patient).invoiced == 0


def test_partial_refunds_add_up_to_what_was_paid_and_no_more(payment: Payment) -> None:
    online_refund(payment=payment, amount=Decimal("30.00"), by=None)
    online_refund(payment=payment, amount=Decimal("50.00"), by=None)
    assert refunds_of(payment) == [Decimal("-30.00"), Decimal("-50.00")]
    with pytest.raises(ValidationError, match=r"Only 0\.00 of this payment is left to refund"):
        online_refund(payment=payment, amount=Decimal("0.01"), by=None)


def test_more_than_was_paid_is_refused(payment: Payment) -> None:
    with pytest.raises(ValidationError, match=r"Only 80\.00 of this payment is left to refund"):
        online_refund(payment=payment, amount=Decimal("80.01"), by=None)
    assert refunds_of(payment) == []


def test_an_invoice_still_owed_is_credited_before_it_is_refunded(practice: Practice) -> None:
    priced(practice, amount="80.00")
    paid = paid_online(issued_for(SessionFactory(practice=practice)))
    with pytest.raises(ValidationError, match=r"At most 0\.00 can be refunded.*Credit the invoice"):
        online_refund(payment=paid, amount=Decimal("10.00"), by=None)


def test_a_desk_payment_is_not_refunded_through_the_provider(practice: Practice) -> None:
    priced(practice, amount="80.00")
    invoice = issued_for(SessionFactory(practice=practice))
    cash = payment_record(invoice=invoice, amount=Decimal("80.00"), method="cash", by=None)
    credit_note_issue(invoice=invoice, by=None)
    with pytest.raises(ValidationError, match="Only a payment taken online"):
        online_refund(payment=cash, amount=Decimal("80.00"), by=None)


def test_the_providers_refund_events_record_nothing_twice(payment: Payment) -> None:
    ours = online_refund(payment=payment, amount=Decimal("30.00"), by=None)
    currency = payment.invoice.currency
    known = refund_object(
        refund_id=ours.reference,
        intent_id=payment.reference,
        amount=Decimal("30.00"),
        currency=currency,
    )
    # Stripe says what we did already, in both its event shapes, then resends one.
    assert deliver("refund.created", known)[0] == "ignored"
    outcome, (body, header) = deliver(
        "charge.refunded", {"payment_intent": payment.reference, "refunds": {"data": [known]}}
    )
    assert outcome == "ignored"
    assert webhook_receive(provider="fake", payload=body, signature=header) == "replay"
    # A refund made in the provider's dashboard is recorded once, by its id.
    dashboard = refund_object(
        refund_id="re_dashboard_1",
        intent_id=payment.reference,
        amount=Decimal("20.00"),
        currency=currency,
    )
    assert deliver("refund.created", dashboard)[0] == "refunded"
    assert deliver("refund.updated", dashboard)[0] == "ignored"
    assert refunds_of(payment) == [Decimal("-30.00"), Decimal("-20.00")]


def test_a_refund_that_failed_at_the_provider_is_taken_off_the_books(payment: Payment) -> None:
    ours = online_refund(payment=payment, amount=Decimal("30.00"), by=None)
    failed = refund_object(
        refund_id=ours.reference,
        intent_id=payment.reference,
        amount=Decimal("30.00"),
        currency=payment.invoice.currency,
        status="failed",
    )
    assert deliver("refund.failed", failed)[0] == "refund failed"
    assert refunds_of(payment) == []
    assert invoice_outstanding(payment.invoice) == Decimal("-80.00")


def test_a_cancelled_package_paid_online_is_refunded_through_the_provider(
    practice: Practice, desk: User
) -> None:
    priced(practice, "therapeutic", amount="50.00")
    policy(practice, unused_sessions=UnusedSessions.REFUND)
    course = CourseFactory(practice=practice)
    _package, invoice = package_sell(course=course, by=desk)
    paid = paid_online(invoice)
    course_cancel(course=course, by=desk)
    assert refunds_of(paid) == [Decimal("-500.00")]
    assert invoice_outstanding(invoice) == 0


def test_the_stripe_adapter_posts_a_refund_in_minor_units() -> None:
    answer = mock.MagicMock()
    answer.__enter__.return_value = answer
    answer.read.return_value = b'{"id": "re_123", "status": "pending"}'
    with mock.patch("urllib.request.urlopen", return_value=answer) as urlopen:
        refund = StripeProvider().refund(
            intent_id="pi_123", amount=Decimal("12.50"), currency="EUR", idempotency_key="k2"
        )
    request = urlopen.call_args.args[0]
    assert (refund.id, refund.status) == ("re_123", "pending")
    assert request.full_url.endswith("/refunds")
    assert b"payment_intent=pi_123" in request.data
    assert b"amount=1250" in request.data
    assert request.headers["Idempotency-key"] == "k2"


def test_a_refund_stripe_refuses_is_a_clear_error() -> None:
    body = json.dumps({"error": {"message": "Charge ch_1 has already been refunded."}})
    refused = urllib.error.HTTPError(
        "https://api.stripe.com/v1/refunds", 400, "Bad Request", {}, io.BytesIO(body.encode())
    )
    with (
        mock.patch("urllib.request.urlopen", side_effect=refused),
        pytest.raises(ValidationError, match="refused: Charge ch_1 has already been refunded"),
    ):
        StripeProvider().refund(
            intent_id="pi_1", amount=Decimal("1.00"), currency="EUR", idempotency_key="k3"
        )


def test_the_desk_refunds_on_the_account_page(payment: Payment, desk: User) -> None:
    client = logged_in(desk)
    account = f"/p/linden/billing/patients/{payment.patient_id}/"
    assert "Refund to the card" in client.get(account).text
    url = f"/p/linden/billing/payments/{payment.pk}/refund/"
    too_much = client.post(url, {f"refund-{payment.pk}-amount": "90.00"})
    assert too_much.status_code == 400
    assert "Only 80.00 of this payment is left to refund" in too_much.text
    done = client.post(url, {f"refund-{payment.pk}-amount": "25.00"})
    assert done.status_code == 302
    assert "The refund is recorded." in client.get(done["Location"]).text
    assert refunds_of(payment) == [Decimal("-25.00")]
    # The rest paid back in cash, recorded by hand.
    invoice = payment.invoice
    prefix = f"refund-desk-{invoice.pk}"
    cash = client.post(
        f"/p/linden/billing/invoices/{invoice.pk}/refund/",
        {f"{prefix}-amount": "55.00", f"{prefix}-method": "cash"},
    )
    assert cash.status_code == 302
    assert invoice_outstanding(invoice) == 0


def test_another_practices_desk_gets_a_404(payment: Payment, other_desk: User) -> None:
    client = logged_in(other_desk)
    page = client.post(
        f"/p/harbour/billing/payments/{payment.pk}/refund/",
        {f"refund-{payment.pk}-amount": "1.00"},
    )
    assert page.status_code == 404
    invoice = payment.invoice
    cash = client.post(
        f"/p/harbour/billing/invoices/{invoice.pk}/refund/",
        {f"refund-desk-{invoice.pk}-amount": "1.00", f"refund-desk-{invoice.pk}-method": "cash"},
    )
    assert cash.status_code == 404
    assert Client().post(f"/p/linden/billing/payments/{payment.pk}/refund/").status_code == 302
    assert refunds_of(payment) == []


def test_the_api_refunds_an_online_payment(
    payment: Payment,
    desk: User,
    other_desk: User,
    member: Callable[..., User],
    practice: Practice,
    api_as: ApiAs,
) -> None:
    url = f"/api/v1/billing/payments/{payment.pk}/refund/"
    assert api_as(other_desk).post(url, {"amount": "1.00"}, format="json").status_code == 404
    patient = member(practice, Role.PATIENT)
    assert api_as(patient).post(url, {"amount": "1.00"}, format="json").status_code == 403
    client = api_as(desk)
    too_much = client.post(url, {"amount": "80.01"}, format="json")
    assert too_much.status_code == 400
    assert "amount" in too_much.json()["errors"]
    done = client.post(url, {"amount": "80.00"}, format="json")
    assert done.status_code == 201, done.json()
    assert (done.json()["amount"], done.json()["refund_of"]) == ("-80.000", payment.pk)
