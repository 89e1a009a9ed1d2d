"""Late cancellation and no-show fees: drafted by the practice's policy when sessions records
the miss (sessions knows nothing of billing), waived by the desk only with a reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.fees import fee_confirm, fee_waive
from billing.invoicing import invoice_draft
from billing.models import Charge, ChargeKind, ChargeStatus, FeeKind
from practice.models import Practice, User
from sessions.booking.sessions import session_cancel
from sessions.day.running import session_no_show
from tests.billing.helpers import policy, priced
from tests.clock import noon
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_a_late_cancel_drafts_the_fixed_fee(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice)  # noon today: inside the 24 h notice
    assert session_cancel(session=session, by=desk).late
    fee = Charge.objects.get(session=session)
    assert (fee.kind, fee.status, fee.gross) == (
        ChargeKind.LATE_CANCEL_FEE,
        ChargeStatus.DRAFT,
        Decimal("25.000"),
    )


def test_a_percentage_fee_is_of_the_booked_price(practice: Practice, desk: User) -> None:
    priced(practice, amount="60.00")
    policy(practice, late_cancel_fee=FeeKind.PERCENT, late_cancel_fee_value=Decimal(50))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    assert Charge.objects.get(session=session).gross == Decimal("30.00")


def test_a_cancel_in_time_costs_nothing(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice, starts_at=noon(practice, days=3))
    assert not session_cancel(session=session, by=desk).late
    assert not Charge.objects.exists()


def test_a_medical_cancel_is_never_fined(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk, medical=True)
    assert not Charge.objects.exists()


def test_no_policy_no_fee(practice: Practice, desk: User) -> None:
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    assert not Charge.objects.exists()


def test_a_no_show_drafts_the_no_show_fee(practice: Practice, desk: User) -> None:
    policy(practice, no_show_fee=FeeKind.FIXED, no_show_fee_value=Decimal("40.00"))
    session = SessionFactory(practice=practice)
    session_no_show(session=session, by=desk, now=session.starts_at + timedelta(minutes=15))
    fee = Charge.objects.get(session=session)
    assert (fee.kind, fee.gross) == (ChargeKind.NO_SHOW_FEE, Decimal("40.000"))


def test_the_desk_waives_a_fee_with_a_reason_kept_on_it(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    fee = Charge.objects.get(session=session)
    with pytest.raises(ValidationError, match="why"):
        fee_waive(charge=fee, by=desk, reason="  ")
    waived = fee_waive(charge=fee, by=desk, reason="Snowstorm, buses stopped")
    assert waived.status == ChargeStatus.WAIVED
    assert (waived.waived_by, waived.waive_reason) == (desk, "Snowstorm, buses stopped")
    assert waived.waived_at is not None
    with pytest.raises(ValidationError, match="already"):
        fee_waive(charge=fee, by=desk, reason="again")


def test_a_drafted_fee_is_invoiced_only_once_confirmed(practice: Practice, desk: User) -> None:
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal("25.00"))
    session = SessionFactory(practice=practice)
    session_cancel(session=session, by=desk)
    fee = Charge.objects.get(session=session)
    with pytest.raises(ValidationError, match="confirm"):
        invoice_draft(patient=session.patient, charges=[fee])
    invoice = invoice_draft(patient=session.patient, charges=[fee_confirm(charge=fee)])
    assert invoice.lines.get().charge == fee


def test_a_percentage_over_100_is_refused(practice: Practice) -> None:
    with pytest.raises(ValidationError):
        policy(practice, no_show_fee=FeeKind.PERCENT, no_show_fee_value=Decimal(150))
