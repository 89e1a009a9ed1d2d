"""A patient changes their own contact details and reminder consent from the portal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from patients.models import Patient
from practice.models import Practice, Role
from tests.clock import today
from tests.factories import PatientFactory
from tests.pages import field_errors, logged_in

pytestmark = pytest.mark.django_db


def contact_url(practice: Practice) -> str:
    return reverse("patients:portal-contact", kwargs={"practice_slug": practice.slug})


@pytest.fixture
def ann(practice, member) -> Patient:
    user = member(practice, Role.PATIENT, email="ann@example.com")
    return PatientFactory(
        practice=practice, user=user, phone="", email="", consent_email=False, consent_sms=False
    )


def test_a_patient_saves_contact_details_and_consent_dated_today(practice, ann) -> None:
    response = logged_in(ann.user).post(
        contact_url(practice),
        {"phone": "+49 151 2345 6789", "email": "Ann@Example.com", "consent_sms": "on"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("/me/?notice=contact-saved")
    ann.refresh_from_db()
    assert (ann.phone, ann.email) == ("+4915123456789", "ann@example.com")
    assert (ann.consent_email, ann.consent_sms) == (False, True)
    assert ann.consent_given_on == today(practice)


def test_consent_kept_keeps_its_first_date(practice, ann) -> None:
    first = today(practice, days=-30)
    Patient.objects.filter(pk=ann.pk).update(
        phone="+4915123456789", consent_sms=True, consent_given_on=first
    )

    logged_in(ann.user).post(
        contact_url(practice), {"phone": "+4915123456780", "consent_sms": "on"}
    )

    ann.refresh_from_db()
    assert (ann.phone, ann.consent_given_on) == ("+4915123456780", first)


def test_consent_without_the_address_it_needs_is_an_error_next_to_the_field(practice, ann) -> None:
    response = logged_in(ann.user).post(
        contact_url(practice), {"phone": "", "email": "", "consent_email": "on"}
    )

    assert response.status_code == 400
    assert "need an email address" in field_errors(response.content.decode(), "consent_email")
    ann.refresh_from_db()
    assert ann.consent_email is False


def test_a_bad_phone_is_an_error_next_to_the_field(practice, ann) -> None:
    response = logged_in(ann.user).post(contact_url(practice), {"phone": "call me"})

    assert response.status_code == 400
    assert "international format" in field_errors(response.content.decode(), "phone")


def test_another_patients_phone_is_saved_without_telling_who_has_it(practice, ann, member) -> None:
    PatientFactory(practice=practice, given_name="Bob", phone="+4915123456789")

    response = logged_in(ann.user).post(contact_url(practice), {"phone": "+4915123456789"})

    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.phone == "+4915123456789"


def test_only_the_patients_own_record_changes(practice, other_practice, ann, member) -> None:
    bob = PatientFactory(practice=practice, user=member(practice, Role.PATIENT), phone="")
    harbour = PatientFactory(
        practice=other_practice, user=member(other_practice, Role.PATIENT), phone=""
    )

    logged_in(ann.user).post(contact_url(practice), {"phone": "+4915123456789"})
    # A patient of another practice has no record here.
    elsewhere = logged_in(harbour.user).post(contact_url(practice), {"phone": "+4915100000000"})

    assert elsewhere.status_code in (403, 404)
    bob.refresh_from_db()
    harbour.refresh_from_db()
    assert (bob.phone, harbour.phone) == ("", "")


def test_the_form_needs_the_csrf_token(practice, ann) -> None:
    client = logged_in(ann.user, enforce_csrf_checks=True)

    assert client.post(contact_url(practice), {"phone": "+4915123456789"}).status_code == 403
    page = client.get(contact_url(practice))
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.content.decode()
    ann.refresh_from_db()
    assert ann.phone == ""


def test_the_record_page_links_to_the_contact_form(practice, ann) -> None:
    page = logged_in(ann.user).get(reverse("patients:portal", kwargs={"practice_slug": "linden"}))
    assert contact_url(practice) in page.content.decode()
