"""Staff sessions end after their practice's minutes without a request; patients' do not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from practice.models import Role
from tests.factories import MembershipFactory, PatientFactory
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

PATIENTS = "/p/linden/patients/"


def test_a_staff_session_ends_after_thirty_idle_minutes(desk, clock) -> None:
    client = logged_in(desk, idle_limit=True)
    assert client.get(PATIENTS).status_code == 200

    clock.shift(timedelta(minutes=31))
    ended = client.get(PATIENTS)

    assert ended.status_code == 302
    assert ended["Location"].startswith(f"{reverse('login')}?next=")
    assert "expired=1" in ended["Location"]
    assert "without activity" in client.get(ended["Location"]).text
    # Signed out for good, not only sent to the login page once.
    assert client.get(PATIENTS)["Location"].startswith(reverse("login"))


def test_activity_keeps_a_staff_session_alive(desk, clock) -> None:
    client = logged_in(desk, idle_limit=True)

    for _ in range(3):
        clock.shift(timedelta(minutes=20))
        assert client.get(PATIENTS).status_code == 200


def test_the_practice_sets_the_idle_minutes(practice, desk, clock) -> None:
    practice.settings.staff_idle_minutes = 10
    practice.settings.save()
    client = logged_in(desk, idle_limit=True)

    clock.shift(timedelta(minutes=11))

    assert client.get(PATIENTS).status_code == 302


def test_the_shortest_limit_of_a_users_practices_applies(
    practice, other_practice, desk, clock
) -> None:
    other_practice.settings.staff_idle_minutes = 10
    other_practice.settings.save()
    MembershipFactory(practice=other_practice, user=desk, role=Role.THERAPIST)
    client = logged_in(desk, idle_limit=True)

    clock.shift(timedelta(minutes=11))

    assert client.get(PATIENTS).status_code == 302


def test_an_idle_staff_session_is_refused_by_the_api_with_401(desk, clock) -> None:
    client = logged_in(desk, idle_limit=True)

    clock.shift(timedelta(minutes=31))

    assert client.get("/api/v1/me/", HTTP_X_PRACTICE="linden").status_code == 401


def test_a_patients_portal_session_is_not_cut_short(practice, member, clock) -> None:
    patient = PatientFactory(practice=practice, user=member(practice, Role.PATIENT))
    client = logged_in(patient.user, idle_limit=True)
    portal = reverse("patients:portal", kwargs={"practice_slug": practice.slug})
    assert client.get(portal).status_code == 200

    clock.shift(timedelta(hours=3))

    assert client.get(portal).status_code == 200
