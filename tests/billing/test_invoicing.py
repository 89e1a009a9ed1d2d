"""Invoices: numbered without gaps per practice and year, never changed once issued,
corrected by credit notes; a session keeps the price it was booked at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.invoicing import credit_note_issue, invoice_draft, invoice_for_period, invoice_issue
from billing.models import (
    Charge,
    ChargeStatus,
    Invoice,
    InvoiceIssued,
    InvoiceKind,
    InvoiceLine,
)
from billing.pricing import session_charge
from billing.selectors import invoice_outstanding, patient_balance
from practice.models import Practice
from practice.prices import price_set
from sessions.models import Reminder
from sessions.reminders.composing import reminder_message, reminder_stale_reason
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from sessions.reminders.outbox import document_issued_remind
from tests.billing.helpers import issued_for, policy, priced
from tests.clock import noon
from tests.factories import PatientFactory, SessionFactory, massage_type

pytestmark = pytest.mark.django_db


def test_a_session_is_charged_at_the_price_it_was_booked_at(practice: Practice) -> None:
    priced(practice, amount="60.00")
    session = SessionFactory(practice=practice)
    price_set(
        massage_type=massage_type(practice),
        minutes=session.minutes,
        amount=Decimal("75.00"),
        valid_from=timezone.now(),
    )
    charge = session_charge(session=session)
    assert charge.gross == Decimal("60.00")
    assert session_charge(session=session) == charge  # charging again charges nothing new
    later = SessionFactory(practice=practice, starts_at=session.starts_at + timedelta(hours=3))
    assert session_charge(session=later).gross == Decimal("75.00")


def test_a_session_without_a_price_is_refused(practice: Practice) -> None:
    session = SessionFactory(practice=practice)
    with pytest.raises(ValidationError, match="no price"):
        session_charge(session=session)


def test_tax_is_split_from_gross_prices_per_line(practice: Practice) -> None:
    policy(practice, tax_rate=Decimal(19), prices_include_tax=True)
    priced(practice, amount="59.50")
    invoice = issued_for(SessionFactory(practice=practice))
    assert (invoice.net, invoice.tax, invoice.gross) == (
        Decimal("50.00"),
        Decimal("9.50"),
        Decimal("59.50"),
    )


def test_net_prices_get_tax_added(practice: Practice) -> None:
    policy(practice, tax_rate=Decimal(19), prices_include_tax=False)
    priced(practice, amount="50.00")
    invoice = issued_for(SessionFactory(practice=practice))
    assert invoice.gross == Decimal("59.50")


def test_numbers_run_per_practice_and_restart_each_year(
    practice: Practice, other_practice: Practice
) -> None:
    priced(practice)
    priced(other_practice)
    first = issued_for(SessionFactory(practice=practice))
    second = issued_for(
        SessionFactory(practice=practice, starts_at=first.issued_at + timedelta(hours=5))
    )
    elsewhere = issued_for(SessionFactory(practice=other_practice))
    assert (first.year, first.number, second.number, elsewhere.number) == (2026, 1, 2, 1)
    assert first.display_number == "INV-2026-00001"
    with time_machine.travel(datetime(2027, 1, 1, 9, tzinfo=UTC), tick=False):
        next_year = issued_for(SessionFactory(practice=practice))
    assert (next_year.year, next_year.number) == (2027, 1)


def test_an_issued_invoice_cannot_be_changed_or_deleted(practice: Practice) -> None:
    priced(practice)
    invoice = issued_for(SessionFactory(practice=practice))
    invoice.gross = Decimal("1.00")
    with pytest.raises(InvoiceIssued):
        invoice.save()
    with pytest.raises(InvoiceIssued):
        Invoice.objects.get(pk=invoice.pk).delete()
    line = InvoiceLine.objects.get(invoice=invoice)
    line.gross = Decimal("1.00")
    with pytest.raises(InvoiceIssued):
        line.save()
    with pytest.raises(InvoiceIssued):
        line.delete()
    with pytest.raises(InvoiceIssued):
        Invoice.objects.filter(pk=invoice.pk).update(gross=Decimal("1.00"))
    with pytest.raises(InvoiceIssued):
        Invoice.objects.filter(pk=invoice.pk).delete()
    assert Invoice.objects.get(pk=invoice.pk).gross == Decimal("60.000")


def test_a_draft_can_still_change(practice: Practice) -> None:
    priced(practice)
    session = SessionFactory(practice=practice)
    draft = invoice_draft(patient=session.patient, charges=[session_charge(session=session)])
    draft.currency = "EUR"
    draft.save()
    draft.delete()
    assert not Invoice.objects.exists()


def test_a_charge_goes_on_one_invoice_only(practice: Practice) -> None:
    priced(practice)
    session = SessionFactory(practice=practice)
    charge = session_charge(session=session)
    invoice_draft(patient=session.patient, charges=[charge])
    with pytest.raises(ValidationError, match="open charges"):
        invoice_draft(patient=session.patient, charges=[charge])


def test_an_invoice_takes_only_the_patients_own_charges(practice: Practice) -> None:
    priced(practice)
    mine, theirs = SessionFactory(practice=practice), SessionFactory(practice=practice)
    with pytest.raises(ValidationError, match="this patient"):
        invoice_draft(patient=mine.patient, charges=[session_charge(session=theirs)])


def test_a_credit_note_nets_the_invoice_to_zero(practice: Practice) -> None:
    policy(practice, tax_rate=Decimal(19))
    priced(practice, amount="59.50")
    invoice = issued_for(SessionFactory(practice=practice))
    note = credit_note_issue(invoice=invoice, by=None)
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.credits == invoice
    assert note.number == invoice.number + 1  # one sequence for both kinds, no gap
    assert (invoice.net + note.net, invoice.tax + note.tax, invoice.gross + note.gross) == (0, 0, 0)
    assert invoice_outstanding(invoice) == 0
    assert patient_balance(invoice.patient).invoiced == 0
    with pytest.raises(ValidationError, match="left to credit"):
        credit_note_issue(invoice=invoice, by=None)


def test_a_credit_note_cannot_be_credited(practice: Practice) -> None:
    priced(practice)
    note = credit_note_issue(invoice=issued_for(SessionFactory(practice=practice)), by=None)
    with pytest.raises(ValidationError, match="Only an issued invoice"):
        credit_note_issue(invoice=note, by=None)


def test_an_empty_draft_is_not_issued(practice: Practice) -> None:
    priced(practice)
    session = SessionFactory(practice=practice)
    draft = invoice_draft(patient=session.patient, charges=[session_charge(session=session)])
    InvoiceLine.objects.filter(invoice=draft).delete()
    with pytest.raises(ValidationError, match="at least one line"):
        invoice_issue(invoice=draft, by=None)
    assert Charge.objects.get().status == ChargeStatus.INVOICED


def test_r21_an_issued_invoice_is_announced_through_the_outbox_once_per_channel(
    practice: Practice,
) -> None:
    priced(practice, amount="60.00")
    patient = PatientFactory(practice=practice, consenting=True)
    invoice = issued_for(SessionFactory(practice=practice, patient=patient))
    rows = Reminder.objects.filter(kind=ReminderKind.DOCUMENT_ISSUED, patient=patient)
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "sms"]
    email = rows.get(channel="email")
    message = reminder_message(email, now=timezone.now())
    assert "invoice INV-2026-00001" in message.subject
    assert "60.00 EUR" in message.text
    assert "/p/linden/me/invoices/" in message.text
    assert reminder_stale_reason(email, now=timezone.now()) is None
    credit_note_issue(invoice=invoice, by=None)
    assert rows.count() == 4  # the credit note is a document of its own


def test_r21_the_invoice_email_carries_its_pdf(practice: Practice, mailoutbox: list) -> None:
    priced(practice, amount="60.00")
    patient = PatientFactory(practice=practice, consenting=True)
    issued_for(SessionFactory(practice=practice, patient=patient))
    rows = Reminder.objects.filter(kind=ReminderKind.DOCUMENT_ISSUED, patient=patient)
    sms = reminder_message(rows.get(channel="sms"), now=timezone.now())
    assert sms.attachments == ()

    reminders_dispatch(now=timezone.now())

    [mail] = mailoutbox
    [(filename, content, mimetype)] = mail.attachments
    assert (filename, mimetype) == ("INV-2026-00001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert "It is attached to this email as a PDF." in mail.body


def test_r21_a_document_without_its_file_is_announced_without_it(practice: Practice) -> None:
    patient = PatientFactory(practice=practice, consenting=True)
    document_issued_remind(
        patient=patient,
        key="gone",
        title="invoice INV-1",
        amount="1.00 EUR",
        url="https://linden.example/",
        attachment="invoice:999999",
    )
    email = Reminder.objects.get(channel="email")
    message = reminder_message(email, now=timezone.now())
    assert message.attachments == ()
    assert "attached" not in message.text


def test_r21_no_consent_no_message(practice: Practice) -> None:
    priced(practice)
    issued_for(SessionFactory(practice=practice))  # the factory's patient consented to nothing
    assert not Reminder.objects.filter(kind=ReminderKind.DOCUMENT_ISSUED).exists()


def test_an_invoice_per_period_takes_the_open_charges_of_that_period(
    practice: Practice, clock: time_machine.Traveller
) -> None:
    priced(practice)
    patient = PatientFactory(practice=practice)
    before = session_charge(session=SessionFactory(practice=practice, patient=patient))
    clock.shift(timedelta(days=3))
    start = timezone.now()
    inside = session_charge(
        session=SessionFactory(practice=practice, patient=patient, starts_at=noon(practice))
    )
    invoice = invoice_for_period(patient=patient, start=start, end=start + timedelta(days=1))
    assert [line.charge for line in invoice.lines.all()] == [inside]
    before.refresh_from_db()
    assert before.status == ChargeStatus.OPEN
