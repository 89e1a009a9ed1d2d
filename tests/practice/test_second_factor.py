"""The second factor of staff sign-in (ASVS 4.0 2.8): who must have one, setting it up, signing
in with a code or a recovery code, and the API's token endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from practice.models import RecoveryCode, Role, User
from practice.second_factor import recovery_codes_issue
from tests.factories import PASSWORD, MembershipFactory
from tests.pages import logged_in
from tests.second_factor import authenticator, code_for_secret, code_now

pytestmark = pytest.mark.django_db

PATIENTS = "/p/linden/patients/"


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    # Recovery codes are hashed like passwords; PBKDF2 would make each test take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def boss(practice, member) -> User:
    return member(practice, Role.MANAGER, email="boss@example.com")


def password_login(email: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


# --- Who must have one ------------------------------------------------------------------------


def test_a_manager_without_a_second_factor_is_sent_to_set_one_up(boss: User) -> None:
    client = logged_in(boss, second_factor=False)

    page = client.get(PATIENTS)
    admin = client.get(reverse("admin:index"))

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('second-factor-enrol')}?next=%2Fp%2Flinden%2Fpatients%2F"
    assert admin.status_code == 302
    assert admin["Location"].startswith(reverse("second-factor-enrol"))


def test_other_staff_need_one_only_when_their_practice_asks(practice, desk) -> None:
    client = logged_in(desk, second_factor=False)
    assert client.get(PATIENTS).status_code == 200

    practice.settings.staff_second_factor_required = True
    practice.settings.save()

    assert client.get(PATIENTS)["Location"].startswith(reverse("second-factor-enrol"))


def test_a_manager_elsewhere_is_not_asked_for_one_in_a_practice_where_they_are_desk(
    practice, other_practice, desk
) -> None:
    MembershipFactory(practice=other_practice, user=desk, role=Role.MANAGER)
    client = logged_in(desk, second_factor=False)

    assert client.get(PATIENTS).status_code == 200
    assert client.get("/p/harbour/patients/").status_code == 302


# --- Setting it up ----------------------------------------------------------------------------


def test_enrolment_confirms_the_app_with_a_code_and_shows_recovery_codes_once(
    boss: User,
) -> None:
    client = logged_in(boss, second_factor=False)
    page = client.get(reverse("second-factor-enrol"), {"next": PATIENTS})
    secret = re.search(r'data-totp-secret="([A-Z2-7=]+)"', page.text)
    assert secret is not None
    assert 'src="data:image/svg+xml' in page.text
    # The same secret on a reload: the app scanned it already.
    assert secret.group(1) in client.get(reverse("second-factor-enrol")).text

    done = client.post(
        reverse("second-factor-enrol"),
        {"code": code_for_secret(secret.group(1)), "next": PATIENTS},
    )

    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.text)
    assert len(codes) == 10
    stored = RecoveryCode.objects.filter(user=boss)
    assert stored.count() == 10
    assert not any(code in row.code_hash for row in stored for code in codes)
    assert TOTPDevice.objects.get(user=boss).confirmed
    assert client.get(PATIENTS).status_code == 200


def test_enrolment_refuses_a_wrong_code(boss: User) -> None:
    client = logged_in(boss, second_factor=False)
    client.get(reverse("second-factor-enrol"))

    response = client.post(reverse("second-factor-enrol"), {"code": "000000"})

    assert response.status_code == 400
    assert "This code is not right" in response.text
    assert not TOTPDevice.objects.filter(user=boss, confirmed=True).exists()
    assert client.get(PATIENTS).status_code == 302


# --- Signing in ---------------------------------------------------------------------------------


def test_a_user_with_a_second_factor_gives_a_code_after_the_password(boss: User, clock) -> None:
    device = authenticator(boss)
    client = password_login(boss.email)

    held = client.get(PATIENTS)
    assert held["Location"] == f"{reverse('second-factor-verify')}?next=%2Fp%2Flinden%2Fpatients%2F"
    assert client.get(reverse("admin:index"))["Location"].startswith(
        reverse("second-factor-verify")
    )
    assert client.get("/api/v1/me/").status_code == 403
    wrong = client.post(reverse("second-factor-verify"), {"code": "123456", "next": PATIENTS})
    assert wrong.status_code == 400
    clock.shift(timedelta(seconds=2))  # django-otp's wait after a wrong code

    right = client.post(
        reverse("second-factor-verify"), {"code": code_now(device), "next": PATIENTS}
    )

    assert right["Location"] == PATIENTS
    assert client.get(PATIENTS).status_code == 200


def test_a_recovery_code_signs_in_once_only(boss: User) -> None:
    authenticator(boss)
    code = recovery_codes_issue(user=boss)[3]

    first = password_login(boss.email)
    used = first.post(reverse("second-factor-verify"), {"code": code.upper()})
    second = password_login(boss.email)
    again = second.post(reverse("second-factor-verify"), {"code": code})

    assert used.status_code == 302
    assert first.get(PATIENTS).status_code == 200
    assert again.status_code == 400
    assert second.get(PATIENTS).status_code == 302


def test_the_code_page_does_not_send_anyone_off_site(boss: User) -> None:
    device = authenticator(boss)
    client = password_login(boss.email)

    response = client.post(
        reverse("second-factor-verify"),
        {"code": code_now(device), "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("home")


def test_staff_without_a_second_factor_sign_in_with_the_password_alone(desk: User) -> None:
    client = password_login(desk.email)

    assert client.get(PATIENTS).status_code == 200


# --- The API's token endpoint -------------------------------------------------------------------


def token(email: str, **extra: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": PASSWORD, **extra}, format="json"
    )


def test_the_token_endpoint_asks_a_user_with_a_second_factor_for_a_code(boss: User, clock) -> None:
    device = authenticator(boss)

    missing = token(boss.email)
    wrong = token(boss.email, otp="000000")
    right_too_soon = token(boss.email, otp=code_now(device))
    clock.shift(timedelta(seconds=2))
    right = token(boss.email, otp=code_now(device))

    assert missing.status_code == 400
    assert "otp" in missing.json()["errors"]
    assert wrong.status_code == 400
    assert "otp" in wrong.json()["errors"]
    # Each wrong code doubles django-otp's wait before the next is even looked at.
    assert right_too_soon.status_code == 400
    assert right.status_code == 200
    assert "access" in right.json()


def test_the_token_endpoint_takes_a_recovery_code_once(boss: User) -> None:
    authenticator(boss)
    code = recovery_codes_issue(user=boss)[0]

    assert token(boss.email, otp=code).status_code == 200
    assert token(boss.email, otp=code).status_code == 400


def test_the_token_endpoint_sends_a_manager_without_one_to_the_website(boss: User) -> None:
    response = token(boss.email)

    assert response.status_code == 400
    assert "website" in str(response.json()["errors"]["otp"])


def test_the_token_endpoint_needs_no_code_from_staff_without_one(desk: User) -> None:
    assert token(desk.email).status_code == 200
