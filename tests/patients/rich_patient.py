"""A patient with a row in every kind of record that can belong to a patient, for the tests
of their rights (export, erasure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from billing.deposits import deposit_ask
from billing.models import DepositKind, PaymentMethod
from billing.online import online_payment_start
from billing.packages import package_sell
from billing.payments import payment_record
from patients.models import DoctorClearance, HighBloodPressure, Patient
from practice.models import Practice, Role, User
from sessions.models import FreedSlot, Session, WaitlistEntry, WaitlistOffer
from tests.billing.helpers import policy, priced
from tests.clock import noon
from tests.factories import (
    CheckInFactory,
    ContraindicationFactory,
    CourseFactory,
    MembershipFactory,
    PatientFactory,
    ReminderFactory,
    ScreeningFactory,
    SessionFactory,
    SessionRecordFactory,
    UserFactory,
)

IDENTITY = {
    "given_name": "Wilhelmina",
    "family_name": "Quackenbush",
    "email": "wilhelmina.quackenbush@example.org",
    "phone": "+4915199988877",
    "date_of_birth": date(1961, 3, 17),
    "emergency_contact_name": "Ottokar Quackenbush",
    "emergency_contact_phone": "+4915111122233",
}


def rich_patient(practice: Practice, *, billed: bool = True) -> Patient:
    """A patient with rows of every kind that can belong to one; `billed`: with the invoices
    and payments the practice must keep even after an erasure."""
    user: User = UserFactory(email="wq.portal@example.org", full_name="Wilhelmina Q. Portal")
    MembershipFactory(practice=practice, user=user, role=Role.PATIENT)
    patient = PatientFactory(practice=practice, user=user, **IDENTITY)
    course = CourseFactory(patient=patient)
    first, second = Session.objects.filter(course=course).order_by("sequence")[:2]
    CheckInFactory(session=first)
    SessionRecordFactory(session=second)
    ReminderFactory(session=first)
    screening = ScreeningFactory(patient=patient)
    HighBloodPressure.objects.create(
        practice=practice,
        patient=patient,
        day=timezone.localdate(),
        measured_at=timezone.now(),
        systolic=165,
        source=HighBloodPressure.Source.SCREENING,
    )
    contraindication = ContraindicationFactory(practice=practice, clearable=True)
    clearance = DoctorClearance(
        practice=practice,
        screening=screening,
        contraindication=contraindication,
        doctor_name="Dr. Ada Lind",
        issued_on=timezone.localdate(),
    )
    clearance.document.save("letter.pdf", ContentFile(b"%PDF letter"), save=True)
    if billed:
        # The course sold as a package, paid in part at the desk, the rest started online.
        priced(practice, course.massage_type.code)
        _package, invoice = package_sell(course=course, by=None)
        payment_record(invoice=invoice, amount=Decimal("10.00"), method=PaymentMethod.CASH, by=None)
        online_payment_start(invoice=invoice)
        # A single session booked online, held for its deposit.
        policy(practice, deposit=DepositKind.FIXED, deposit_value=Decimal("10.00"))
        single = SessionFactory(patient=patient, starts_at=noon(practice, days=1))
        deposit_ask(session=single, now=timezone.now())
    # On the waitlist, with an offer of a time their own freed session left.
    entry = WaitlistEntry.objects.create(
        practice=practice,
        patient=patient,
        massage_type=course.massage_type,
        first_day=timezone.localdate(),
        last_day=timezone.localdate(),
    )
    slot = FreedSlot.objects.create(
        practice=practice,
        session=first,
        schedule_version=first.schedule_version,
        therapist=first.therapist,
        starts_at=first.starts_at,
        ends_at=first.ends_at,
    )
    WaitlistOffer.objects.create(
        practice=practice,
        entry=entry,
        slot=slot,
        therapist=first.therapist,
        massage_type=course.massage_type,
        starts_at=first.starts_at,
        expires_at=first.starts_at,
    )
    return patient
