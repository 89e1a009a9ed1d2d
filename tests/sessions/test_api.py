"""Availability and sessions API: input validation, ownership, isolation, query counts."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from practice.models import Role
from sessions.models import Session, SessionStatus
from tests.clock import local, today
from tests.factories import (
    PatientFactory,
    PracticeFactory,
    RoomFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    massage_type,
)

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/availability/"
SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


def test_availability_for_a_therapist_in_the_practice_zone(practice, staff, api_as) -> None:
    therapist = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
    day = today(practice, days=3)
    response = api_as(staff).get(
        AVAILABILITY, {"therapist": therapist.pk, "from": day, "to": day, "duration": 30}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["time_zone"] == "Europe/Berlin"
    starts = [s["starts_at"] for s in body["slots"]]
    assert [s[11:16] for s in starts] == ["09:00", "09:15", "09:30"]
    assert starts[0].endswith(local(practice, day, 9).isoformat()[-6:])
    assert body["slots"][0]["therapists"] == [therapist.pk]


def test_availability_for_a_massage_type_merges_qualified_therapists(
    practice, staff, api_as
) -> None:
    kind = massage_type(practice, "honey")
    qualified = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
    unqualified = TherapistFactory(practice=practice, week__starts=time(9), week__ends=time(10))
    unqualified.massage_types.set([massage_type(practice, "classical")])
    day = today(practice, days=3)
    response = api_as(staff).get(AVAILABILITY, {"massage_type": kind.pk, "from": day, "to": day})
    body = response.json()
    assert body["duration"] == kind.default_minutes
    assert {t for slot in body["slots"] for t in slot["therapists"]} == {qualified.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": 5, "to": 4, "duration": 30}, "to"),
        ({"from": 0, "to": 92, "duration": 30}, "to"),
        ({"from": 0, "to": 1, "duration": 0}, "duration"),
        ({"from": 0, "to": 1, "duration": 241}, "duration"),
        ({"from": 0, "to": 1}, "duration"),
        ({"from": "soon", "to": 1, "duration": 30}, "from"),
    ],
    ids=["end before start", "93 days", "duration 0", "too long", "no duration", "not a date"],
)
def test_availability_bad_input_is_a_400_with_field_messages(
    practice, staff, api_as, params: dict, field: str
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    query = {
        k: (today(practice, days=v) if isinstance(v, int) and k in ("from", "to") else v)
        for k, v in params.items()
    }
    response = api_as(staff).get(AVAILABILITY, {"therapist": therapist.pk, **query})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_availability_needs_a_therapist_or_a_type(practice, staff, api_as) -> None:
    day = today(practice, days=3)
    response = api_as(staff).get(AVAILABILITY, {"from": day, "to": day, "duration": 30})
    assert response.status_code == 400
    assert "therapist" in response.json()["errors"]


def test_isolation_another_practices_therapist_is_unknown(
    practice, other_practice, staff, api_as
) -> None:
    foreign = TherapistFactory(practice=other_practice, week=True)
    day = today(practice, days=3)
    response = api_as(staff).get(
        AVAILABILITY, {"therapist": foreign.pk, "from": day, "to": day, "duration": 30}
    )
    assert response.status_code == 400
    assert "therapist" in response.json()["errors"]
    booking = api_as(staff).post(
        SESSIONS,
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": foreign.pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": local(practice, day, 10).isoformat(),
        },
        format="json",
    )
    assert booking.status_code == 400
    assert "therapist" in booking.json()["errors"]


def test_isolation_another_practices_sessions_are_invisible(
    practice, other_practice, staff, api_as
) -> None:
    day = today(practice, days=3)
    mine = SessionFactory(
        therapist=TherapistFactory(practice=practice), starts_at=local(practice, day, 10)
    )
    theirs = SessionFactory(
        therapist=TherapistFactory(practice=other_practice), starts_at=local(practice, day, 10)
    )
    client = api_as(staff)
    assert [s["id"] for s in client.get(SESSIONS).json()["results"]] == [mine.pk]
    assert client.get(f"{SESSIONS}{theirs.pk}/").status_code == 404
    assert client.post(f"{SESSIONS}{theirs.pk}/cancel/", {}, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == SessionStatus.BOOKED


def test_staff_books_and_a_taken_time_is_a_409_naming_it(practice, staff, api_as) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    day = today(practice, days=3)
    payload = {
        "patient": PatientFactory(practice=practice).pk,
        "therapist": therapist.pk,
        "massage_type": massage_type(practice, "therapeutic").pk,
        "starts_at": local(practice, day, 10).isoformat(),
    }
    first = api_as(staff).post(SESSIONS, payload, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["minutes"] == 30
    payload["patient"] = PatientFactory(practice=practice).pk
    payload["starts_at"] = local(practice, day, 10, 30).isoformat()  # inside the buffer
    second = api_as(staff).post(SESSIONS, payload, format="json")
    assert second.status_code == 409
    assert second.json()["conflicts_with"]["starts_at"].startswith(f"{day.isoformat()}T10:00")


def test_booking_outside_hours_is_a_400(practice, staff, api_as) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    response = api_as(staff).post(
        SESSIONS,
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": therapist.pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": local(practice, today(practice, days=3), 7).isoformat(),
            "minutes": 0,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "minutes" in response.json()["errors"]


def test_patient_books_for_themselves_only(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=me)
    someone = PatientFactory(practice=practice)
    therapist = TherapistFactory(practice=practice, week=True)
    day = today(practice, days=3)
    payload = {
        "therapist": therapist.pk,
        "massage_type": massage_type(practice).pk,
        "starts_at": local(practice, day, 10).isoformat(),
    }
    client = api_as(user)
    for_someone = client.post(SESSIONS, {**payload, "patient": someone.pk}, format="json")
    assert for_someone.status_code == 400
    assert "patient" in for_someone.json()["errors"]
    mine = client.post(SESSIONS, payload, format="json")
    assert mine.status_code == 201, mine.json()
    assert mine.json()["patient"] == me.pk


def test_api_catalogue_a_patient_books_only_types_offered_online_staff_book_any(
    practice, staff, member, api_as
) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    ScreeningFactory(patient=me)
    kind = massage_type(practice)
    kind.online_bookable = False
    kind.save()
    payload = {
        "therapist": TherapistFactory(practice=practice, week=True).pk,
        "massage_type": kind.pk,
        "starts_at": local(practice, today(practice, days=3), 10).isoformat(),
    }

    by_patient = api_as(user).post(SESSIONS, payload, format="json")
    by_desk = api_as(staff).post(SESSIONS, {**payload, "patient": me.pk}, format="json")

    assert by_patient.status_code == 400
    assert "massage_type" in by_patient.json()["errors"]
    assert by_desk.status_code == 201, by_desk.json()


def test_r1_a_patient_books_only_types_their_screening_clears(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    therapist = TherapistFactory(practice=practice, week=True)
    payload = {
        "therapist": therapist.pk,
        "massage_type": massage_type(practice, "cupping").pk,
        "starts_at": local(practice, today(practice, days=3), 10).isoformat(),
    }
    client = api_as(user)

    unscreened = client.post(SESSIONS, payload, format="json")
    ScreeningFactory(patient=me, yes={"pregnancy": ""})
    pregnant = client.post(SESSIONS, payload, format="json")
    classical = client.post(
        SESSIONS, {**payload, "massage_type": massage_type(practice).pk}, format="json"
    )

    assert unscreened.status_code == 400
    assert unscreened.json()["errors"]["massage_type"][0].startswith("R1")
    assert pregnant.status_code == 400
    assert pregnant.json()["errors"]["massage_type"][0].startswith("R4")
    assert classical.status_code == 201, classical.json()
    assert Session.objects.filter(patient=me).count() == 1


def test_patient_sees_and_cancels_only_their_own_sessions(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    me = PatientFactory(practice=practice, user=user)
    therapist = TherapistFactory(practice=practice)
    day = today(practice, days=3)
    mine = SessionFactory(therapist=therapist, patient=me, starts_at=local(practice, day, 10))
    other = SessionFactory(therapist=therapist, starts_at=local(practice, day, 12))
    client = api_as(user)
    assert [s["id"] for s in client.get(SESSIONS).json()["results"]] == [mine.pk]
    assert client.get(f"{SESSIONS}{other.pk}/").status_code == 404
    assert (
        client.post(
            f"{SESSIONS}{other.pk}/reschedule/",
            {"starts_at": local(practice, day, 15).isoformat()},
            format="json",
        ).status_code
        == 404
    )
    cancelled = client.post(f"{SESSIONS}{mine.pk}/cancel/", {"reason": "travel"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["session"]["status"] == "cancelled"
    assert cancelled.json()["late"] is False


def test_reschedule_endpoint_moves_the_session(practice, staff, api_as) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    day = today(practice, days=3)
    session = SessionFactory(therapist=therapist, starts_at=local(practice, day, 10))
    response = api_as(staff).post(
        f"{SESSIONS}{session.pk}/reschedule/",
        {"starts_at": local(practice, day, 14).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["starts_at"].startswith(f"{day.isoformat()}T14:00")
    assert response.json()["schedule_version"] == 2


def test_list_filters_by_day_therapist_and_status(practice, staff, api_as) -> None:
    day = today(practice, days=3)
    one, two = TherapistFactory(practice=practice), TherapistFactory(practice=practice)
    wanted = SessionFactory(therapist=one, starts_at=local(practice, day, 23, 30))
    SessionFactory(therapist=one, starts_at=local(practice, day + timedelta(days=1), 0, 30))
    SessionFactory(therapist=two, starts_at=local(practice, day, 10))
    SessionFactory(therapist=one, starts_at=local(practice, day, 8), status=SessionStatus.CANCELLED)
    response = api_as(staff).get(
        SESSIONS, {"from": day, "to": day, "therapist": one.pk, "status": "booked"}
    )
    assert [s["id"] for s in response.json()["results"]] == [wanted.pk]
    bad = api_as(staff).get(SESSIONS, {"from": day, "to": day - timedelta(days=1)})
    assert bad.status_code == 400


@pytest.mark.parametrize("rows", [1, 12])
def test_session_list_takes_constant_queries(
    practice, staff, api_as, django_assert_num_queries, rows: int
) -> None:
    therapist = TherapistFactory(practice=practice)
    day = today(practice, days=3)
    for n in range(rows):
        SessionFactory(
            therapist=therapist,
            room=RoomFactory(practice=practice, name=f"Room {n}"),
            starts_at=local(practice, day, 8) + timedelta(minutes=45 * n),
        )
    client = api_as(staff)
    # The membership (with the practice and its settings) and the page: no count, never one
    # query per row.
    with django_assert_num_queries(2):
        response = client.get(SESSIONS)
    assert len(response.json()["results"]) == rows
    assert {row["room_name"] for row in response.json()["results"]} == {
        f"Room {n}" for n in range(rows)
    }
    assert Session.objects.count() == rows


def test_isolation_a_member_of_one_practice_cannot_act_for_another(
    practice, other_practice, member, api_as
) -> None:
    user = member(practice, Role.PATIENT)
    foreign = TherapistFactory(practice=other_practice, week=True)
    day = today(other_practice, days=3)
    response = api_as(user).get(
        AVAILABILITY,
        {"therapist": foreign.pk, "from": day, "to": day, "duration": 30},
        HTTP_X_PRACTICE=other_practice.slug,
    )
    assert response.status_code == 403
    assert api_as(user).get(SESSIONS, HTTP_X_PRACTICE=other_practice.slug).status_code == 403


def test_anonymous_gets_nothing(api_as) -> None:
    assert api_as(None).get(SESSIONS).status_code in (401, 403)


def test_r13_cancel_offers_rebooking_and_the_session_is_rebooked_into_its_course(
    practice, member, api_as
) -> None:
    staff = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, screened_on=today(practice))
    therapist = TherapistFactory(practice=practice, week=True)
    client = api_as(staff)
    course = client.post(
        "/api/v1/courses/",
        {
            "patient": patient.pk,
            "therapist": therapist.pk,
            "massage_type": massage_type(practice, "relaxing").pk,
            "start_date": today(practice, days=3).isoformat(),
            "preferred_time": "10:00",
        },
        format="json",
    ).json()
    second = course["sessions"][1]
    cancelled = client.post(f"{SESSIONS}{second['id']}/cancel/", {}, format="json").json()
    assert cancelled["rebook_options"]
    rebooked = client.post(
        SESSIONS,
        {
            "patient": patient.pk,
            "therapist": therapist.pk,
            "massage_type": course["massage_type"],
            "starts_at": cancelled["rebook_options"][-1],
            "minutes": second["minutes"],
            "course": course["id"],
            "sequence": 2,
        },
        format="json",
    )
    assert rebooked.status_code == 201, rebooked.json()
    assert rebooked.json()["course"] == course["id"]
    progress = client.get(f"/api/v1/courses/{course['id']}/").json()["progress"]
    # R13: the cancellation was in time and its place is booked again: nothing was missed.
    assert progress == {"planned": 10, "completed": 0, "booked": 10, "missed": 0}


def test_a_type_nobody_is_qualified_for_has_no_slots(practice, staff, api_as) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    therapist.massage_types.set([massage_type(practice, "classical")])
    day = today(practice, days=3)
    response = api_as(staff).get(
        AVAILABILITY, {"massage_type": massage_type(practice, "honey").pk, "from": day, "to": day}
    )
    assert response.status_code == 200
    assert response.json()["slots"] == []


def test_a_session_number_without_its_course_is_a_400(practice, staff, api_as) -> None:
    response = api_as(staff).post(
        SESSIONS,
        {
            "patient": PatientFactory(practice=practice).pk,
            "therapist": TherapistFactory(practice=practice, week=True).pk,
            "massage_type": massage_type(practice).pk,
            "starts_at": local(practice, today(practice, days=3), 10).isoformat(),
            "sequence": 2,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "course" in response.json()["errors"]


# -- daylight-saving days (R24, R23) ---------------------------------------------------------


def _quarters(first: str, last: str, offset: str) -> list[str]:
    """Local quarter hours from `first` to `last` (both HH:MM, included), as the API writes
    them (HH:MM:SS and the offset)."""
    start = int(first[:2]) * 60 + int(first[3:])
    end = int(last[:2]) * 60 + int(last[3:])
    return [f"{m // 60:02d}:{m % 60:02d}:00{offset}" for m in range(start, end + 1, 15)]


# Working 01:00-04:00 local, 30-minute sessions: a spring day offers 01:00-01:45 before the
# change (a session at 01:45 ends just after it) and 03:00-03:30 after; an autumn day offers
# each real instant of the repeated hour, once per occurrence, with its own offset.
DST_DAYS = [
    ("Europe/Berlin", "2026-03-29", _quarters("01:00", "01:45", "+01:00"), ("03:00", "+02:00")),
    ("Europe/Berlin", "2026-10-25", _quarters("01:00", "02:45", "+02:00"), ("02:00", "+01:00")),
    ("America/New_York", "2026-03-08", _quarters("01:00", "01:45", "-05:00"), ("03:00", "-04:00")),
    ("America/New_York", "2026-11-01", _quarters("01:00", "01:45", "-04:00"), ("01:00", "-05:00")),
    ("Australia/Sydney", "2026-10-04", _quarters("01:00", "01:45", "+10:00"), ("03:00", "+11:00")),
    ("Australia/Sydney", "2026-04-05", _quarters("01:00", "02:45", "+11:00"), ("02:00", "+10:00")),
]
DST_IDS = [f"{zone}-{day}" for zone, day, _before, _after in DST_DAYS]


def _dst_practice(member, zone: str, day: str, clock):
    practice = PracticeFactory(time_zone=zone)
    clock.move_to(datetime.fromisoformat(f"{day}T12:00:00+00:00") - timedelta(days=7))
    therapist = TherapistFactory(practice=practice, week__starts=time(1), week__ends=time(4))
    return practice, therapist, member(practice, Role.FRONT_DESK)


@pytest.mark.parametrize(("zone", "day", "before", "after"), DST_DAYS, ids=DST_IDS)
def test_r24_availability_on_a_change_day_lists_each_real_instant_once(
    member, api_as, clock, zone: str, day: str, before: list[str], after: tuple[str, str]
) -> None:
    _practice, therapist, staff = _dst_practice(member, zone, day, clock)
    response = api_as(staff).get(
        AVAILABILITY, {"therapist": therapist.pk, "from": day, "to": day, "duration": 30}
    )
    assert response.status_code == 200, response.json()
    slots = response.json()["slots"]
    assert [s["starts_at"][11:] for s in slots] == [
        *before,
        *_quarters(after[0], "03:30", after[1]),
    ]
    assert all(s["starts_at"].startswith(day) for s in slots)
    assert all(s["therapists"] == [therapist.pk] for s in slots)
    instants = [datetime.fromisoformat(s["starts_at"]) for s in slots]
    assert instants == sorted(set(instants))


@pytest.mark.parametrize(
    ("zone", "day", "first", "second"),
    [
        ("Europe/Berlin", "2026-10-25", "02:30:00+02:00", "02:30:00+01:00"),
        ("America/New_York", "2026-11-01", "01:30:00-04:00", "01:30:00-05:00"),
        ("Australia/Sydney", "2026-04-05", "02:30:00+11:00", "02:30:00+10:00"),
    ],
    ids=["Europe/Berlin", "America/New_York", "Australia/Sydney"],
)
def test_r23_r24_both_occurrences_of_the_repeated_hour_are_bookable(
    member, api_as, clock, zone: str, day: str, first: str, second: str
) -> None:
    practice, therapist, staff = _dst_practice(member, zone, day, clock)
    client = api_as(staff)
    # The second occurrence alone, then the first: neither is refused as off the grid.
    for moment in (second, first):
        starts_at = f"{day}T{moment}"
        response = client.post(
            SESSIONS,
            {
                "patient": PatientFactory(practice=practice).pk,
                "therapist": therapist.pk,
                "massage_type": massage_type(practice, "therapeutic").pk,
                "starts_at": starts_at,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["starts_at"] == starts_at
        # Thirty real minutes, whichever side of the change the session ends on.
        length = datetime.fromisoformat(body["ends_at"]) - datetime.fromisoformat(starts_at)
        assert length == timedelta(minutes=30)
    assert Session.objects.filter(therapist=therapist).count() == 2


def book_payload(practice, patient, kind: str, days: int = 3) -> dict:
    return {
        "patient": patient.pk,
        "therapist": TherapistFactory(practice=practice, week=True).pk,
        "massage_type": massage_type(practice, kind).pk,
        "starts_at": local(practice, today(practice, days=days), 10).isoformat(),
    }


def test_r4_staff_cannot_book_a_type_the_valid_screening_blocks(practice, staff, api_as) -> None:
    pregnant = PatientFactory(practice=practice)
    ScreeningFactory(patient=pregnant, yes={"pregnancy": ""})
    hypertensive = PatientFactory(practice=practice, hypertensive=True)
    ScreeningFactory(patient=hypertensive)
    client = api_as(staff)

    cupping = client.post(SESSIONS, book_payload(practice, pregnant, "cupping"), format="json")
    vibration = client.post(
        SESSIONS, book_payload(practice, hypertensive, "vibration"), format="json"
    )
    classical = client.post(
        SESSIONS, book_payload(practice, hypertensive, "classical"), format="json"
    )

    assert cupping.status_code == 400
    assert cupping.json()["errors"]["massage_type"][0].startswith("R4")
    assert vibration.status_code == 400
    assert vibration.json()["errors"]["massage_type"][0].startswith("R8: Hypertensive")
    assert classical.status_code == 201, classical.json()
    assert classical.json()["screening_needed"] is False
    assert Session.objects.count() == 1


def test_r2_staff_cannot_book_any_type_for_an_absolute_contraindication(
    practice, staff, api_as
) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"oncology": ""})

    response = api_as(staff).post(
        SESSIONS, book_payload(practice, patient, "relaxing"), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["massage_type"][0].startswith("R2")
    assert not Session.objects.exists()


def test_r1_staff_book_ahead_of_a_screening_and_the_session_shows_screening_needed(
    practice, staff, api_as
) -> None:
    patient = PatientFactory(practice=practice)
    client = api_as(staff)

    booked = client.post(SESSIONS, book_payload(practice, patient, "cupping"), format="json")

    assert booked.status_code == 201, booked.json()
    assert booked.json()["screening_needed"] is True
    listed = client.get(SESSIONS).json()["results"]
    assert [s["screening_needed"] for s in listed] == [True]
    # Screened: no longer needed; a screening valid for another day would not count.
    ScreeningFactory(patient=patient)
    assert client.get(SESSIONS).json()["results"][0]["screening_needed"] is False
    assert client.get(f"{SESSIONS}{booked.json()['id']}/").json()["screening_needed"] is False


def test_r1_a_screening_that_expires_before_the_session_leaves_it_needed(
    practice, staff, api_as
) -> None:
    patient = PatientFactory(practice=practice)
    validity = practice.settings.screening_validity_days
    ScreeningFactory(patient=patient, screened_on=today(practice, days=-validity + 1))
    SessionFactory(patient=patient, starts_at=local(practice, today(practice, days=1), 10))
    SessionFactory(patient=patient, starts_at=local(practice, today(practice), 16))

    listed = api_as(staff).get(SESSIONS).json()["results"]

    assert [s["screening_needed"] for s in listed] == [False, True]


def test_r4_moving_a_session_booked_ahead_is_refused_once_the_screening_blocks_its_type(
    practice, staff, api_as
) -> None:
    patient = PatientFactory(practice=practice)
    client = api_as(staff)
    booked = client.post(SESSIONS, book_payload(practice, patient, "cupping"), format="json")
    ScreeningFactory(patient=patient, yes={"pregnancy": ""})

    moved = client.post(
        f"{SESSIONS}{booked.json()['id']}/reschedule/",
        {"starts_at": local(practice, today(practice, days=3), 14).isoformat()},
        format="json",
    )

    assert moved.status_code == 400
    assert moved.json()["errors"]["starts_at"][0].startswith("R4")
