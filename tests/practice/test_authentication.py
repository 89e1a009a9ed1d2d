"""One query for the user and their membership, and nothing weakened by it: a deactivated user
or a removed membership is refused on the very next request, by token or by session."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from patients.api import PatientPagination
from practice.models import Membership, Role, User
from practice.second_factor import VERIFIED
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def with_token(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def with_session(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    # Signed in with the second factor too (practice.session_guards refuses the API to a
    # session whose user must have one and has not given it).
    session = client.session
    session[VERIFIED] = True
    session.save()
    return client


def test_a_patient_detail_get_is_three_queries(practice, desk, django_assert_num_queries) -> None:
    patient = PatientFactory(practice=practice)
    client = with_token(desk)
    # The user with their membership, practice and its settings; the patient; the audit
    # trail's entry for this read of health data. No ping, no BEGIN/COMMIT, no second query
    # for the membership.
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == patient.pk


@pytest.mark.parametrize("rows", [1, 25])
def test_the_patients_list_takes_constant_queries(
    practice, desk, django_assert_num_queries, rows: int
) -> None:
    PatientFactory.create_batch(rows, practice=practice)
    client = with_token(desk)
    # The user with their membership; the page (by cursor: no count).
    with django_assert_num_queries(2):
        response = client.get("/api/v1/patients/")
    assert len(response.json()["results"]) == rows


def test_a_user_of_several_practices_names_one_in_the_same_query(
    practice, other_practice, desk, django_assert_num_queries
) -> None:
    Membership.objects.create(practice=other_practice, user=desk, role=Role.MANAGER)
    PatientFactory(practice=other_practice)
    client = with_token(desk)

    with django_assert_num_queries(1):
        unnamed = client.get("/api/v1/patients/")
    with django_assert_num_queries(2):
        named = client.get("/api/v1/patients/", HTTP_X_PRACTICE=other_practice.slug)

    assert unnamed.status_code == 400
    assert named.status_code == 200


def test_a_token_of_a_user_in_no_practice_is_refused(practice, desk) -> None:
    client = with_token(desk)
    Membership.objects.filter(user=desk).delete()

    response = client.get("/api/v1/patients/")

    assert response.status_code == 403


@pytest.mark.parametrize("signed_in", [with_token, with_session])
def test_a_deactivated_user_is_refused_on_the_next_request(practice, desk, signed_in) -> None:
    client = signed_in(desk)
    assert client.get("/api/v1/patients/").status_code == 200

    User.objects.filter(pk=desk.pk).update(is_active=False)

    assert client.get("/api/v1/patients/").status_code in {401, 403}


@pytest.mark.parametrize("signed_in", [with_token, with_session])
def test_a_removed_membership_is_refused_on_the_next_request(
    practice, other_practice, desk, signed_in
) -> None:
    Membership.objects.create(practice=other_practice, user=desk, role=Role.MANAGER)
    client = signed_in(desk)
    named = {"HTTP_X_PRACTICE": practice.slug}
    assert client.get("/api/v1/patients/", **named).status_code == 200

    Membership.objects.filter(user=desk, practice=practice).delete()

    assert client.get("/api/v1/patients/", **named).status_code == 403
    # Still a member of the other practice, which is now the only one.
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_demoted_member_loses_the_role_on_the_next_request(practice, desk) -> None:
    client = with_token(desk)
    patient = PatientFactory(practice=practice)
    assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 200

    Membership.objects.filter(user=desk).update(role=Role.PATIENT)

    assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 404


def test_the_patients_list_pages_by_cursor_without_skipping_or_repeating(
    practice, desk, monkeypatch
) -> None:
    monkeypatch.setattr(PatientPagination, "page_size", 2)
    # Namesakes straddle the pages' ends: the cursor's position then needs its offset.
    patients = [PatientFactory(practice=practice, family_name="Berg") for _ in range(3)]
    patients += [PatientFactory(practice=practice, family_name="Adler") for _ in range(2)]
    client = with_token(desk)

    seen: list[int] = []
    page = client.get("/api/v1/patients/").json()
    while True:
        assert "count" not in page
        seen += [row["id"] for row in page["results"]]
        if page["next"] is None:
            break
        page = client.get(page["next"]).json()

    assert sorted(seen) == sorted(p.pk for p in patients)
    assert len(seen) == len(patients)
