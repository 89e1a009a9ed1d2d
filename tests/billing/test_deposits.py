"""Deposits for sessions booked online: asked where the practice wants them, paid online with
the fake provider (portal and API), counted toward the session's invoice, and a booking whose
deposit is not paid in time released by the sweep, however often it runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from rest_framework.response import Response
from rest_framework.test import APIClient

from billing.deposits import deposit_ask, deposit_decide
from billing.invoicing import credit_note_issue
from billing.models import (
    Charge,
    ChargeKind,
    Deposit,
    DepositKind,
    DepositStatus,
    FeeKind,
    Invoice,
    InvoiceKind,
    OnlinePayment,
    PaymentMethod,
)
from billing.online import online_payment_start
from billing.payments import payment_record
from billing.providers import FakeProvider
from billing.selectors import invoice_outstanding, patient_balance
from billing.tasks import release_unpaid_deposits
from patients.models import Patient
from patients.services import screening_record
from practice.models import Practice, Role, Therapist, User
from sessions.booking.sessions import session_book
from sessions.models import Session, SessionStatus
from tests.billing.helpers import issued_for, policy, priced
from tests.clock import local, today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    answers_all_no,
    massage_type,
)
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

WEBHOOK = "/webhooks/payments/fake/"
SESSIONS = "/api/v1/sessions/"
ApiAs = Callable[[User | None], APIClient]


@pytest.fixture
def therapist(practice: Practice) -> Therapist:
    return TherapistFactory(practice=practice, week=True)


@pytest.fixture
def ann(practice: Practice, member: Callable[..., User]) -> Patient:
    user = member(practice, Role.PATIENT, email="ann@example.com")
    patient = PatientFactory(practice=practice, user=user, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient)
    return patient


@pytest.fixture
def deposits(practice: Practice) -> None:
    """60.00 a classical massage; a deposit of 25 % (15.00), to pay within 30 minutes."""
    priced(practice, "classical", amount="60.00")
    policy(practice, deposit=DepositKind.PERCENT, deposit_value=Decimal(25), deposit_minutes=30)


def book_online(
    practice: Practice, patient: Patient, therapist: Therapist, **kw: object
) -> Session:
    options: dict = {"starts_at": local(practice, today(practice, 1), 10), **kw}
    return session_book(
        practice=practice,
        patient=patient,
        therapist=therapist,
        massage_type=massage_type(practice),
        booked_by=patient.user,
        by_patient=True,
        online=True,
        **options,
    )


def portal_book(client: Client, practice: Practice, starts_at: datetime) -> str:
    """Book in the portal; where the page sends the patient next."""
    response = client.post(
        f"/p/{practice.slug}/me/book/",
        {
            "massage_type": massage_type(practice).pk,
            "day": starts_at.date().isoformat(),
            "starts_at": starts_at.isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def api_book(client: APIClient, practice: Practice, therapist: Therapist, hour: int) -> Response:
    """Book tomorrow at `hour` through the API, as the client's user."""
    booked = client.post(
        SESSIONS,
        {
            "therapist": therapist.pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": local(practice, today(practice, 1), hour).isoformat(),
        },
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    return booked


def webhook_pays(payment: OnlinePayment) -> None:
    payload, header = FakeProvider().succeeded_event(payment)
    answer = Client().post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert (answer.status_code, answer.content) == (200, b"recorded")


def test_a_deposit_is_asked_paid_in_the_portal_and_counts_toward_the_session(
    practice: Practice,
    therapist: Therapist,
    ann: Patient,
    deposits: None,
    clock: time_machine.Traveller,
) -> None:
    client = logged_in(ann.user)
    ten = local(practice, today(practice, 1), 10)

    # Booked: the portal goes on to the deposit, not to the session.
    next_page = portal_book(client, practice, ten)
    session = Session.objects.get(patient=ann)
    assert next_page == f"/p/linden/me/sessions/{session.pk}/deposit/"
    deposit = Deposit.objects.get(session=session)
    assert (deposit.status, deposit.invoice.gross) == (DepositStatus.DUE, Decimal("15.00"))
    assert timedelta(minutes=29) < deposit.due_at - session.created_at <= timedelta(minutes=30)
    page = client.get(next_page).content.decode()
    assert "15.00 EUR" in page

    # Paid online: the fake provider's checkout posts the signed webhook.
    checkout = client.post(f"/p/linden/me/invoices/{deposit.invoice.pk}/pay/")
    assert checkout.status_code == 302
    paid = client.post(checkout["Location"])
    assert paid.status_code == 302
    assert invoice_outstanding(deposit.invoice) == 0
    assert "The deposit is paid" in client.get(next_page).content.decode()

    # At its time the sweep keeps the booking.
    clock.shift(timedelta(minutes=31))
    assert release_unpaid_deposits() == 1
    deposit.refresh_from_db()
    session.refresh_from_db()
    assert (deposit.status, session.status) == (DepositStatus.KEPT, SessionStatus.BOOKED)

    # The session's invoice takes the deposit off: the two bill its price once.
    invoice = issued_for(session)
    assert invoice.gross == Decimal("45.00")
    assert [line.gross for line in invoice.lines.all()] == [Decimal("60.00"), Decimal("-15.00")]
    assert "Less the deposit" in invoice.lines.last().description
    assert patient_balance(ann).invoiced == Decimal("45.00")


def test_a_first_visit_booked_online_asks_the_deposit_too(
    practice: Practice,
    therapist: Therapist,
    member: Callable[..., User],
    deposits: None,
) -> None:
    newcomer = PatientFactory(practice=practice, user=member(practice, Role.PATIENT))
    screening_record(
        patient=newcomer, answers=answers_all_no(newcomer), self_reported=True
    )  # R1: the questionnaire stands in for the first visit
    next_page = portal_book(
        logged_in(newcomer.user), practice, local(practice, today(practice, 1), 11)
    )
    session = Session.objects.get(patient=newcomer)
    assert session.self_report is not None
    assert next_page.endswith(f"/me/sessions/{session.pk}/deposit/")
    assert Deposit.objects.filter(session=session).exists()


def test_the_api_says_a_deposit_is_due_and_where_to_pay_it(
    practice: Practice, therapist: Therapist, ann: Patient, deposits: None, api_as: ApiAs
) -> None:
    client = api_as(ann.user)
    booked = api_book(client, practice, therapist, hour=10)
    due = booked.json()["payment_due"]
    invoice = Invoice.objects.get(deposit__session_id=booked.json()["id"])
    assert due["reason"] == "deposit"
    assert (due["amount"], due["currency"], due["invoice"]) == ("15.000", "EUR", invoice.pk)
    assert due["pay_url"] == f"/api/v1/billing/invoices/{invoice.pk}/pay-online/"

    intent = client.post(due["pay_url"])
    assert intent.status_code == 201, intent.json()
    assert intent.json()["amount"] == "15.000"
    assert intent.json()["client_secret"].startswith(intent.json()["intent_id"])
    webhook_pays(OnlinePayment.objects.get(pk=intent.json()["id"]))
    assert invoice_outstanding(invoice) == 0
    # Nothing is left to pay: another intent is refused plainly.
    assert client.post(due["pay_url"]).status_code == 400


def test_a_patient_pays_online_only_their_own_invoices(
    practice: Practice,
    other_practice: Practice,
    ann: Patient,
    member: Callable[..., User],
    api_as: ApiAs,
) -> None:
    priced(practice)
    someone_elses = issued_for(SessionFactory(practice=practice))
    priced(other_practice)
    elsewhere = issued_for(SessionFactory(practice=other_practice))
    client = api_as(ann.user)
    assert client.post(f"/api/v1/billing/invoices/{someone_elses.pk}/pay-online/").status_code == (
        404
    )
    assert client.post(f"/api/v1/billing/invoices/{elsewhere.pk}/pay-online/").status_code == 404
    therapist = member(practice, Role.THERAPIST)
    assert (
        api_as(therapist)
        .post(f"/api/v1/billing/invoices/{someone_elses.pk}/pay-online/")
        .status_code
        == 403
    )
    assert not OnlinePayment.objects.exists()


def test_an_unpaid_deposit_releases_the_booking_once_however_often_the_sweep_runs(
    practice: Practice,
    therapist: Therapist,
    ann: Patient,
    deposits: None,
    clock: time_machine.Traveller,
) -> None:
    # A late-cancellation fee would apply to a cancel today: a release is never one.
    policy(practice, late_cancel_fee=FeeKind.FIXED, late_cancel_fee_value=Decimal(20))
    session = book_online(practice, ann, therapist, starts_at=local(practice, today(practice), 17))
    deposit = Deposit.objects.get(session=session)

    clock.shift(timedelta(minutes=29))
    assert release_unpaid_deposits() == 0  # not yet due
    clock.shift(timedelta(minutes=2))
    assert release_unpaid_deposits() == 1
    assert release_unpaid_deposits() == 0  # delivered twice: nothing more
    assert deposit_decide(deposit_id=deposit.pk) == ""

    session.refresh_from_db()
    deposit.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert not session.late_cancellation
    assert session.cancellation_reason == "The deposit was not paid in time."
    assert deposit.status == DepositStatus.RELEASED
    notes = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE)
    assert [note.gross for note in notes] == [Decimal("-15.00")]
    assert not Charge.objects.filter(kind=ChargeKind.LATE_CANCEL_FEE).exists()
    assert patient_balance(ann).invoiced == 0
    # The time is free again.
    bob = PatientFactory(practice=practice)
    ScreeningFactory(patient=bob)
    book_online(practice, bob, therapist, starts_at=session.starts_at)


def test_a_deposit_paid_at_the_desk_keeps_the_booking_one_unpaid_after_a_cancel_is_credited(
    practice: Practice,
    therapist: Therapist,
    ann: Patient,
    deposits: None,
    clock: time_machine.Traveller,
) -> None:
    kept = book_online(practice, ann, therapist)
    payment_record(
        invoice=Deposit.objects.get(session=kept).invoice,
        amount=Decimal("15.00"),
        method=PaymentMethod.CASH,
        by=None,
    )
    cancelled = book_online(
        practice, ann, therapist, starts_at=local(practice, today(practice, 2), 10)
    )
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    clock.shift(timedelta(minutes=31))
    assert release_unpaid_deposits() == 2
    assert Deposit.objects.get(session=kept).status == DepositStatus.KEPT
    assert Deposit.objects.get(session=cancelled).status == DepositStatus.RELEASED
    assert Session.objects.get(pk=kept.pk).status == SessionStatus.BOOKED
    assert patient_balance(ann).invoiced == 0


def test_without_a_deposit_policy_an_online_booking_is_unchanged(
    practice: Practice, therapist: Therapist, ann: Patient, api_as: ApiAs
) -> None:
    priced(practice, "classical", amount="60.00")
    next_page = portal_book(logged_in(ann.user), practice, local(practice, today(practice, 1), 10))
    session = Session.objects.get()
    assert next_page == f"/p/linden/me/sessions/{session.pk}/?notice=booked"
    booked = api_book(api_as(ann.user), practice, therapist, hour=12)
    assert booked.json()["payment_due"] is None
    assert not Deposit.objects.exists()
    assert not Invoice.objects.exists()


def test_the_desk_and_a_course_book_without_a_deposit(
    practice: Practice, therapist: Therapist, ann: Patient, deposits: None, desk: User
) -> None:
    at_the_desk = session_book(
        practice=practice,
        patient=ann,
        therapist=therapist,
        massage_type=massage_type(practice),
        starts_at=local(practice, today(practice, 1), 10),
        booked_by=desk,
    )
    # Only single sessions ask a deposit: a course's is paid as the course is.
    of_a_course = CourseFactory(practice=practice, patient=ann).sessions.first()
    assert deposit_ask(session=of_a_course, now=of_a_course.created_at) is None
    assert not Deposit.objects.filter(session=at_the_desk).exists()


def test_a_fixed_deposit_is_at_most_the_price_and_a_percentage_needs_one(
    practice: Practice, therapist: Therapist, ann: Patient
) -> None:
    policy(practice, deposit=DepositKind.PERCENT, deposit_value=Decimal(50))
    unpriced = book_online(practice, ann, therapist)
    assert not Deposit.objects.filter(session=unpriced).exists()  # booked all the same
    priced(practice, "classical", amount="30.00")
    policy(practice, deposit=DepositKind.FIXED, deposit_value=Decimal(40))
    fixed = book_online(practice, ann, therapist, starts_at=local(practice, today(practice, 2), 10))
    assert Deposit.objects.get(session=fixed).invoice.gross == Decimal("30.00")


def test_a_deposit_credited_by_hand_is_not_taken_off_the_session(
    practice: Practice, therapist: Therapist, ann: Patient, deposits: None
) -> None:
    session = book_online(practice, ann, therapist)
    credit_note_issue(invoice=Deposit.objects.get(session=session).invoice, by=None)
    assert issued_for(session).gross == Decimal("60.00")


def test_the_deposit_page_is_the_patients_own(
    practice: Practice,
    therapist: Therapist,
    ann: Patient,
    deposits: None,
    member: Callable[..., User],
) -> None:
    session = book_online(practice, ann, therapist)
    url = f"/p/linden/me/sessions/{session.pk}/deposit/"
    assert logged_in(ann.user).get(url).status_code == 200
    bob = PatientFactory(practice=practice, user=member(practice, Role.PATIENT))
    assert logged_in(bob.user).get(url).status_code == 404


def test_a_deposit_paid_after_its_booking_was_released_is_money_to_give_back(
    practice: Practice,
    therapist: Therapist,
    ann: Patient,
    deposits: None,
    clock: time_machine.Traveller,
) -> None:
    session = book_online(practice, ann, therapist)
    deposit = Deposit.objects.get(session=session)
    late_checkout = online_payment_start(invoice=deposit.invoice)
    clock.shift(timedelta(minutes=31))
    release_unpaid_deposits()
    webhook_pays(late_checkout)
    assert invoice_outstanding(deposit.invoice) == Decimal("-15.00")
    assert patient_balance(ann).invoiced == Decimal("-15.00")
