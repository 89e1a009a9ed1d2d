from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from practice.models import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_jwt_login_returns_tokens_that_open_the_api(practice, member) -> None:
    user = member(practice, Role.FRONT_DESK, email="desk@example.com")
    client = APIClient()

    tokens = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get("/api/v1/me/")
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert me.status_code == 200
    assert me.json()["email"] == "desk@example.com"
    assert me.json()["role"] == "front_desk"
    assert me.json()["practice"] == {
        "id": practice.pk,
        "name": "Linden",
        "slug": "linden",
        "time_zone": "Europe/Berlin",
    }
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()


def test_a_wrong_password_gets_401_with_the_error_body(practice, member) -> None:
    user = member(practice, Role.FRONT_DESK)

    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"})

    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "no_active_account"
    assert body["detail"]


def test_anonymous_gets_401_with_the_error_body(db) -> None:
    response = APIClient().get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


def test_bad_input_gets_400_with_field_messages(db) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"email": "not-an-email"})

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert body["errors"] == {"password": ["This field is required."]}


def test_a_user_of_several_practices_must_name_one(
    practice, other_practice, api_as, member
) -> None:
    user = member(practice, Role.THERAPIST)
    MembershipFactory(practice=other_practice, user=user, role=Role.MANAGER)
    client = api_as(user)

    unnamed = client.get("/api/v1/me/")
    named = client.get("/api/v1/me/", HTTP_X_PRACTICE="harbour")

    assert unnamed.status_code == 400
    assert "X-Practice" in unnamed.json()["errors"]
    assert named.status_code == 200
    assert named.json()["practice"]["slug"] == "harbour"
    assert named.json()["role"] == "manager"
    assert sorted(m["practice"]["slug"] for m in named.json()["memberships"]) == [
        "harbour",
        "linden",
    ]


def test_a_member_of_practice_a_cannot_act_for_practice_b(
    practice, other_practice, api_as, member
) -> None:
    client = api_as(member(practice, Role.MANAGER))

    response = client.get("/api/v1/me/", HTTP_X_PRACTICE="harbour")
    unknown = client.get("/api/v1/me/", HTTP_X_PRACTICE="no-such-practice")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    # Whether the practice exists or not, the answer is the same.
    assert (
        unknown.json()["detail"].replace("no-such-practice", "harbour") == response.json()["detail"]
    )


def test_a_user_without_any_practice_is_refused(api_as, db) -> None:
    user = UserFactory(email="lonely@example.com")

    response = api_as(user).get("/api/v1/me/")

    assert response.status_code == 403


def test_an_unknown_path_gets_404_with_the_error_body(practice, api_as, member) -> None:
    response = api_as(member(practice, Role.MANAGER)).get("/api/v1/me/nothing-here/")

    assert response.status_code == 404


@pytest.fixture
def three_anonymous_tries(monkeypatch) -> None:
    # DRF reads the rates once, into the class; patch them there for this test.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "5/minute"}
    )


def password_guesses(*forwarded_for: str) -> list[int]:
    """The statuses of one anonymous login try per X-Forwarded-For value ("" sends none)."""
    client = APIClient()
    return [
        client.post(
            "/api/v1/auth/token/",
            {"email": "x@example.com", "password": "guess"},
            **({"HTTP_X_FORWARDED_FOR": header} if header else {}),
        ).status_code
        for header in forwarded_for
    ]


def test_anonymous_requests_are_throttled(db, three_anonymous_tries) -> None:
    assert password_guesses("", "", "", "") == [401, 401, 401, 429]


def test_throttle_ignores_a_rotated_x_forwarded_for_without_a_proxy(
    db, three_anonymous_tries
) -> None:
    # NUM_PROXIES=0 (the default): the app is exposed directly and the header is the client's
    # own invention, so every try counts against REMOTE_ADDR.
    rotated = [f"198.51.100.{n}" for n in range(1, 6)]

    assert password_guesses(*rotated) == [401, 401, 401, 429, 429]


def test_throttle_behind_one_proxy_counts_the_address_it_saw(
    db, three_anonymous_tries, settings
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The proxy appends the address it saw; whatever the client put before it is ignored.
    spoofed = [f"198.51.100.{n}, 203.0.113.7" for n in range(1, 5)]

    assert password_guesses(*spoofed) == [401, 401, 401, 429]
    assert password_guesses("198.51.100.1, 203.0.113.8") == [401]


def test_signed_in_users_writes_are_throttled(practice, member, api_as, monkeypatch) -> None:
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "2/minute"}
    )
    client = api_as(member(practice, Role.FRONT_DESK))

    statuses = [client.post("/api/v1/patients/", {}).status_code for _ in range(3)]

    assert statuses == [400, 400, 429]
    assert client.post("/api/v1/patients/", {}).json()["code"] == "throttled"


def test_signed_in_users_reads_are_not_counted(practice, member, api_as, monkeypatch) -> None:
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "2/minute"}
    )
    client = api_as(member(practice, Role.THERAPIST))

    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 200]


def test_the_token_endpoint_names_email_when_a_client_sends_username(practice, member) -> None:
    user = member(practice, Role.FRONT_DESK)

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]
    assert "username" in response.json()["errors"]["email"][0]
