"""Roles in the pages: where each role lands, what its menu offers, and the therapist's own
day ("My day") with what matters before each session at a glance (R3, R7, R8, R17)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import HighBloodPressure
from practice.models import Practice, Role, Therapist, User
from sessions.models import SessionStatus
from tests.clock import local, today
from tests.factories import (
    CheckInFactory,
    MembershipFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    SessionRecordFactory,
    TherapistFactory,
)
from tests.pages import logged_in, text

pytestmark = pytest.mark.django_db


def my_day_url(practice: Practice, **query: str) -> str:
    page = reverse("sessions:my-day", kwargs={"practice_slug": practice.slug})
    return page + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def therapist_user(practice: Practice, member) -> User:
    return member(practice, Role.THERAPIST, email="tanja@example.com")


@pytest.fixture
def own(practice: Practice, therapist_user: User) -> Therapist:
    return TherapistFactory(practice=practice, user=therapist_user, week=True)


def nav(html: str) -> str:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert found is not None
    return found.group(1)


# --- Landing and menu -------------------------------------------------------------------------


def test_a_therapist_lands_on_my_day(practice, therapist_user, own) -> None:
    response = logged_in(therapist_user).get("/")
    assert response.status_code == 302
    assert response["Location"] == my_day_url(practice)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.FRONT_DESK, ["Calendar", "Patients"], ["My day", "Back office", "My record"]),
        (Role.MANAGER, ["Calendar", "Patients", "Back office"], ["My day", "My record"]),
        (Role.PATIENT, ["My record"], ["Calendar", "Patients", "My day", "Back office"]),
    ],
)
def test_the_other_roles_land_on_their_practices_with_their_links(
    practice, member, role: Role, shown: list[str], hidden: list[str]
) -> None:
    response = logged_in(member(practice, role)).get("/")
    assert response.status_code == 200
    page = text(response)
    for link in shown:
        assert f">{link}</a>" in page, link
    for link in hidden:
        assert f">{link}</a>" not in page, link


def test_a_therapist_of_several_practices_chooses_on_the_home_page(
    practice, other_practice, therapist_user
) -> None:
    MembershipFactory(practice=other_practice, user=therapist_user, role=Role.FRONT_DESK)
    page = text(logged_in(therapist_user).get("/"))
    assert my_day_url(practice) in page
    assert reverse("sessions:my-day", kwargs={"practice_slug": other_practice.slug}) not in page


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            Role.THERAPIST,
            ["My day", "Patients", "Calendar", "Courses"],
            ["New patient", "Plan a course", "Courses due", "Back office"],
        ),
        (
            Role.FRONT_DESK,
            ["Patients", "New patient", "Calendar", "Courses", "Courses due", "Plan a course"],
            ["My day", "Back office"],
        ),
        (
            Role.MANAGER,
            ["Patients", "New patient", "Calendar", "Plan a course", "Back office"],
            ["My day"],
        ),
    ],
)
def test_the_staff_menu_offers_what_each_role_does(
    practice, member, role: Role, shown: list[str], hidden: list[str]
) -> None:
    page = text(
        logged_in(member(practice, role)).get(
            reverse("sessions:calendar", kwargs={"practice_slug": practice.slug})
        )
    )
    menu = nav(page)
    for link in shown:
        assert f">{link}</a>" in menu, link
    for link in hidden:
        assert f">{link}</a>" not in menu, link


# --- My day -----------------------------------------------------------------------------------


def test_my_day_shows_my_sessions_of_the_day_only(practice, therapist_user, own) -> None:
    mine = SessionFactory(
        therapist=own,
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Berg"),
        starts_at=local(practice, today(practice), 15),
    )
    SessionFactory(
        therapist=own,
        patient=PatientFactory(practice=practice, given_name="Cancelled", family_name="Caro"),
        starts_at=local(practice, today(practice), 17),
        status=SessionStatus.CANCELLED,
    )
    SessionFactory(
        therapist=TherapistFactory(practice=practice, week=True),
        patient=PatientFactory(practice=practice, given_name="Otto", family_name="Colleague"),
        starts_at=local(practice, today(practice), 15),
    )
    SessionFactory(
        therapist=own,
        patient=PatientFactory(practice=practice, given_name="Tomorrow", family_name="Tess"),
        starts_at=local(practice, today(practice, days=1), 11),
    )
    client = logged_in(therapist_user)

    page = text(client.get(my_day_url(practice)))
    assert "Ann Berg" in page
    assert "15:00–15:15" in page
    assert (
        reverse("sessions:session-detail", kwargs={"practice_slug": practice.slug, "pk": mine.pk})
        in page
    )
    assert "Otto Colleague" not in page
    assert "Cancelled Caro" not in page
    assert "Tomorrow Tess" not in page

    # Day navigation.
    tomorrow = today(practice, days=1).isoformat()
    assert my_day_url(practice, day=tomorrow) in page
    next_day = text(client.get(my_day_url(practice, day=tomorrow)))
    assert "Tomorrow Tess" in next_day
    assert "Ann Berg" not in next_day


def test_r7_r8_r3_my_day_shows_what_matters_before_each_session(
    practice, therapist_user, own
) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    ScreeningFactory(patient=patient, yes={"inflamed_skin": "lower_back"})
    SessionRecordFactory(
        practice=practice,
        session__therapist=TherapistFactory(practice=practice, week=True),
        session__patient=patient,
        session__starts_at=local(practice, today(practice, days=-7), 10),
        notes="Tight left trapezius.",
    )
    SessionFactory(therapist=own, patient=patient, starts_at=local(practice, today(practice), 15))
    HighBloodPressure.objects.create(
        practice=practice,
        patient=patient,
        day=today(practice),
        measured_at=timezone.now(),
        systolic=172,
        diastolic=95,
        source=HighBloodPressure.Source.CHECK_IN,
    )

    page = text(logged_in(therapist_user).get(my_day_url(practice)))

    assert "Hypertensive" in page  # R7, R8
    assert "Cannot go ahead today:" in page  # R8's day block
    assert "172" in page
    assert "Zones closed: Lower back" in page  # R3
    assert "R17" in page
    assert "Tight left trapezius." in page


def test_a_patient_without_flags_shows_none(practice, therapist_user, own) -> None:
    SessionFactory(therapist=own, starts_at=local(practice, today(practice), 15))
    page = text(logged_in(therapist_user).get(my_day_url(practice)))
    assert "Hypertensive" not in page
    assert "Cannot go ahead today" not in page
    assert "Zones closed" not in page
    assert 'notes:</strong> <span class="muted">none</span>' in page


def test_my_day_offers_check_in_for_a_booked_session_and_start_for_a_checked_in_one(
    practice, therapist_user, own
) -> None:
    booked = SessionFactory(therapist=own, starts_at=local(practice, today(practice), 15))
    checked_in = CheckInFactory(
        practice=practice,
        session__therapist=own,
        session__starts_at=local(practice, today(practice), 11),
    ).session
    page = text(logged_in(therapist_user).get(my_day_url(practice)))
    detail = reverse(
        "sessions:session-detail", kwargs={"practice_slug": practice.slug, "pk": booked.pk}
    )
    assert f'href="{detail}#check-in-form-heading"' in page
    start = reverse(
        "sessions:session-start", kwargs={"practice_slug": practice.slug, "pk": checked_in.pk}
    )
    assert f'action="{start}"' in page
    assert (
        reverse("sessions:session-start", kwargs={"practice_slug": practice.slug, "pk": booked.pk})
        not in page
    )


def test_a_bad_day_is_a_message_not_a_500(practice, therapist_user, own) -> None:
    response = logged_in(therapist_user).get(my_day_url(practice, day="garbage"))
    assert response.status_code == 400
    assert "Enter a valid date" in text(response)


def test_staff_without_a_therapist_profile_are_told_so(practice, desk) -> None:
    response = logged_in(desk).get(my_day_url(practice))
    assert response.status_code == 200
    assert "not linked to a therapist" in text(response)


def test_my_day_is_not_for_patients_nor_for_other_practices(
    practice, other_practice, member, other_desk
) -> None:
    assert logged_in(member(practice, Role.PATIENT)).get(my_day_url(practice)).status_code == 403
    assert logged_in(other_desk).get(my_day_url(practice)).status_code == 404


def test_my_day_shows_only_my_profile_in_this_practice(
    practice, other_practice, therapist_user, own
) -> None:
    """The same person as a therapist of another practice: only this practice's sessions."""
    MembershipFactory(practice=other_practice, user=therapist_user, role=Role.THERAPIST)
    elsewhere = TherapistFactory(practice=other_practice, user=therapist_user, week=True)
    SessionFactory(
        therapist=elsewhere,
        patient=PatientFactory(practice=other_practice, given_name="Far", family_name="Away"),
        starts_at=local(other_practice, today(other_practice), 15),
    )
    page = text(logged_in(therapist_user).get(my_day_url(practice)))
    assert "Far Away" not in page
    assert "No sessions on this day." in page
