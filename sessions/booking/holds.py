"""A booking held until the patient pays something: what the portal and the API say next.

A practice may ask a deposit of a patient who books online (billing's rule, `billing.deposits`):
the session is booked, but held, and released unless the deposit is paid in time. Sessions
cannot import billing (it is the layer above), yet right after booking its portal page must
send the patient on to pay, and its API's answer must tell a mobile client what is due.

So sessions keeps this small registry of *hold sources*: functions that answer a session's
`PaymentDue`, or None. Billing registers its own when the app is ready
(`billing.apps.BillingConfig.ready`), much as it receives `sessions.signals`; the pages and
the API only ask `payment_due(session)`. With no source registered a booking asks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sessions.models import Session


@dataclass(frozen=True)
class PaymentDue:
    """Something to pay before `due_at` for the booking to stand."""

    reason: str  # what it is, e.g. "deposit"
    amount: Decimal
    currency: str
    due_at: datetime
    invoice_id: int
    # Where the portal sends the patient to pay, and what an app posts to for a payment intent.
    page_url: str
    api_url: str


HoldSource = Callable[[Session], PaymentDue | None]

_sources: list[HoldSource] = []


def hold_source_register(source: HoldSource) -> None:
    """Called once per source at app ready; registering one again changes nothing."""
    if source not in _sources:
        _sources.append(source)


def payment_due(session: Session) -> PaymentDue | None:
    """What the patient still has to pay for `session` to stand, if anything."""
    for source in _sources:
        if (due := source(session)) is not None:
            return due
    return None
