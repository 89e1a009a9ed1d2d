"""Billing test data: prices in force before the sessions were booked, a policy, invoices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.invoicing import invoice_draft, invoice_issue
from billing.models import BillingSettings, Invoice
from billing.pricing import billing_settings, session_charge
from practice.models import Practice
from practice.prices import Price, price_set
from sessions.models import Session
from tests.factories import massage_type


def priced(
    practice: Practice, code: str = "classical", amount: str = "60.00", minutes: int | None = None
) -> Price:
    """A price for the type's default minutes (or `minutes`), in force since yesterday."""
    kind = massage_type(practice, code)
    return price_set(
        massage_type=kind,
        minutes=minutes or kind.default_minutes,
        amount=Decimal(amount),
        valid_from=timezone.now() - timedelta(days=1),
    )


def policy(practice: Practice, **fields: object) -> BillingSettings:
    settings = billing_settings(practice)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


def issued_for(session: Session) -> Invoice:
    """The session charged and invoiced."""
    charge = session_charge(session=session)
    return invoice_issue(invoice=invoice_draft(patient=session.patient, charges=[charge]), by=None)
