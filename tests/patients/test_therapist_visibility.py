"""A therapist sees the records of their own patients only (those with a session with them),
in the pages and in the API alike, unless the practice opens all records to its therapists
(`PracticeSettings.therapists_see_all_patients`); the desk and managers see all."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice.models import Practice, PracticeSettings, Role, Therapist, User
from sessions.models import Session
from tests.clock import noon
from tests.factories import PatientFactory, ScreeningFactory, SessionFactory, TherapistFactory
from tests.pages import logged_in, text

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"
SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def therapist_user(practice: Practice, member) -> User:
    return member(practice, Role.THERAPIST, email="tanja@example.com")


@pytest.fixture
def own(practice: Practice, therapist_user: User) -> Therapist:
    return TherapistFactory(practice=practice, user=therapist_user, week=True)


@pytest.fixture
def sessions(practice: Practice, own: Therapist) -> tuple[Session, Session]:
    """A session of the therapist's (with Ann) and a colleague's (with Otto)."""
    mine = SessionFactory(
        therapist=own,
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Mineola"),
    )
    theirs = SessionFactory(
        therapist=TherapistFactory(practice=practice, week=True),
        patient=PatientFactory(practice=practice, given_name="Otto", family_name="Otterby"),
    )
    for session in (mine, theirs):
        ScreeningFactory(patient=session.patient)
    return mine, theirs


def open_all_records(practice: Practice) -> None:
    PracticeSettings.objects.filter(practice=practice).update(therapists_see_all_patients=True)


def page(practice: Practice, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"practice_slug": practice.slug, **kwargs})


def status(client, practice: Practice, name: str, **kwargs: object) -> int:
    return client.get(page(practice, name, **kwargs)).status_code


def test_the_setting_is_off_by_default(practice) -> None:
    assert practice.settings.therapists_see_all_patients is False


# --- Pages ------------------------------------------------------------------------------------


def test_a_therapist_sees_only_their_own_patients_on_the_pages(
    practice, therapist_user, sessions
) -> None:
    mine, theirs = sessions
    client = logged_in(therapist_user)
    listed = text(client.get(page(practice, "patients:patient-list")))
    assert "Mineola" in listed
    assert "Otterby" not in listed
    assert status(client, practice, "patients:patient-detail", pk=mine.patient_id) == 200
    for name, pk in [
        ("patients:patient-detail", theirs.patient_id),
        ("patients:patient-edit", theirs.patient_id),
        ("patients:screening-new", theirs.patient_id),
        ("sessions:session-detail", theirs.pk),
    ]:
        assert status(client, practice, name, pk=pk) == 404, name
    assert client.get(page(practice, "sessions:session-detail", pk=mine.pk)).status_code == 200


def test_with_all_records_open_a_therapist_sees_every_patient_on_the_pages(
    practice, therapist_user, sessions
) -> None:
    open_all_records(practice)
    _mine, theirs = sessions
    client = logged_in(therapist_user)
    assert "Otterby" in text(client.get(page(practice, "patients:patient-list")))
    assert status(client, practice, "patients:patient-detail", pk=theirs.patient_id) == 200
    assert client.get(page(practice, "sessions:session-detail", pk=theirs.pk)).status_code == 200


def test_the_desk_sees_every_patient_whatever_the_setting(practice, desk, sessions) -> None:
    _mine, theirs = sessions
    client = logged_in(desk)
    assert "Otterby" in text(client.get(page(practice, "patients:patient-list")))
    assert status(client, practice, "patients:patient-detail", pk=theirs.patient_id) == 200


# --- API --------------------------------------------------------------------------------------


def test_a_therapist_sees_only_their_own_patients_in_the_api(
    practice, therapist_user, sessions, api_as
) -> None:
    mine, theirs = sessions
    client = api_as(therapist_user)
    assert [p["id"] for p in client.get(PATIENTS).json()["results"]] == [mine.patient_id]
    assert client.get(f"{PATIENTS}{mine.patient_id}/").status_code == 200
    assert client.get(f"{PATIENTS}{theirs.patient_id}/").status_code == 404
    assert client.get(f"{PATIENTS}{mine.patient_id}/screenings/").status_code == 200
    assert client.get(f"{PATIENTS}{theirs.patient_id}/screenings/").status_code == 404
    assert [s["id"] for s in client.get(SESSIONS).json()["results"]] == [mine.pk]
    assert client.get(f"{SESSIONS}{theirs.pk}/").status_code == 404


def test_a_patient_becomes_visible_with_their_first_session_booked(
    practice, therapist_user, own, sessions, api_as
) -> None:
    _mine, theirs = sessions
    client = api_as(therapist_user)
    SessionFactory(therapist=own, patient=theirs.patient, starts_at=theirs.ends_at.replace(hour=16))
    assert client.get(f"{PATIENTS}{theirs.patient_id}/").status_code == 200


def test_with_all_records_open_a_therapist_sees_every_patient_in_the_api(
    practice, therapist_user, sessions, api_as
) -> None:
    open_all_records(practice)
    mine, theirs = sessions
    client = api_as(therapist_user)
    listed = {p["id"] for p in client.get(PATIENTS).json()["results"]}
    assert listed == {mine.patient_id, theirs.patient_id}
    assert client.get(f"{PATIENTS}{theirs.patient_id}/screenings/").status_code == 200
    assert {s["id"] for s in client.get(SESSIONS).json()["results"]} == {mine.pk, theirs.pk}


def test_a_therapist_sees_nothing_of_another_practice(
    practice, other_practice, therapist_user, own, api_as
) -> None:
    """The same person treats a patient in another practice: not visible from this one."""
    foreign = SessionFactory(
        therapist=TherapistFactory(practice=other_practice, user=therapist_user, week=True)
    )
    client = api_as(therapist_user)
    assert client.get(PATIENTS).json()["results"] == []
    assert client.get(f"{PATIENTS}{foreign.patient_id}/").status_code == 404


@pytest.mark.parametrize("all_open", [False, True])
def test_the_therapists_patient_list_has_constant_queries(
    practice, therapist_user, own, api_as, django_assert_num_queries, all_open: bool
) -> None:
    if all_open:
        open_all_records(practice)
    client = api_as(therapist_user)
    SessionFactory(therapist=own, starts_at=noon(practice, days=1))
    with CaptureQueriesContext(connection) as one:
        client.get(PATIENTS)
    for days in (2, 3, 4):
        SessionFactory(therapist=own, starts_at=noon(practice, days=days))
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get(PATIENTS).json()["results"]) == 4


def test_registering_patients_is_the_desks_work(practice, therapist_user, desk) -> None:
    """A therapist would not see the record they had just made: the desk registers patients."""
    assert status(logged_in(therapist_user), practice, "patients:patient-new") == 403
    assert status(logged_in(desk), practice, "patients:patient-new") == 200


def test_the_calendar_shows_a_therapist_their_own_patients_sessions_only(
    practice, therapist_user, sessions
) -> None:
    mine, _theirs = sessions
    day = mine.starts_at.astimezone(practice.zone).date().isoformat()
    calendar = text(
        logged_in(therapist_user).get(page(practice, "sessions:calendar"), {"date": day})
    )
    assert "Mineola" in calendar
    assert "Otterby" not in calendar
