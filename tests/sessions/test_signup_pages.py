"""Open sign-up (`patients.signup`, the portal's join pages): a practice that takes new
patients online, email verification, no account enumeration, then the first visit booked on
the questionnaire and flagged for the desk (R1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from patients.models import Patient
from patients.services import screening_record
from patients.signup import SIGNUP_SALT
from practice.invitations import INVITATION_DAYS
from practice.models import Membership, PatientSignup, Practice, Role, User
from sessions.models import Session
from tests.factories import PatientFactory, SessionFactory, UserFactory, answers_all_no
from tests.pages import field_errors, logged_in, text

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-secret-2026"


@pytest.fixture
def open_practice(practice: Practice) -> Practice:
    practice.settings.patient_signup = PatientSignup.OPEN
    practice.settings.save()
    return practice


def signup_url(practice: Practice) -> str:
    return reverse("portal:signup", kwargs={"practice_slug": practice.slug})


def sign_up(practice: Practice, email: str = "new@example.org") -> HttpResponse:
    data = {
        "given_name": "Nina",
        "family_name": "Neu",
        "email": email,
        "phone": "+49 151 23456789",
        "date_of_birth": "1990-04-05",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = Client().post(signup_url(practice), data)
    assert response.status_code == 200, field_errors(text(response), "password1")
    return response


def without_csrf(response: HttpResponse) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "", text(response))


def emailed_link() -> str:
    return re.search(r"https?://\S+/join/verify/\S+/", mail.outbox[-1].body).group(0)


def test_sign_up_is_a_404_when_the_practice_invites_only(practice: Practice) -> None:
    assert Client().get(signup_url(practice)).status_code == 404
    token = signing.dumps({"practice": practice.pk}, salt=SIGNUP_SALT)
    verify = reverse(
        "portal:signup-verify", kwargs={"practice_slug": practice.slug, "token": token}
    )
    assert Client().get(verify).status_code == 404


def test_signing_up_creates_nothing_until_the_address_is_verified(open_practice) -> None:
    sign_up(open_practice)

    assert not User.objects.filter(email="new@example.org").exists()
    assert not Patient.objects.exists()
    (message,) = mail.outbox
    assert message.to == ["new@example.org"]

    client = Client()
    link = emailed_link()
    assert "password" in text(client.get(link))
    wrong = client.post(link, {"password": "not-it-at-all"})
    assert wrong.status_code == 400
    assert field_errors(text(wrong), "password")
    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].endswith("/me/screening/")
    user = User.objects.get(email="new@example.org")
    assert user.check_password(PASSWORD)
    patient = Patient.objects.get(user=user)
    assert (patient.full_name, patient.phone, str(patient.date_of_birth)) == (
        "Nina Neu",
        "+4915123456789",
        "1990-04-05",
    )
    assert Membership.objects.get(user=user, practice=open_practice).role == Role.PATIENT
    # The link is spent.
    again = client.post(link, {"password": PASSWORD})
    assert again.status_code == 400
    assert "already used" in text(again)


def test_signing_up_with_an_existing_address_says_the_same(open_practice) -> None:
    UserFactory(email="known@example.org")
    new = sign_up(open_practice, "new@example.org")
    known = sign_up(open_practice, "known@example.org")

    assert known.status_code == new.status_code == 200
    assert without_csrf(known).replace("known@", "new@") == without_csrf(new)
    assert "Check your email" in text(known)
    assert "already have an account" in mail.outbox[-1].body
    assert "/join/verify/" not in mail.outbox[-1].body
    assert User.objects.get(email="known@example.org").memberships.count() == 0


def test_a_bad_sign_up_is_a_form_error(open_practice) -> None:
    response = Client().post(
        signup_url(open_practice),
        {
            "given_name": "Nina",
            "family_name": "Neu",
            "email": "x@example.org",
            "phone": "12",
            "date_of_birth": "1990-04-05",
            "password1": "short",
            "password2": "short",
        },
    )
    assert response.status_code == 400
    assert field_errors(text(response), "password1")
    assert not mail.outbox


@pytest.mark.parametrize("damage", ["tampered", "expired", "other_practice"])
def test_a_tampered_or_expired_link_gets_a_clear_page(
    open_practice, other_practice, clock, damage
) -> None:
    sign_up(open_practice)
    link = emailed_link()
    if damage == "tampered":
        link = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    elif damage == "expired":
        clock.shift(timedelta(days=INVITATION_DAYS, hours=1))
    else:
        other_practice.settings.patient_signup = PatientSignup.OPEN
        other_practice.settings.save()
        link = link.replace(f"/p/{open_practice.slug}/", f"/p/{other_practice.slug}/")

    response = Client().get(link)

    assert response.status_code == 400
    assert ("expired" if damage == "expired" else "not valid") in text(response)
    assert not User.objects.filter(email="new@example.org").exists()


def test_r1_the_first_visit_is_booked_on_the_questionnaire_and_flagged_for_the_desk(
    open_practice, member
) -> None:
    patient = PatientFactory(practice=open_practice)
    report = screening_record(patient=patient, answers=answers_all_no(patient), self_reported=True)
    session = SessionFactory(practice=open_practice, patient=patient, self_report=report)
    desk = logged_in(member(open_practice, Role.FRONT_DESK))

    page = text(
        desk.get(
            reverse(
                "sessions:session-detail",
                kwargs={"practice_slug": open_practice.slug, "pk": session.pk},
            )
        )
    )
    assert "Screening to confirm at check-in" in page
    confirm = reverse(
        "patients:screening-confirm",
        kwargs={"practice_slug": open_practice.slug, "pk": patient.pk, "screening_pk": report.pk},
    )
    assert confirm in page
    api = desk.get(f"/api/v1/sessions/{session.pk}/").json()
    assert api["screening_to_confirm"] is True
    assert api["screening_needed"] is True

    assert desk.post(confirm, {}).status_code == 302
    page = text(
        desk.get(
            reverse(
                "sessions:session-detail",
                kwargs={"practice_slug": open_practice.slug, "pk": session.pk},
            )
        )
    )
    assert "Screening to confirm at check-in" not in page
    assert desk.get(f"/api/v1/sessions/{session.pk}/").json()["screening_to_confirm"] is False
    assert Session.objects.get(pk=session.pk).self_report == report
