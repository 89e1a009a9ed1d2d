"""Gapless invoice numbers under real concurrency: 20 threads, each with its own PostgreSQL
connection and transaction, issue at once; the counter row's lock makes them queue."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.invoicing import invoice_draft, invoice_issue
from billing.models import Invoice
from billing.pricing import session_charge
from practice.models import Practice
from tests.billing.helpers import priced
from tests.factories import SessionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_concurrent_issuers_get_numbers_one_to_twenty(practice: Practice) -> None:
    priced(practice)
    drafts = []
    for _ in range(THREADS):
        session = SessionFactory(practice=practice)
        drafts.append(
            invoice_draft(patient=session.patient, charges=[session_charge(session=session)])
        )
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def issue(draft: Invoice) -> None:
        try:
            barrier.wait()
            invoice_issue(invoice=draft, by=None)
        except Exception as error:  # the assertion shows it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(Invoice.objects.filter(practice=practice).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
