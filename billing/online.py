"""Online payments through a provider shaped like Stripe's Payment Intents (`billing.providers`).

The flow: `online_payment_start` asks the provider for an intent for what is outstanding on an
invoice and keeps its id and client secret; the patient pays on the provider's side; the
provider posts a signed event to our webhook, and `webhook_receive` records the payment.
Refunds go the other way (`billing.payments.online_refund`), and the provider's refund events
record a refund made elsewhere (its dashboard) or undo one that failed.

An event id is handled once: the `ProviderEvent` row is written in the same transaction as
what it records, so a resent event (providers resend until they get a 2xx) records nothing
twice; and a payment or refund is recorded once whatever events name it (the provider's
intent or refund id is the row's unique reference).
"""

from __future__ import annotations

import json
import time
from typing import Any

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
from billing.payments import refund_record
from billing.providers import BadSignature, from_minor, payment_provider, verify_signature
from billing.selectors import invoice_outstanding


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
    """Handle one signed event; answers what was done ("recorded", "failed", "refunded",
    "refund failed", "replay", "ignored"). Raises BadSignature for a forged or stale event."""
    verify_signature(payload, signature, secret=settings.BILLING_WEBHOOK_SECRET, now=time.time())
    try:
        event: dict[str, Any] = json.loads(payload)
        event_id, kind = str(event["id"]), str(event["type"])
        subject = event["data"]["object"]
        if not isinstance(subject, dict):
            raise TypeError("The event's object is not an object.")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadSignature("The event is not one we understand.") from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(provider=provider, event_id=event_id, kind=kind)
        except IntegrityError:
            return "replay"
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            return _apply_intent(provider, kind, subject)
        if kind in ("refund.created", "refund.updated", "refund.failed"):
            return _apply_refund(provider, subject)
        if kind == "charge.refunded":
            # A charge lists its refunds (when the account's API version still expands them;
            # the refund.* events say the same either way).
            refunds = subject.get("refunds")
            listed = refunds.get("data") if isinstance(refunds, dict) else None
            outcomes = [_apply_refund(provider, r) for r in listed or [] if isinstance(r, dict)]
            return next((outcome for outcome in outcomes if outcome != "ignored"), "ignored")
        return "ignored"


def _apply_intent(provider: str, kind: str, intent: dict[str, Any]) -> str:
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
    received = from_minor(received_minor, payment.invoice.currency)
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


def _apply_refund(provider: str, refund: dict[str, Any]) -> str:
    """A refund the provider reports: recorded once by its id (a refund we asked for is
    recorded already), or taken back off the books when it failed."""
    refund_id, intent_id = str(refund.get("id") or ""), str(refund.get("payment_intent") or "")
    intent = OnlinePayment.objects.filter(provider=provider, intent_id=intent_id).first()
    if not refund_id or intent is None:
        return "ignored"
    original = Payment.objects.filter(
        practice_id=intent.practice_id,
        method=PaymentMethod.ONLINE,
        reference=intent_id,
        refund_of__isnull=True,
    ).first()
    if original is None:
        return "ignored"
    recorded = Payment.objects.filter(
        practice_id=intent.practice_id, method=PaymentMethod.ONLINE, reference=refund_id
    )
    if refund.get("status") in ("failed", "canceled"):
        # The money never went back: the refund's row goes, and the invoice is paid again.
        deleted, _rows = recorded.filter(refund_of=original).delete()
        return "refund failed" if deleted else "ignored"
    amount = refund.get("amount")
    if recorded.exists() or not isinstance(amount, int) or amount <= 0:
        return "ignored"
    try:
        with transaction.atomic():
            refund_record(
                original=original,
                amount=from_minor(amount, intent.invoice.currency),
                reference=refund_id,
                by=None,
            )
    except IntegrityError:
        # `online_refund` recorded it meanwhile (its row is unique by the refund's id).
        return "ignored"
    return "refunded"
