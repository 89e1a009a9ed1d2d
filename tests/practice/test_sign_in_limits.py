"""Failed sign-ins lock an account (ASVS 4.0 2.2.1) on the web login, the admin's and the API's
token endpoint alike, and nothing tells an existing address from an unknown one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from practice.models import Membership, Role, User
from practice.sign_in_limits import NotInPractice, sign_in_unlock
from practice.tasks import send_password_reset
from tests.factories import PASSWORD
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    # Dozens of sign-ins per test: PBKDF2's deliberate slowness would take minutes here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def web_login(email: str, password: str) -> int:
    return Client().post(reverse("login"), {"username": email, "password": password}).status_code


def admin_login(email: str, password: str) -> int:
    response = Client().post(reverse("admin:login"), {"username": email, "password": password})
    return response.status_code


def api_login(email: str, password: str) -> int:
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
    )
    return response.status_code


SIGN_INS: dict[str, Callable[[str, str], int]] = {
    "web": web_login,
    "admin": admin_login,
    "api": api_login,
}


@pytest.fixture
def boss(practice, member) -> User:
    return member(practice, Role.MANAGER, email="boss@example.com")


def fail(sign_in: Callable[[str, str], int], email: str, times: int = LIMIT) -> None:
    for _ in range(times):
        sign_in(email, "not-the-password")


@pytest.mark.parametrize("failed_on", SIGN_INS)
def test_ten_failed_sign_ins_lock_the_account_everywhere(boss: User, failed_on: str) -> None:
    fail(SIGN_INS[failed_on], boss.email)

    # The right password now, on each of the three: refused with the lock (429), never
    # signed in (the web and admin logins would redirect, the API answer 200).
    assert web_login(boss.email, PASSWORD) == 429
    assert admin_login(boss.email, PASSWORD) == 429
    assert api_login(boss.email, PASSWORD) == 429


def test_nine_failures_do_not_lock(boss: User) -> None:
    fail(web_login, boss.email, times=LIMIT - 1)

    assert web_login(boss.email, PASSWORD) == 302


def test_the_lock_says_so_and_for_how_long(boss: User) -> None:
    fail(web_login, boss.email)

    page = Client().post(reverse("login"), {"username": boss.email, "password": PASSWORD})
    api = APIClient().post("/api/v1/auth/token/", {"email": boss.email, "password": PASSWORD})

    assert "Too many failed sign-ins" in page.text
    assert "30 minutes" in page.text
    assert api.status_code == 429
    assert api.json()["code"] == "locked"
    assert "Too many failed sign-ins" in api.json()["detail"]


def test_the_lock_ends_after_the_cool_off(boss: User, clock) -> None:
    fail(api_login, boss.email)
    clock.shift(timedelta(minutes=29))
    assert web_login(boss.email, PASSWORD) == 429

    clock.shift(timedelta(minutes=2))

    assert web_login(boss.email, PASSWORD) == 302
    assert api_login(boss.email, PASSWORD) == 400  # signed in; only the second factor missing


def test_a_manager_unlocks_a_member_of_their_practice(practice, desk, manager_client) -> None:
    fail(web_login, desk.email)
    membership = Membership.objects.get(user=desk)

    manager_client.post(
        reverse("admin:practice_membership_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [membership.pk]},
    )

    assert web_login(desk.email, PASSWORD) == 302
    assert api_login(desk.email, PASSWORD) == 200


def test_a_manager_cannot_unlock_another_practices_user(
    practice, other_practice, other_desk, manager_client
) -> None:
    fail(web_login, other_desk.email)
    theirs = Membership.objects.get(user=other_desk)

    manager_client.post(
        reverse("admin:practice_membership_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [theirs.pk]},
    )

    assert web_login(other_desk.email, PASSWORD) == 429
    with pytest.raises(NotInPractice):
        sign_in_unlock(practice=practice, user=other_desk)
    assert web_login(other_desk.email, PASSWORD) == 429


def test_a_front_desk_member_cannot_unlock_anyone(practice, member, desk) -> None:
    fail(web_login, desk.email)
    colleague = logged_in(member(practice, Role.FRONT_DESK))

    response = colleague.post(
        reverse("admin:practice_membership_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [Membership.objects.get(user=desk).pk]},
    )

    assert response.status_code == 302  # to the admin's login
    assert web_login(desk.email, PASSWORD) == 429


# --- No account enumeration ---------------------------------------------------------------------

_TOKENS = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def without_tokens(html: str) -> str:
    return _TOKENS.sub(r"\1…", html)


def test_the_web_login_answers_the_same_for_an_unknown_address(boss: User) -> None:
    known = Client().post(reverse("login"), {"username": boss.email, "password": "wrong-one"})
    unknown = Client().post(
        reverse("login"), {"username": "nobody@example.com", "password": "wrong-one"}
    )

    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.text).replace(boss.email, "EMAIL") == without_tokens(
        unknown.text
    ).replace("nobody@example.com", "EMAIL")


def test_the_api_login_answers_the_same_for_an_unknown_address(boss: User) -> None:
    known = APIClient().post("/api/v1/auth/token/", {"email": boss.email, "password": "wrong"})
    unknown = APIClient().post(
        "/api/v1/auth/token/", {"email": "nobody@example.com", "password": "wrong"}
    )

    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()


def test_an_unknown_address_is_locked_just_like_a_real_one(boss: User) -> None:
    fail(web_login, boss.email)
    fail(web_login, "nobody@example.com")

    known = Client().post(reverse("login"), {"username": boss.email, "password": PASSWORD})
    unknown = Client().post(
        reverse("login"), {"username": "nobody@example.com", "password": PASSWORD}
    )

    assert known.status_code == unknown.status_code == 429
    assert without_tokens(known.text) == without_tokens(unknown.text)


def test_password_reset_answers_the_same_for_an_unknown_address(
    boss: User, django_capture_on_commit_callbacks
) -> None:
    """The same answer and the same work in the request: one task queued, whatever the
    address, and no email sent while the client waits (its time would tell a real address
    from an unknown one). The worker sends the email to the real address only."""
    with django_capture_on_commit_callbacks() as queued_known:
        known = Client().post(reverse("password_reset"), {"email": boss.email})
    with django_capture_on_commit_callbacks() as queued_unknown:
        unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert without_tokens(Client().get(known["Location"]).text) == without_tokens(
        Client().get(unknown["Location"]).text
    )
    assert mail.outbox == []
    [to_known], [to_unknown] = queued_known, queued_unknown
    assert to_known.func == to_unknown.func == send_password_reset.delay
    assert to_known.args == (boss.email, "testserver", False, "en")
    assert to_unknown.args == ("nobody@example.com", "testserver", False, "en")

    send_password_reset.apply(args=to_unknown.args)
    assert mail.outbox == []
    send_password_reset.apply(args=to_known.args)
    [sent] = mail.outbox
    assert sent.to == [boss.email]
    assert "http://testserver/accounts/reset/" in sent.body


def test_the_reset_email_is_in_the_language_the_request_was_made_in(boss: User) -> None:
    english = "Your new password for the massage practice"
    send_password_reset.apply(args=(boss.email, "practice.example", True, "ru"))
    [sent] = mail.outbox
    assert "https://practice.example/accounts/reset/" in sent.body
    with translation.override("ru"):
        assert sent.subject == translation.gettext(english) != english
