"""The waitlist API: the desk lists entries with their offers (in constant queries) and adds
and withdraws them, for one session or a whole course; a patient sees and adds only their
own; another practice sees nothing."""

from __future__ import annotations

import pytest

from courses.models import Cadence
from practice.models import Practice, Role
from sessions.booking.sessions import session_cancel
from sessions.models import (
    FreedSlot,
    WaitlistEntry,
    WaitlistEntryKind,
    WaitlistEntryStatus,
    WaitlistOfferStatus,
)
from sessions.reminders.links import waitlist_offer_token
from sessions.waitlist.claims import waitlist_offer_claim
from sessions.waitlist.offers import waitlist_offer_slot
from tests.clock import today
from tests.factories import PatientFactory, TherapistFactory, massage_type
from tests.sessions.waitlist import booked_session, screened_patient, waiting, waiting_for_course

pytestmark = pytest.mark.django_db

WAITLIST = "/api/v1/waitlist/"


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


def entry_body(practice: Practice, **changes: object) -> dict:
    body: dict = {
        "massage_type": massage_type(practice).pk,
        "first_day": today(practice).isoformat(),
        "last_day": today(practice, 7).isoformat(),
    }
    body.update(changes)
    return body


@pytest.mark.parametrize("rows", [1, 6])
def test_the_waitlist_list_takes_constant_queries(
    practice, staff, api_as, django_assert_num_queries, rows: int
) -> None:
    for _ in range(rows):
        session = booked_session(practice)
        waiting(practice)
        session_cancel(session=session, by=None)
    for slot_id in practice_slot_ids(practice):
        waitlist_offer_slot(slot_id=slot_id)
    client = api_as(staff)
    # The membership (with the practice and its settings), the page and its offers.
    with django_assert_num_queries(3):
        response = client.get(WAITLIST)
    results = response.json()["results"]
    assert len(results) == rows
    assert all(len(row["offers"]) == 1 for row in results)
    assert {row["offers"][0]["status"] for row in results} == {WaitlistOfferStatus.OPEN}


def practice_slot_ids(practice: Practice) -> list[int]:
    return list(FreedSlot.objects.for_practice(practice).values_list("pk", flat=True))


def test_the_desk_adds_a_patient_and_takes_them_off(practice, staff, api_as) -> None:
    patient = screened_patient(practice)
    therapist = TherapistFactory(practice=practice)
    client = api_as(staff)

    created = client.post(
        WAITLIST,
        entry_body(
            practice,
            patient=patient.pk,
            therapist=therapist.pk,
            earliest="09:00",
            latest="12:00",
            weekdays=[0, 2],
        ),
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["patient"], body["therapist"], body["weekdays"]) == (
        patient.pk,
        therapist.pk,
        [0, 2],
    )
    assert body["status"] == WaitlistEntryStatus.ACTIVE
    withdrawn = client.post(f"{WAITLIST}{body['id']}/withdraw/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == WaitlistEntryStatus.WITHDRAWN
    again = client.post(f"{WAITLIST}{body['id']}/withdraw/")
    assert again.status_code == 400
    assert "status" in again.json()["errors"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient": None}, "patient"),
        ({"massage_type": "x"}, "massage_type"),
        ({"first_day": "soon"}, "first_day"),
        ({"weekdays": [7]}, "weekdays"),
        ({"earliest": "25:00"}, "earliest"),
        ({"earliest": "12:00", "latest": "11:00"}, "latest"),
        ({"last_day": "2026-07-01"}, "last_day"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    practice, staff, api_as, changes: dict, field: str
) -> None:
    body = entry_body(practice, patient=screened_patient(practice).pk)
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}

    response = api_as(staff).post(WAITLIST, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not WaitlistEntry.objects.exists()


def test_a_patient_adds_and_sees_only_their_own_entries(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    own = screened_patient(practice, user=user)
    other = waiting(practice)
    client = api_as(user)

    created = client.post(WAITLIST, entry_body(practice), format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["patient"] == own.pk
    listed = client.get(WAITLIST).json()["results"]
    assert [row["patient"] for row in listed] == [own.pk]
    assert client.post(f"{WAITLIST}{other.pk}/withdraw/").status_code == 404
    # Naming another patient picks among their own record only.
    assert (
        client.post(
            WAITLIST, entry_body(practice, patient=other.patient_id), format="json"
        ).status_code
        == 400
    )


def test_r1_a_patient_without_a_screening_cannot_add_themselves(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    PatientFactory(practice=practice, user=user)
    response = api_as(user).post(WAITLIST, entry_body(practice), format="json")
    assert response.status_code == 400
    assert "massage_type" in response.json()["errors"]


def test_another_practices_desk_sees_and_withdraws_nothing(practice, other_desk, api_as) -> None:
    entry = waiting(practice)
    client = api_as(other_desk)
    assert client.get(WAITLIST).json()["results"] == []
    assert client.get(f"{WAITLIST}{entry.pk}/").status_code == 404
    assert client.post(f"{WAITLIST}{entry.pk}/withdraw/").status_code == 404
    # Another practice's patient, type or therapist is "not found" in the choices.
    bad = client.post(
        WAITLIST,
        entry_body(practice, patient=entry.patient_id),
        format="json",
    )
    assert bad.status_code == 400
    assert {"patient", "massage_type"} <= set(bad.json()["errors"])
    entry.refresh_from_db()
    assert entry.status == WaitlistEntryStatus.ACTIVE


def test_waiting_for_a_therapist_not_qualified_for_the_type_is_a_400(
    practice, staff, api_as
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.massage_types.set([massage_type(practice, "relaxing")])
    body = entry_body(
        practice,
        patient=screened_patient(practice).pk,
        therapist=therapist.pk,
        massage_type=massage_type(practice, "classical").pk,
    )

    response = api_as(staff).post(WAITLIST, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["massage_type"] == [
        "This therapist is not qualified for this massage type."
    ]
    assert not WaitlistEntry.objects.exists()


# --- Waiting for a whole course ------------------------------------------------------------------


def course_body(practice: Practice, **changes: object) -> dict:
    return entry_body(
        practice,
        kind=WaitlistEntryKind.COURSE,
        sessions_count=12,
        cadence=Cadence.DAILY,
        **changes,
    )


def test_the_desk_adds_a_course_entry_and_sees_the_course_offered(practice, staff, api_as) -> None:
    client = api_as(staff)

    created = client.post(
        WAITLIST, course_body(practice, patient=screened_patient(practice).pk), format="json"
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["kind"], body["sessions_count"], body["cadence"]) == ("course", 12, "daily")
    session = booked_session(practice)
    session_cancel(session=session, by=None)
    waitlist_offer_slot(slot_id=FreedSlot.objects.get().pk)
    (offer,) = client.get(f"{WAITLIST}{body['id']}/").json()["offers"]
    assert len(offer["course_starts"]) == 12
    assert offer["starts_at"] == offer["course_starts"][0]
    assert offer["course"] is None


def test_a_single_session_entry_shows_no_course_shape(practice, staff, api_as) -> None:
    body = entry_body(practice, patient=screened_patient(practice).pk, sessions_count=12)
    created = api_as(staff).post(WAITLIST, body, format="json").json()
    assert (created["kind"], created["sessions_count"], created["cadence"]) == ("session", None, "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sessions_count": None}, "sessions_count"),
        ({"sessions_count": 9}, "sessions_count"),
        ({"sessions_count": 16}, "sessions_count"),
        ({"sessions_count": 10**6}, "sessions_count"),
        ({"cadence": ""}, "cadence"),
        ({"cadence": "weekly"}, "cadence"),
        ({"kind": "series"}, "kind"),
    ],
)
def test_r9_r10_a_course_entry_out_of_shape_is_a_400_naming_the_field(
    practice, staff, api_as, changes: dict, field: str
) -> None:
    body = course_body(practice, patient=screened_patient(practice).pk)
    body.update(changes)

    response = api_as(staff).post(WAITLIST, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not WaitlistEntry.objects.exists()


def test_a_patient_adds_a_course_entry_for_themselves(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    own = screened_patient(practice, user=user)

    created = api_as(user).post(WAITLIST, course_body(practice), format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["patient"], created.json()["kind"]) == (own.pk, "course")


def test_another_practices_desk_gets_404_for_a_course_entry(practice, other_desk, api_as) -> None:
    entry = waiting_for_course(practice)
    client = api_as(other_desk)
    assert client.get(f"{WAITLIST}{entry.pk}/").status_code == 404
    assert client.post(f"{WAITLIST}{entry.pk}/withdraw/").status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistEntryStatus.ACTIVE


@pytest.mark.parametrize("rows", [1, 4])
def test_course_entries_with_claimed_courses_list_in_constant_queries(
    practice, staff, api_as, django_assert_num_queries, rows: int
) -> None:
    for _ in range(rows):
        session = booked_session(practice)
        waiting_for_course(practice)
        session_cancel(session=session, by=None)
    for slot_id in practice_slot_ids(practice):
        offer = waitlist_offer_slot(slot_id=slot_id)
        assert offer is not None
        waitlist_offer_claim(practice=practice, token=waitlist_offer_token(offer.pk))
    client = api_as(staff)
    with django_assert_num_queries(3):
        response = client.get(f"{WAITLIST}?status=booked")
    results = response.json()["results"]
    assert len(results) == rows
    assert all(row["offers"][0]["course"] for row in results)
