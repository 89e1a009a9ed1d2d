"""Online payments through a provider shaped like Stripe's Payment Intents.

The flow: `online_payment_start` asks the provider for an intent for what is outstanding on an
invoice and keeps its id and client secret; the patient pays on the provider's side; the
provider posts a signed event to our webhook, and `webhook_receive` records the payment.

Webhooks are checked as Stripe does it: the `Stripe-Signature` header carries `t=<unix time>`
and `v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook secret>`; a signature that does not
match, or a timestamp outside the tolerance (a replayed capture), is refused. An event id is
handled once: the `ProviderEvent` row is written in the same transaction as the payment, so a
resent event (providers resend until they get a 2xx) records nothing twice.

`FakeProvider` needs no network: the demo's portal page and the tests "pay" with it, and it
posts the same signed webhook a real provider would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OnlinePayment,
    OnlinePaymentStatus,
    Payment,
    PaymentMethod,
    ProviderEvent,
)
from billing.money import minor_units
from billing.selectors import invoice_outstanding

SIGNATURE_HEADER = "Stripe-Signature"


class BadSignature(Exception):
    """A webhook whose signature or timestamp does not check out."""


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str


class PaymentProvider(Protocol):
    name: str

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe counts in minor units: 12.50 EUR is 1250."""
    return int(amount.scaleb(minor_units(currency)))


def sign(payload: bytes, *, secret: str, timestamp: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(payload: bytes, header: str, *, secret: str, now: float) -> None:
    """Stripe's scheme: any `v1` in the header may match (during a secret's rotation there are
    two); the timestamp must be within the tolerance."""
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not signatures or not timestamps[0].isdigit():
        raise BadSignature("The signature header is malformed.")
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > settings.BILLING_WEBHOOK_TOLERANCE_SECONDS:
        raise BadSignature("The signature's timestamp is outside the tolerance.")
    expected = sign(payload, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise BadSignature("The signature does not match.")


class FakeProvider:
    """A provider that lives in this process: intents are made up, and paying one builds the
    signed `payment_intent.succeeded` event Stripe would post."""

    name = "fake"

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        intent_id = f"pi_fake_{secrets.token_hex(8)}"
        return Intent(id=intent_id, client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}")

    def succeeded_event(self, payment: OnlinePayment) -> tuple[bytes, str]:
        """The body and signature header of the event that says `payment` went through."""
        currency = payment.invoice.currency
        body = {
            "id": f"evt_fake_{secrets.token_hex(8)}",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": payment.intent_id,
                    "object": "payment_intent",
                    "amount_received": to_minor(payment.amount, currency),
                    "currency": currency.lower(),
                }
            },
        }
        payload = json.dumps(body).encode()
        header = sign(payload, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=int(time.time()))
        return payload, header


class StripeProvider:
    """Stripe's Payment Intents API (https://docs.stripe.com/api/payment_intents/create)."""

    name = "stripe"

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        form = {
            "amount": str(to_minor(amount, currency)),
            "currency": currency.lower(),
            "automatic_payment_methods[enabled]": "true",
            **{f"metadata[{key}]": value for key, value in metadata.items()},
        }
        request = urllib.request.Request(
            f"{settings.STRIPE_API_URL}/payment_intents",
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}",
                "Idempotency-Key": idempotency_key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.load(response)
        except OSError as exc:
            raise ValidationError(_("The payment provider did not answer; try again.")) from exc
        return Intent(id=answer["id"], client_secret=answer["client_secret"])


PROVIDERS: dict[str, type[FakeProvider] | type[StripeProvider]] = {
    FakeProvider.name: FakeProvider,
    StripeProvider.name: StripeProvider,
}


def payment_provider() -> FakeProvider | StripeProvider:
    return PROVIDERS[settings.BILLING_PAYMENT_PROVIDER]()


def online_payment_start(*, invoice: Invoice) -> OnlinePayment:
    """An intent for what is outstanding on an issued invoice."""
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(_("Only an issued invoice can be paid."))
    outstanding = invoice_outstanding(invoice)
    if outstanding <= 0:
        raise ValidationError(_("Nothing is outstanding on this invoice."))
    provider = payment_provider()
    intent = provider.create_intent(
        amount=outstanding,
        currency=invoice.currency,
        idempotency_key=f"invoice-{invoice.pk}-{outstanding}",
        metadata={"invoice": str(invoice.pk), "practice": str(invoice.practice_id)},
    )
    return OnlinePayment.objects.create(
        practice_id=invoice.practice_id,
        invoice=invoice,
        amount=outstanding,
        provider=provider.name,
        intent_id=intent.id,
        client_secret=intent.client_secret,
    )


def webhook_receive(*, provider: str, payload: bytes, signature: str) -> str:
    """Handle one signed event; answers what was done ("recorded", "replay", "ignored").
    Raises BadSignature for a forged or stale event."""
    verify_signature(payload, signature, secret=settings.BILLING_WEBHOOK_SECRET, now=time.time())
    try:
        event: dict[str, Any] = json.loads(payload)
        event_id, kind = str(event["id"]), str(event["type"])
        intent = event["data"]["object"]
        if not isinstance(intent, dict):
            raise TypeError("The event's object is not an object.")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadSignature("The event is not one we understand.") from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(provider=provider, event_id=event_id, kind=kind)
        except IntegrityError:
            return "replay"
        return _apply(provider, kind, intent)


def _apply(provider: str, kind: str, intent: dict[str, Any]) -> str:
    if kind not in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        return "ignored"
    payment = (
        OnlinePayment.objects.select_for_update()
        .select_related("invoice")
        .filter(provider=provider, intent_id=str(intent.get("id")))
        .first()
    )
    if payment is None or payment.status != OnlinePaymentStatus.PENDING:
        return "ignored"
    if kind == "payment_intent.payment_failed":
        payment.status = OnlinePaymentStatus.FAILED
        payment.save(update_fields=["status"])
        return "failed"
    received_minor = intent.get("amount_received")
    if not isinstance(received_minor, int) or received_minor <= 0:
        return "ignored"
    received = Decimal(received_minor).scaleb(-minor_units(payment.invoice.currency))
    payment.status = OnlinePaymentStatus.SUCCEEDED
    payment.save(update_fields=["status"])
    # The money was taken: it is recorded even if the desk took a payment meanwhile (the
    # balance then shows the overpayment, to refund or keep as credit).
    Payment.objects.create(
        practice_id=payment.practice_id,
        patient_id=payment.invoice.patient_id,
        invoice=payment.invoice,
        amount=received,
        method=PaymentMethod.ONLINE,
        reference=payment.intent_id,
        received_at=timezone.now(),
    )
    return "recorded"
