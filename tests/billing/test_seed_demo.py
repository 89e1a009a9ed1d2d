"""The billing demo: prices, a paid package, an unpaid invoice for the portal's demo patient,
payment history; loading it twice adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.models import CoursePackage, Invoice, Payment
from billing.selectors import invoice_outstanding, open_invoices_of
from patients.models import Patient
from practice.prices import Price

pytestmark = pytest.mark.django_db


def test_the_billing_demo_loads_once() -> None:
    call_command("seed_demo", verbosity=0)
    call_command("seed_billing_demo", verbosity=0)
    call_command("seed_billing_demo", verbosity=0)
    assert Price.objects.filter(practice__slug="linden").exists()
    package = CoursePackage.objects.get()
    assert invoice_outstanding(Invoice.objects.get(lines__charge=package.charge)) == 0
    portal_patient = Patient.objects.get(user__email="patient@linden.example")
    assert len(open_invoices_of(portal_patient)) == 1
    assert Invoice.objects.count() == 3
    assert Payment.objects.count() == 3
