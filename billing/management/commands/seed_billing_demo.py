"""Billing demo data for `make run`, after `seed_demo`: prices for a course's first session, a
policy (with a deposit for sessions booked online), a paid course package, an unpaid invoice
the demo patient can pay online, and some payment history.

A command of its own: `seed_demo` lives in `patients`, which may not import billing. Safe to
run again (a practice that has invoices is left alone).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from billing.invoicing import invoice_draft, invoice_issue
from billing.models import DepositKind, FeeKind, Invoice, PaymentMethod
from billing.packages import package_sell
from billing.payments import payment_record
from billing.pricing import billing_settings, session_charge
from courses.models import Course
from patients.models import Patient
from practice.models import MassageType, Practice, Therapist
from practice.prices import price_at, price_set
from sessions.models import Session, SessionStatus


class Command(BaseCommand):
    help = "Load billing demo data into the demo practice (run seed_demo first)."

    @transaction.atomic
    def handle(self, *args: object, **options: Any) -> None:
        practice = Practice.objects.filter(slug="linden").first()
        if practice is None:
            raise CommandError("Run seed_demo first: there is no demo practice.")
        if Invoice.objects.for_practice(practice).exists():
            self.stdout.write("Billing demo data is already there.")
            return
        now = timezone.now()
        policy = billing_settings(practice)
        policy.tax_rate = Decimal(19)
        policy.prices_include_tax = True
        policy.late_cancel_fee, policy.late_cancel_fee_value = FeeKind.PERCENT, Decimal(50)
        policy.no_show_fee, policy.no_show_fee_value = FeeKind.FIXED, Decimal(30)
        # A session the demo patient books in the portal asks a fifth up front.
        policy.deposit, policy.deposit_value = DepositKind.PERCENT, Decimal(20)
        policy.letterhead = "Linden Massage Studio GmbH · VAT DE123456789\nIBAN DE00 1234 5678"
        policy.save()
        # In force well before the demo's past sessions were booked. `seed_demo` priced each
        # type's default length; a course's first session (R14) lasts 10 minutes.
        since = now - timedelta(days=365)
        for kind in MassageType.objects.for_practice(practice):
            shown = price_at(massage_type=kind, minutes=kind.default_minutes, moment=now)
            amount = shown.amount if shown is not None else Decimal(20 + kind.default_minutes)
            for minutes in {10, kind.default_minutes}:
                if price_at(massage_type=kind, minutes=minutes, moment=since) is None:
                    price_set(massage_type=kind, minutes=minutes, amount=amount, valid_from=since)
        therapist = Therapist.objects.for_practice(practice).order_by("id").first()
        patients = list(Patient.objects.for_practice(practice).order_by("id")[:3])
        if therapist is None or len(patients) < 3:
            raise CommandError("Run seed_demo first: the demo practice has no staff or patients.")
        portal_patient, regular, instalments = patients

        # A course sold as a package and paid in full by card.
        therapeutic = MassageType.objects.get(practice=practice, code="therapeutic")
        course = Course.objects.create(
            practice=practice,
            patient=regular,
            therapist=therapist,
            massage_type=therapeutic,
            start_date=timezone.localdate(now, practice.zone) + timedelta(days=7),
            preferred_time=time(10),
        )
        _package, invoice = package_sell(course=course, by=None, discount_percent=Decimal(10))
        payment_record(invoice=invoice, amount=invoice.gross, method=PaymentMethod.CARD, by=None)

        # Past sessions: one unpaid (the demo patient pays it online), one paid in two parts.
        for days_ago, patient in ((3, portal_patient), (10, instalments)):
            session = self._past_session(practice, therapist, patient, days_ago)
            invoice = invoice_issue(
                invoice=invoice_draft(patient=patient, charges=[session_charge(session=session)]),
                by=None,
            )
            if patient == instalments:
                half = (invoice.gross / 2).quantize(Decimal("0.01"))
                payment_record(invoice=invoice, amount=half, method=PaymentMethod.CASH, by=None)
                payment_record(
                    invoice=invoice,
                    amount=invoice.gross - half,
                    method=PaymentMethod.BANK_TRANSFER,
                    by=None,
                )
        self.stdout.write(self.style.SUCCESS("Billing demo data ready."))

    @staticmethod
    def _past_session(
        practice: Practice, therapist: Therapist, patient: Patient, days_ago: int
    ) -> Session:
        kind = MassageType.objects.get(practice=practice, code="classical")
        day = timezone.localdate(timezone.now(), practice.zone) - timedelta(days=days_ago)
        starts = datetime.combine(day, time(9), tzinfo=practice.zone)
        ends = starts + timedelta(minutes=kind.default_minutes)
        session = Session.objects.create(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=kind,
            starts_at=starts,
            ends_at=ends,
            blocks_until=ends + timedelta(minutes=practice.settings.buffer_minutes),
            status=SessionStatus.COMPLETED,
        )
        # Booked before it took place, at the prices of the year.
        Session.objects.filter(pk=session.pk).update(created_at=starts - timedelta(days=2))
        session.refresh_from_db()
        return session
