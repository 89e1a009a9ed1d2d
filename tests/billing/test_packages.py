"""Course packages: sold at a package price, paid in instalments; the course's sessions draw
from it; a cancelled course credits (or refunds) the unused sessions by the practice's policy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Payment, PaymentMethod, UnusedSessions
from billing.packages import package_sell, package_usage
from billing.payments import payment_record
from billing.pricing import session_charge
from billing.selectors import invoice_outstanding, patient_balance
from practice.models import Practice, User
from sessions.booking.courses import course_cancel
from sessions.day.running import session_no_show
from sessions.models import SessionStatus
from tests.billing.helpers import policy, priced
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_a_package_is_sold_with_its_discount_and_invoiced(practice: Practice, desk: User) -> None:
    priced(practice, "therapeutic", amount="50.00")
    course = CourseFactory(practice=practice)
    package, invoice = package_sell(course=course, by=desk, discount_percent=Decimal(10))
    assert (package.sessions_count, package.list_price) == (10, Decimal("500.00"))
    assert invoice.gross == Decimal("450.00")
    assert invoice.number == 1
    assert invoice.lines.get().description == "Course package: 10 × Therapeutic (10 % off)"
    with pytest.raises(ValidationError, match="already sold"):
        package_sell(course=course, by=desk)


def test_instalments_are_partial_payments_never_beyond_the_total(
    practice: Practice, desk: User
) -> None:
    priced(practice, "therapeutic", amount="50.00")
    _package, invoice = package_sell(course=CourseFactory(practice=practice), by=desk)
    payment_record(invoice=invoice, amount=Decimal("200.00"), method=PaymentMethod.CASH, by=desk)
    assert invoice_outstanding(invoice) == Decimal("300.00")
    assert patient_balance(invoice.patient).invoiced == Decimal("300.00")
    with pytest.raises(ValidationError, match="outstanding"):
        payment_record(
            invoice=invoice, amount=Decimal("300.01"), method=PaymentMethod.CARD, by=desk
        )
    with pytest.raises(ValidationError, match="positive"):
        payment_record(invoice=invoice, amount=Decimal("-1"), method=PaymentMethod.CARD, by=desk)


def test_sessions_of_a_package_draw_from_it_and_are_not_charged(
    practice: Practice, desk: User
) -> None:
    priced(practice, "therapeutic", amount="50.00")
    course = CourseFactory(practice=practice)
    package, _invoice = package_sell(course=course, by=desk)
    first, second = course.sessions.order_by("sequence")[:2]
    with pytest.raises(ValidationError, match="package"):
        session_charge(session=first)
    first.status = SessionStatus.COMPLETED
    first.save()
    session_no_show(session=second, by=desk, now=second.starts_at + timedelta(minutes=20))
    assert package_usage(package).used == 2
    assert package_usage(package).left == 8


def test_a_cancelled_course_credits_the_unused_sessions(practice: Practice, desk: User) -> None:
    priced(practice, "therapeutic", amount="50.00")
    policy(practice, unused_sessions=UnusedSessions.CREDIT)
    course = CourseFactory(practice=practice)
    _package, invoice = package_sell(course=course, by=desk)
    payment_record(invoice=invoice, amount=Decimal("500.00"), method=PaymentMethod.CARD, by=desk)
    first = course.sessions.order_by("sequence").first()
    first.status = SessionStatus.COMPLETED
    first.save()
    course_cancel(course=course, by=desk)
    note = invoice.credit_notes.get()
    assert note.gross == Decimal("-450.00")
    # Credit policy: nothing paid back, the patient has 450 on account.
    assert not Payment.objects.filter(amount__lt=0).exists()
    assert patient_balance(course.patient).invoiced == Decimal("-450.00")


def test_a_cancelled_course_refunds_what_was_paid_for_unused_sessions(
    practice: Practice, desk: User
) -> None:
    priced(practice, "therapeutic", amount="50.00")
    policy(practice, unused_sessions=UnusedSessions.REFUND)
    course = CourseFactory(practice=practice)
    _package, invoice = package_sell(course=course, by=desk)
    payment_record(invoice=invoice, amount=Decimal("300.00"), method=PaymentMethod.CARD, by=desk)
    for session in course.sessions.order_by("sequence")[:4]:
        session.status = SessionStatus.COMPLETED
        session.save()
    course_cancel(course=course, by=desk)
    # 4 of 10 used: 200 due, 300 paid, 100 back by card.
    refund = Payment.objects.get(amount__lt=0)
    assert (refund.amount, refund.method) == (Decimal("-100.00"), PaymentMethod.CARD)
    assert invoice_outstanding(invoice) == 0
    assert patient_balance(course.patient).invoiced == 0


def test_an_unpaid_cancelled_package_asks_only_for_the_used_sessions(
    practice: Practice, desk: User
) -> None:
    priced(practice, "therapeutic", amount="50.00")
    policy(practice, unused_sessions=UnusedSessions.REFUND)
    course = CourseFactory(practice=practice)
    _package, invoice = package_sell(course=course, by=desk)
    course_cancel(course=course, by=desk)
    assert invoice_outstanding(invoice) == 0
    assert not Payment.objects.exists()
