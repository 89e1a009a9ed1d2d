"""Payment providers shaped like Stripe: Payment Intents to take money, Refunds to give it back,
and signed webhook events to say what happened.

Webhooks are checked as Stripe does it: the `Stripe-Signature` header carries `t=<unix time>`
and `v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook secret>`; a signature that does not
match, or a timestamp outside the tolerance (a replayed capture), is refused.

`FakeProvider` needs no network: the demo's portal page and the tests "pay" and refund with
it, and it builds the same signed events a real provider would post.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing.models import OnlinePayment
from billing.money import minor_units

SIGNATURE_HEADER = "Stripe-Signature"


class BadSignature(Exception):
    """A webhook whose signature or timestamp does not check out."""


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    # Stripe's refund statuses: pending, requires_action, succeeded, failed, canceled.
    status: str


class PaymentProvider(Protocol):
    name: str

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent: ...

    def refund(
        self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund: ...


def to_minor(amount: Decimal, currency: str) -> int:
    """Stripe counts in minor units: 12.50 EUR is 1250."""
    return int(amount.scaleb(minor_units(currency)))


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_units(currency))


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


def signed_event(kind: str, data: dict[str, Any]) -> tuple[bytes, str]:
    """The body and signature header of an event as the provider posts it."""
    body = {"id": f"evt_fake_{secrets.token_hex(8)}", "type": kind, "data": {"object": data}}
    payload = json.dumps(body).encode()
    header = sign(payload, secret=settings.BILLING_WEBHOOK_SECRET, timestamp=int(time.time()))
    return payload, header


def refund_object(
    *, refund_id: str, intent_id: str, amount: Decimal, currency: str, status: str = "succeeded"
) -> dict[str, Any]:
    """A refund as Stripe's events carry it (https://docs.stripe.com/api/refunds/object)."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": to_minor(amount, currency),
        "currency": currency.lower(),
        "payment_intent": intent_id,
        "status": status,
    }


class FakeProvider:
    """A provider that lives in this process: intents and refunds are made up, and paying one
    builds the signed `payment_intent.succeeded` event Stripe would post."""

    name = "fake"

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        intent_id = f"pi_fake_{secrets.token_hex(8)}"
        return Intent(id=intent_id, client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}")

    def refund(
        self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        return ProviderRefund(id=f"re_fake_{secrets.token_hex(8)}", status="succeeded")

    def succeeded_event(self, payment: OnlinePayment) -> tuple[bytes, str]:
        """The body and signature header of the event that says `payment` went through."""
        currency = payment.invoice.currency
        return signed_event(
            "payment_intent.succeeded",
            {
                "id": payment.intent_id,
                "object": "payment_intent",
                "amount_received": to_minor(payment.amount, currency),
                "currency": currency.lower(),
            },
        )


class StripeProvider:
    """Stripe's API: Payment Intents (https://docs.stripe.com/api/payment_intents/create) and
    Refunds (https://docs.stripe.com/api/refunds/create), form-encoded, amounts in minor
    units, each call with an idempotency key so that a retried request does it once."""

    name = "stripe"

    def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{settings.STRIPE_API_URL}/{path}",
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}",
                "Idempotency-Key": idempotency_key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            # Stripe explains a refusal (e.g. "charge already refunded") in error.message.
            try:
                reason = str(json.load(exc)["error"]["message"])
            except (ValueError, KeyError, TypeError):
                reason = str(exc)
            raise ValidationError(
                _("The payment provider refused: %(reason)s") % {"reason": reason}
            ) from exc
        except OSError as exc:
            raise ValidationError(_("The payment provider did not answer; try again.")) from exc
        return answer

    def create_intent(
        self, *, amount: Decimal, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> Intent:
        form = {
            "amount": str(to_minor(amount, currency)),
            "currency": currency.lower(),
            "automatic_payment_methods[enabled]": "true",
            **{f"metadata[{key}]": value for key, value in metadata.items()},
        }
        answer = self._post("payment_intents", form, idempotency_key)
        return Intent(id=answer["id"], client_secret=answer["client_secret"])

    def refund(
        self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        form = {"payment_intent": intent_id, "amount": str(to_minor(amount, currency))}
        answer = self._post("refunds", form, idempotency_key)
        return ProviderRefund(id=answer["id"], status=answer.get("status", "pending"))


PROVIDERS: dict[str, type[FakeProvider] | type[StripeProvider]] = {
    FakeProvider.name: FakeProvider,
    StripeProvider.name: StripeProvider,
}


def payment_provider(name: str | None = None) -> FakeProvider | StripeProvider:
    """The provider called `name` (the one that took a payment), else the configured one."""
    return PROVIDERS[name or settings.BILLING_PAYMENT_PROVIDER]()
