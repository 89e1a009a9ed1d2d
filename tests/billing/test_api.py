"""The billing API: invoices, payments and balances for the desk; a patient reads their own;
a therapist nothing; another practice's rows are "not found"; issued invoices never change."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import Invoice, Payment
from billing.pricing import session_charge
from practice.models import Practice, Role, User
from tests.billing.helpers import issued_for, priced
from tests.factories import PatientFactory, SessionFactory

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/billing/invoices/"
PAYMENTS = "/api/v1/billing/payments/"

ApiAs = Callable[[User | None], APIClient]


@pytest.fixture
def invoice(practice: Practice) -> Invoice:
    priced(practice, amount="60.00")
    return issued_for(SessionFactory(practice=practice))


def test_the_desk_lists_invoices_with_their_lines(
    invoice: Invoice, desk: User, api_as: ApiAs
) -> None:
    rows = api_as(desk).get(INVOICES).json()["results"]
    assert [(r["display_number"], r["gross"], r["paid"]) for r in rows] == [
        ("INV-2026-00001", "60.000", "0.000")
    ]
    assert rows[0]["lines"][0]["gross"] == "60.000"


@pytest.mark.parametrize("rows", [1, 8])
def test_the_invoice_list_takes_constant_queries(
    practice: Practice, desk: User, api_as: ApiAs, django_assert_num_queries, rows: int
) -> None:
    priced(practice)
    for _ in range(rows):
        issued_for(SessionFactory(practice=practice))
    client = api_as(desk)
    # The membership, the page, its lines.
    with django_assert_num_queries(3):
        response = client.get(INVOICES)
    assert len(response.json()["results"]) == rows


def test_an_issued_invoice_cannot_be_changed_through_the_api(
    invoice: Invoice, desk: User, api_as: ApiAs
) -> None:
    client = api_as(desk)
    url = f"{INVOICES}{invoice.pk}/"
    assert client.put(url, {"gross": "1.00"}, format="json").status_code == 405
    assert client.patch(url, {"gross": "1.00"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(f"{url}issue/").status_code == 400  # already issued
    assert Invoice.objects.get(pk=invoice.pk).gross == Decimal("60.000")


def test_the_desk_drafts_issues_and_credits(practice: Practice, desk: User, api_as: ApiAs) -> None:
    priced(practice)
    session = SessionFactory(practice=practice)
    charge = session_charge(session=session)
    client = api_as(desk)
    draft = client.post(
        INVOICES, {"patient": session.patient.pk, "charges": [charge.pk]}, format="json"
    )
    assert draft.status_code == 201, draft.json()
    assert draft.json()["status"] == "draft"
    issued = client.post(f"{INVOICES}{draft.json()['id']}/issue/")
    assert (issued.status_code, issued.json()["number"]) == (200, 1)
    note = client.post(f"{INVOICES}{draft.json()['id']}/credit/")
    assert (note.status_code, note.json()["kind"], note.json()["gross"]) == (
        201,
        "credit_note",
        "-60.000",
    )
    again = client.post(f"{INVOICES}{draft.json()['id']}/credit/")
    assert again.status_code == 400


def test_a_draft_of_unknown_charges_is_a_400(practice: Practice, desk: User, api_as: ApiAs) -> None:
    patient = PatientFactory(practice=practice)
    response = api_as(desk).post(
        INVOICES, {"patient": patient.pk, "charges": [999999]}, format="json"
    )
    assert response.status_code == 400
    assert "charges" in response.json()["errors"]


def test_the_desk_records_a_partial_payment_and_reads_the_balance(
    invoice: Invoice, desk: User, api_as: ApiAs
) -> None:
    client = api_as(desk)
    paid = client.post(
        PAYMENTS, {"invoice": invoice.pk, "amount": "25.00", "method": "cash"}, format="json"
    )
    assert paid.status_code == 201, paid.json()
    too_much = client.post(
        PAYMENTS, {"invoice": invoice.pk, "amount": "40.00", "method": "card"}, format="json"
    )
    assert too_much.status_code == 400
    assert "amount" in too_much.json()["errors"]
    balance = client.get(f"/api/v1/billing/patients/{invoice.patient_id}/balance/").json()
    assert (balance["invoiced"], balance["currency"]) == ("35.000", "EUR")
    assert [row["amount"] for row in client.get(PAYMENTS).json()["results"]] == ["25.000"]


def test_a_therapist_has_no_billing(
    invoice: Invoice, practice: Practice, member: Callable[..., User], api_as: ApiAs
) -> None:
    client = api_as(member(practice, Role.THERAPIST))
    assert client.get(INVOICES).status_code == 403
    assert client.get(PAYMENTS).status_code == 403
    assert client.get(f"/api/v1/billing/patients/{invoice.patient_id}/balance/").status_code == 403


def test_a_patient_reads_only_their_own_and_writes_nothing(
    practice: Practice, member: Callable[..., User], api_as: ApiAs
) -> None:
    priced(practice)
    user = member(practice, Role.PATIENT)
    mine = issued_for(
        SessionFactory(practice=practice, patient=PatientFactory(practice=practice, user=user))
    )
    theirs = issued_for(SessionFactory(practice=practice))
    client = api_as(user)
    assert [row["id"] for row in client.get(INVOICES).json()["results"]] == [mine.pk]
    assert client.get(f"{INVOICES}{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/billing/patients/{theirs.patient_id}/balance/").status_code == 404
    assert client.get(f"/api/v1/billing/patients/{mine.patient_id}/balance/").status_code == 200
    paying = client.post(
        PAYMENTS, {"invoice": mine.pk, "amount": "1.00", "method": "cash"}, format="json"
    )
    assert paying.status_code == 403
    assert client.post(f"{INVOICES}{mine.pk}/credit/").status_code == 403


def test_another_practices_rows_are_not_found(
    invoice: Invoice, other_desk: User, api_as: ApiAs
) -> None:
    client = api_as(other_desk)
    assert client.get(INVOICES).json()["results"] == []
    assert client.get(f"{INVOICES}{invoice.pk}/").status_code == 404
    assert client.post(f"{INVOICES}{invoice.pk}/credit/").status_code == 404
    assert client.get(f"/api/v1/billing/patients/{invoice.patient_id}/balance/").status_code == 404
    paying = client.post(
        PAYMENTS, {"invoice": invoice.pk, "amount": "1.00", "method": "cash"}, format="json"
    )
    assert paying.status_code == 400
    assert not Payment.objects.exists()


def test_the_desk_refunds_what_a_credit_note_made_overpaid(
    invoice: Invoice, desk: User, api_as: ApiAs
) -> None:
    client = api_as(desk)
    client.post(
        PAYMENTS, {"invoice": invoice.pk, "amount": "60.00", "method": "card"}, format="json"
    )
    refund_url = f"{INVOICES}{invoice.pk}/refund/"
    nothing_over = client.post(refund_url, {"amount": "1.00", "method": "card"}, format="json")
    assert nothing_over.status_code == 400
    client.post(f"{INVOICES}{invoice.pk}/credit/")
    refund = client.post(refund_url, {"amount": "60.00", "method": "card"}, format="json")
    assert (refund.status_code, refund.json()["amount"]) == (201, "-60.000")
    balance = client.get(f"/api/v1/billing/patients/{invoice.patient_id}/balance/").json()
    assert balance["invoiced"] == "0.000"
    assert (
        client.post(refund_url, {"amount": "0.01", "method": "card"}, format="json").status_code
        == 400
    )
