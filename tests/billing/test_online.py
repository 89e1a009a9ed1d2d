"""Online payments: intents for what is outstanding, webhooks checked like Stripe's
(HMAC over "<t>.<body>", timestamp tolerance), each event id handled once."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client

from billing.models import OnlinePayment, OnlinePaymentStatus, Payment, PaymentMethod
from billing.online import online_payment_start, webhook_receive
from billing.payments import payment_record
from billing.providers import (
    SIGNATURE_HEADER,
    BadSignature,
    FakeProvider,
    StripeProvider,
    sign,
    verify_signature,
)
from billing.selectors import invoice_outstanding
from practice.models import Practice
from tests.billing.helpers import issued_for, priced
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/webhooks/payments/fake/"


@pytest.fixture
def pending(practice: Practice) -> OnlinePayment:
    priced(practice, amount="80.00")
    invoice = issued_for(SessionFactory(practice=practice))
    payment_record(invoice=invoice, amount=Decimal("30.00"), method=PaymentMethod.CASH, by=None)
    return online_payment_start(invoice=invoice)


def test_an_intent_asks_for_what_is_outstanding(pending: OnlinePayment) -> None:
    assert pending.amount == Decimal("50.00")
    assert pending.client_secret.startswith(pending.intent_id)
    assert pending.status == OnlinePaymentStatus.PENDING


def test_the_signed_webhook_records_the_payment_once(pending: OnlinePayment) -> None:
    payload, header = FakeProvider().succeeded_event(pending)
    client = Client()
    first = client.post(
        WEBHOOK, payload, content_type="application/json", **{"HTTP_STRIPE_SIGNATURE": header}
    )
    replay = client.post(
        WEBHOOK, payload, content_type="application/json", **{"HTTP_STRIPE_SIGNATURE": header}
    )
    assert (first.status_code, first.content) == (200, b"recorded")
    assert (replay.status_code, replay.content) == (200, b"replay")
    online = Payment.objects.get(method=PaymentMethod.ONLINE)
    assert (online.amount, online.reference) == (Decimal("50.00"), pending.intent_id)
    assert invoice_outstanding(pending.invoice) == 0
    pending.refresh_from_db()
    assert pending.status == OnlinePaymentStatus.SUCCEEDED


def test_a_new_event_for_a_paid_intent_records_nothing_more(pending: OnlinePayment) -> None:
    for _ in range(2):  # two distinct event ids for the same intent
        payload, header = FakeProvider().succeeded_event(pending)
        webhook_receive(provider="fake", payload=payload, signature=header)
    assert Payment.objects.filter(method=PaymentMethod.ONLINE).count() == 1


def test_a_bad_signature_is_refused(pending: OnlinePayment) -> None:
    payload, header = FakeProvider().succeeded_event(pending)
    forged = sign(payload, secret="whsec_someone_else", timestamp=int(time.time()))
    response = Client().post(
        WEBHOOK, payload, content_type="application/json", **{"HTTP_STRIPE_SIGNATURE": forged}
    )
    assert response.status_code == 400
    tampered = payload.replace(b"5000", b"9000")
    with pytest.raises(BadSignature, match="does not match"):
        webhook_receive(provider="fake", payload=tampered, signature=header)
    with pytest.raises(BadSignature, match="malformed"):
        webhook_receive(provider="fake", payload=payload, signature="")
    assert not Payment.objects.filter(method=PaymentMethod.ONLINE).exists()


def test_a_stale_timestamp_is_refused_even_when_signed(pending: OnlinePayment) -> None:
    payload, _header = FakeProvider().succeeded_event(pending)
    old = int(time.time()) - settings.BILLING_WEBHOOK_TOLERANCE_SECONDS - 5
    stale = sign(payload, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=old)
    with pytest.raises(BadSignature, match="tolerance"):
        webhook_receive(provider="fake", payload=payload, signature=stale)


def test_any_v1_signature_may_match_during_a_secret_rotation() -> None:
    payload, now = b'{"id": "evt_1"}', int(time.time())
    good = sign(payload, secret="whsec_new", timestamp=now).split("v1=")[1]
    verify_signature(payload, f"t={now},v1=deadbeef,v1={good}", secret="whsec_new", now=now)


def test_a_failed_payment_records_nothing(pending: OnlinePayment) -> None:
    body = {
        "id": "evt_failed_1",
        "type": "payment_intent.payment_failed",
        "data": {"object": {"id": pending.intent_id}},
    }
    payload = json.dumps(body).encode()
    header = sign(payload, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=int(time.time()))
    assert webhook_receive(provider="fake", payload=payload, signature=header) == "failed"
    assert not Payment.objects.filter(method=PaymentMethod.ONLINE).exists()


def test_an_unknown_provider_is_a_404() -> None:
    assert (
        Client()
        .post("/webhooks/payments/paypal/", b"{}", content_type="application/json")
        .status_code
        == 404
    )


def test_a_paid_invoice_gets_no_intent(pending: OnlinePayment) -> None:
    payload, header = FakeProvider().succeeded_event(pending)
    webhook_receive(provider="fake", payload=payload, signature=header)
    with pytest.raises(ValidationError, match="Nothing is outstanding"):
        online_payment_start(invoice=pending.invoice)


def test_the_stripe_adapter_posts_a_payment_intent_in_minor_units() -> None:
    answer = mock.MagicMock()
    answer.__enter__.return_value = answer
    answer.read.return_value = b'{"id": "pi_123", "client_secret": "pi_123_secret_x"}'
    with mock.patch("urllib.request.urlopen", return_value=answer) as urlopen:
        intent = StripeProvider().create_intent(
            amount=Decimal("12.50"), currency="EUR", idempotency_key="k1", metadata={"invoice": "7"}
        )
    request = urlopen.call_args.args[0]
    assert (intent.id, intent.client_secret) == ("pi_123", "pi_123_secret_x")
    assert request.full_url.endswith("/payment_intents")
    assert b"amount=1250" in request.data
    assert b"currency=eur" in request.data
    assert request.headers["Idempotency-key"] == "k1"
    assert SIGNATURE_HEADER == "Stripe-Signature"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": []}}',
    ],
)
def test_a_signed_event_we_do_not_understand_is_a_400_not_a_500(body: bytes) -> None:
    header = sign(body, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=int(time.time()))
    response = Client().post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400


def test_a_signed_event_with_a_strange_amount_records_nothing(pending: OnlinePayment) -> None:
    body = json.dumps(
        {
            "id": "evt_strange",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": pending.intent_id, "amount_received": "lots"}},
        }
    ).encode()
    header = sign(body, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=int(time.time()))
    assert webhook_receive(provider="fake", payload=body, signature=header) == "ignored"
    assert not Payment.objects.filter(method=PaymentMethod.ONLINE).exists()
