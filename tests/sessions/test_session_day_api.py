"""The session-day endpoints: who may take which step, 400s with field messages, 409s for a
wrong state, and isolation between practices, patients and therapists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import CourseStatus
from practice.models import Practice, PracticeSettings, Role
from sessions.models import CheckIn, SessionRecord, SessionStatus
from tests.factories import (
    CourseFactory,
    PatientFactory,
    SessionFactory,
    TherapistFactory,
    all_no,
    good_record,
)
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def url(session, step: str) -> str:
    return f"{SESSIONS}{session.pk}/{step}/"


def answers_json(**yes: str) -> list[dict]:
    return [{"code": a.code, "yes": a.yes, "zone": a.zone} for a in all_no(**yes)]


def now_session(practice: Practice, **extra: object):
    """A session starting now: checked in on its day, a no-show once begun."""
    return SessionFactory(practice=practice, starts_at=timezone.now(), screened=True, **extra)


@pytest.fixture
def desk(practice, member):
    return member(practice, Role.FRONT_DESK)


@pytest.fixture
def manager(practice, member):
    return member(practice, Role.MANAGER)


@pytest.fixture
def therapist_user(practice, member):
    return member(practice, Role.THERAPIST)


@pytest.fixture
def own_therapist(practice, therapist_user):
    return TherapistFactory(practice=practice, user=therapist_user, week=True)


def test_a_session_day_through_the_api(
    practice, desk, therapist_user, own_therapist, api_as
) -> None:
    session = now_session(practice, therapist=own_therapist)
    checked = api_as(desk).post(
        url(session, "check-in"),
        {"answers": answers_json(), "temperature": "36.6"},
        format="json",
    )
    assert checked.status_code == 200, checked.json()
    assert checked.json()["blocked"] is False
    assert checked.json()["session"]["status"] == "checked_in"

    therapist = api_as(therapist_user)
    protocol = therapist.get(url(session, "protocol"))
    assert protocol.status_code == 200
    assert protocol.json()["allowed"] is True
    assert protocol.json()["steps"][0]["group"] == "stroking"

    started = therapist.post(url(session, "start"))
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "in_progress"

    completed = therapist.post(url(session, "complete"), good_record(), format="json")
    assert completed.status_code == 200, completed.json()
    body = completed.json()
    assert body["session"]["status"] == "completed"
    assert body["record"]["techniques"] == ["stroking", "rubbing", "kneading", "stroking"]
    assert body["record"]["recorded_by"] == therapist_user.pk
    assert SessionRecord.objects.get(session=session).pain_after == 3


def test_r8_blocked_check_in_answers_with_the_rule_and_rebooking(
    practice, desk, own_therapist, api_as
) -> None:
    session = now_session(practice, therapist=own_therapist, patient__hypertensive=True)
    response = api_as(desk).post(
        url(session, "check-in"),
        {"answers": answers_json(), "systolic": 185, "diastolic": 100},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["blocked"] is True
    assert body["blocked_by"][0]["rule"] == "R8"
    assert body["session"]["status"] == "cancelled"
    assert body["session"]["late_cancellation"] is False
    assert body["check_in"]["systolic"] == 185
    assert body["rebook_options"]


def test_r7_check_in_without_the_pressure_is_a_400_naming_the_rule(practice, desk, api_as) -> None:
    session = now_session(practice, patient__hypertensive=True)
    response = api_as(desk).post(
        url(session, "check-in"), {"answers": answers_json()}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["systolic"][0].startswith("R7")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "answers"),
        ({"answers": "none"}, "answers"),
        ({"answers": [{"code": "fever", "yes": "maybe"}]}, "answers"),
        ({"systolic": "high"}, "systolic"),
        ({"temperature": "hot"}, "temperature"),
        ({"answers": answers_json(wound="moon")}, "answers"),
    ],
    ids=["nothing", "not a list", "not a boolean", "systolic", "temperature", "bad zone"],
)
def test_check_in_bad_input_is_a_400_with_field_messages(
    practice, desk, api_as, payload: dict, field: str
) -> None:
    session = now_session(practice)
    response = api_as(desk).post(url(session, "check-in"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("record", "field", "rule"),
    [
        ({"techniques": ["kneading", "stroking"]}, "techniques", "R15"),
        (
            {"techniques": ["stroking", "chopping", "stroking"], "zones": ["kidneys"]},
            "zones",
            "R17",
        ),
        ({"zones": ["spine"]}, "zones", "R17"),
        ({"pain_before": 12}, "pain_before", "R18"),
    ],
    ids=["r15", "r17 kidneys", "r17 spine", "r18"],
)
def test_bad_records_are_a_400_naming_the_rule(
    practice, manager, api_as, record: dict, field: str, rule: str
) -> None:
    session = now_session(practice, status=SessionStatus.IN_PROGRESS)
    response = api_as(manager).post(url(session, "complete"), good_record(**record), format="json")
    assert response.status_code == 400
    assert any(m.startswith(rule) for m in response.json()["errors"][field])


def test_a_record_of_the_wrong_shape_is_a_400(practice, manager, api_as) -> None:
    session = now_session(practice, status=SessionStatus.IN_PROGRESS)
    response = api_as(manager).post(
        url(session, "complete"), {"techniques": "stroking", "pain_before": "a lot"}, format="json"
    )
    assert response.status_code == 400
    assert {"techniques", "zones", "pressure", "pain_before", "pain_after"} <= set(
        response.json()["errors"]
    )


@pytest.mark.parametrize(
    ("step", "status", "payload"),
    [
        ("complete", SessionStatus.BOOKED, good_record()),
        ("start", SessionStatus.BOOKED, None),
        ("start", SessionStatus.COMPLETED, None),
        ("check-in", SessionStatus.CANCELLED, {"answers": answers_json()}),
        ("no-show", SessionStatus.IN_PROGRESS, None),
    ],
    ids=["complete booked", "start booked", "start completed", "check in cancelled", "no-show"],
)
def test_a_wrong_state_is_a_409(
    practice, manager, api_as, step: str, status: SessionStatus, payload: dict | None
) -> None:
    session = now_session(practice, status=status)
    response = api_as(manager).post(url(session, step), payload, format="json")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["status"] == 409  # the error body's own status, never overwritten
    assert body["session_status"] == status
    session.refresh_from_db()
    assert session.status == status


def test_r13_no_show_endpoint(practice, desk, api_as) -> None:
    session = now_session(practice)
    response = api_as(desk).post(url(session, "no-show"))
    assert response.status_code == 200, response.json()
    assert response.json()["session"]["status"] == "no_show"
    assert response.json()["course_interrupted"] is False


def test_the_front_desk_checks_in_but_neither_starts_nor_completes(practice, desk, api_as) -> None:
    checked_in = now_session(practice, status=SessionStatus.CHECKED_IN)
    in_progress = now_session(practice, status=SessionStatus.IN_PROGRESS)
    client = api_as(desk)
    assert client.post(url(checked_in, "start")).status_code == 403
    assert client.post(url(in_progress, "complete"), good_record(), format="json").status_code == (
        403
    )
    checked_in.refresh_from_db()
    assert checked_in.status == SessionStatus.CHECKED_IN


def test_a_therapist_starts_their_own_sessions_only(
    practice, member, therapist_user, own_therapist, api_as
) -> None:
    colleague = TherapistFactory(
        practice=practice, user=member(practice, Role.THERAPIST), week=True
    )
    mine = now_session(practice, therapist=own_therapist, status=SessionStatus.CHECKED_IN)
    theirs = now_session(practice, therapist=colleague, status=SessionStatus.CHECKED_IN)
    # The colleague's patient's record is open to this therapist: refused for not being theirs.
    PracticeSettings.objects.filter(practice=practice).update(therapists_see_all_patients=True)
    client = api_as(therapist_user)
    refused = client.post(url(theirs, "start"))
    assert refused.status_code == 403
    assert "another therapist" in refused.json()["detail"]
    assert client.post(url(mine, "start")).status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == SessionStatus.CHECKED_IN


def test_a_manager_starts_any_therapists_session(practice, manager, api_as) -> None:
    session = now_session(practice, status=SessionStatus.CHECKED_IN)
    assert api_as(manager).post(url(session, "start")).status_code == 200


def test_patients_take_no_session_day_step_and_read_no_protocol(practice, member, api_as) -> None:
    user = member(practice, Role.PATIENT)
    patient = PatientFactory(practice=practice, user=user)
    own = now_session(practice, patient=patient)
    client = api_as(user)
    assert client.get(f"{SESSIONS}{own.pk}/").status_code == 200
    assert client.get(url(own, "protocol")).status_code == 403
    assert (
        client.post(url(own, "check-in"), {"answers": answers_json()}, format="json").status_code
        == 403
    )
    assert client.post(url(own, "no-show")).status_code == 403
    own.refresh_from_db()
    assert own.status == SessionStatus.BOOKED


def test_isolation_another_practices_session_is_not_found(
    practice, other_practice, desk, manager, api_as
) -> None:
    foreign = now_session(other_practice)
    for client in (api_as(desk), api_as(manager)):
        assert client.get(url(foreign, "protocol")).status_code == 404
        response = client.post(url(foreign, "check-in"), {"answers": answers_json()}, format="json")
        assert response.status_code == 404
        assert client.post(url(foreign, "no-show")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == SessionStatus.BOOKED
    assert not CheckIn.objects.exists()


def test_isolation_a_therapist_of_one_practice_cannot_start_anothers(
    practice, other_practice, therapist_user, api_as
) -> None:
    # A therapist profile in another practice does not make its sessions reachable: the
    # request acts in the practice the user is a member of, where the session does not exist.
    foreign_profile = TherapistFactory(practice=other_practice, user=therapist_user, week=True)
    foreign = now_session(
        other_practice, therapist=foreign_profile, status=SessionStatus.CHECKED_IN
    )
    response = api_as(therapist_user).post(url(foreign, "start"))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == SessionStatus.CHECKED_IN


def test_a_patient_of_a_course_session_sees_its_progress_after_completion(
    practice, member, manager, api_as
) -> None:
    user = member(practice, Role.PATIENT)
    course = CourseFactory(
        practice=practice, booked=1, patient=PatientFactory(practice=practice, user=user)
    )
    session = course.sessions.get()
    session.starts_at = timezone.now()
    session.ends_at = session.starts_at + timedelta(minutes=10)
    session.blocks_until = session.ends_at
    session.save()
    client = api_as(manager)
    client.post(url(session, "check-in"), {"answers": answers_json()}, format="json")
    client.post(url(session, "start"))
    assert client.post(url(session, "complete"), good_record(), format="json").status_code == 200
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED
    mine = api_as(user).get(f"/api/v1/courses/{course.pk}/")
    assert mine.status_code == 200
    assert mine.json()["course_progress"]["sessions"][0]["pain_before"] == 6


def test_admin_shows_check_ins_and_records_of_the_managers_practice_read_only(
    practice, other_practice, manager, member, api_as
) -> None:
    mine = now_session(practice, status=SessionStatus.IN_PROGRESS)
    api_as(manager).post(url(mine, "complete"), good_record(), format="json")
    theirs = now_session(other_practice)
    api_as(member(other_practice, Role.FRONT_DESK)).post(
        url(theirs, "check-in"), {"answers": answers_json()}, format="json"
    )
    record = SessionRecord.objects.get(session=mine)
    foreign_check_in = CheckIn.objects.get(session=theirs)
    client = logged_in(manager)
    records = client.get("/admin/therapy_sessions/sessionrecord/")
    assert records.status_code == 200
    assert f"/admin/therapy_sessions/sessionrecord/{record.pk}/change/" in records.text
    detail = client.get(f"/admin/therapy_sessions/sessionrecord/{record.pk}/change/")
    assert detail.status_code == 200
    assert "Tension in the lower back eased." in detail.text
    check_ins = client.get("/admin/therapy_sessions/checkin/")
    assert check_ins.status_code == 200
    assert f"/checkin/{foreign_check_in.pk}/change/" not in check_ins.text
    # Django's admin answers a row outside its queryset by redirecting to the index.
    foreign = client.get(f"/admin/therapy_sessions/checkin/{foreign_check_in.pk}/change/")
    assert foreign.status_code == 302
    assert client.get("/admin/therapy_sessions/sessionrecord/add/").status_code == 403
    assert (
        client.post(
            f"/admin/therapy_sessions/sessionrecord/{record.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert SessionRecord.objects.filter(pk=record.pk).exists()
