"""The session page through Django's test client: each state renders (booked, checked in, in
progress, completed), check-in through the service with its blocks (R7, R8), the record form's
errors next to the fields with their rule ids (R15, R17, R3, R8, R18), a forbidden zone forged
into a POST refused by the service, who may open and act (two practices, each role) and junk
input that is a message, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from practice.models import Practice, PracticeSettings, Role, Therapist, User
from sessions.day.check_in import SAME_DAY_QUESTIONS, session_check_in
from sessions.day.running import session_start
from sessions.models import Session, SessionRecord, SessionStatus
from tests.factories import CourseFactory, PatientFactory, ScreeningFactory, SessionFactory, all_no
from tests.pages import logged_in, text

pytestmark = pytest.mark.django_db


def url(name: str, session: Session, **kwargs: object) -> str:
    return reverse(
        f"sessions:{name}", kwargs={"practice_slug": session.practice.slug, "pk": session.pk}
    )


def errors_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def zone_box(html: str, code: str) -> str:
    """The zone's checkbox tag on the body chart."""
    found = re.search(rf'<input type="checkbox" name="zones" value="{code}"[^>]*>', html)
    assert found, f"no checkbox for {code}"
    return found.group(0)


def answers_no(**changes: str) -> dict[str, str]:
    """The check-in form's answers: "no" to every same-day question."""
    data = {f"item_{code}": "no" for code in SAME_DAY_QUESTIONS}
    data.update(changes)
    return data


def record_post(**changes: object) -> dict[str, object]:
    """A record every rule accepts for a patient who is not hypertensive, as the form posts it."""
    data: dict[str, object] = {
        "technique_1": "stroking",
        "technique_2": "rubbing",
        "technique_3": "kneading",
        "technique_4": "stroking",
        "zones": ["lumbar", "lower_thoracic", "shoulders"],
        "pressure": "medium",
        "direction": "",
        "pain_before": "6",
        "pain_after": "3",
        "notes": "Tension eased.",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def therapist_user(practice: Practice, member) -> User:
    return member(practice, Role.THERAPIST, email="therapist@example.com")


def owned_by(session: Session, user: User) -> Session:
    """The session's therapist is `user`'s therapist record."""
    Therapist.objects.filter(pk=session.therapist_id).update(user=user)
    return session


def in_progress(session: Session, **vitals: object) -> Session:
    session_check_in(session=session, answers=all_no(), by=None, **vitals)
    session_start(session=session, by=None, now=session.starts_at - timedelta(minutes=5))
    session.refresh_from_db()
    return session


def test_a_booked_session_shows_the_same_day_questions_and_vitals(practice, desk) -> None:
    session = SessionFactory(
        practice=practice, patient__given_name="Ann", patient__family_name="Berg", screened=True
    )

    response = logged_in(desk).get(url("session-detail", session))

    assert response.status_code == 200
    html = text(response)
    assert "Session: Ann Berg" in html
    assert "Check the patient in" in html
    for code in SAME_DAY_QUESTIONS:
        assert f'name="item_{code}"' in html
    assert 'name="systolic"' in html
    assert "csrfmiddlewaretoken" in html
    # The session's time in the practice's zone (Europe/Berlin), R24.
    assert "12:00" in html


def test_check_in_through_the_service_then_the_protocol_and_start_button(
    practice, therapist_user
) -> None:
    session = owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    client = logged_in(therapist_user)

    response = client.post(url("session-check-in", session), answers_no(temperature="36.6"))

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN
    html = text(client.get(response["Location"]))
    assert "The patient is checked in." in html
    assert "Planned protocol" in html
    assert "Start the session" in html
    # R15 and R17 in the plan: stroking first, the spine avoided with its rule.
    assert "Stroking" in html
    assert "R17: no direct work on the spine" in html


def test_r7_a_hypertensive_check_in_without_blood_pressure_is_refused_next_to_the_field(
    practice, desk
) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)

    response = logged_in(desk).post(url("session-check-in", session), answers_no())

    assert response.status_code == 400
    html = text(response)
    assert "R7" in errors_of(html, "id_systolic_errors")
    assert "R7" in errors_of(html, "id_diastolic_errors")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_r8_a_blocked_check_in_cancels_as_medical_and_offers_rebooking(practice, desk) -> None:
    course = CourseFactory(practice=practice, patient__hypertensive=True)
    session = course.sessions.get(sequence=1)

    response = logged_in(desk).post(
        url("session-check-in", session), answers_no(systolic="172", diastolic="96")
    )

    assert response.status_code == 200
    html = text(response)
    assert "cancelled as medical" in html
    assert "R8" in html
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    assert not session.late_cancellation
    # The service's rebooking times, offered as a form posting to the R13 rebook endpoint.
    assert url("session-rebook", session) in html
    assert 'name="starts_at"' in html
    # Opened again later, the page still says why the session stopped.
    later = text(logged_in(desk).get(url("session-detail", session)))
    assert "R8" in later
    assert "Check the patient in" not in later


def test_an_unanswered_question_is_shown_next_to_it(practice, desk) -> None:
    session = SessionFactory(practice=practice, screened=True)
    data = answers_no()
    del data["item_fever"]

    response = logged_in(desk).post(url("session-check-in", session), data)

    assert response.status_code == 400
    assert errors_of(text(response), "id_item_fever_errors")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_a_front_desk_user_may_check_in_but_not_start(practice, desk) -> None:
    session = SessionFactory(practice=practice, screened=True)
    session_check_in(session=session, answers=all_no(), by=None)
    client = logged_in(desk)

    page = client.get(url("session-detail", session))
    response = client.post(url("session-start", session))

    assert "Start the session" not in text(page)
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


def test_a_therapist_starts_only_their_own_sessions_and_a_manager_any(
    practice, member, therapist_user, clock
) -> None:
    mine = owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    theirs = SessionFactory(
        practice=practice, starts_at=mine.starts_at + timedelta(hours=2), screened=True
    )
    for session in (mine, theirs):
        session_check_in(session=session, answers=all_no(), by=None)
    # The colleague's patient's record is open to this therapist: refused for not being theirs.
    PracticeSettings.objects.filter(practice=practice).update(therapists_see_all_patients=True)
    client = logged_in(therapist_user)

    assert client.post(url("session-start", theirs)).status_code == 403
    clock.move_to(mine.starts_at - timedelta(minutes=5))
    assert client.post(url("session-start", mine)).status_code == 302
    manager = logged_in(member(practice, Role.MANAGER))
    clock.move_to(theirs.starts_at)
    assert manager.post(url("session-start", theirs)).status_code == 302
    assert {s.status for s in Session.objects.all()} == {SessionStatus.IN_PROGRESS}


def test_r1_start_without_a_valid_screening_is_refused_with_the_rule(
    practice, member, clock
) -> None:
    session = SessionFactory(practice=practice)
    session_check_in(session=session, answers=all_no(), by=None)
    clock.move_to(session.starts_at)

    response = logged_in(member(practice, Role.MANAGER)).post(url("session-start", session))

    assert response.status_code == 400
    assert "R1" in text(response)
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


def test_starting_hours_before_the_booked_time_is_a_conflict_message(
    practice, member, clock
) -> None:
    session = SessionFactory(practice=practice, screened=True)  # noon; the clock says 10:30
    session_check_in(session=session, answers=all_no(), by=None)
    client = logged_in(member(practice, Role.MANAGER))

    early = client.post(url("session-start", session))

    assert early.status_code == 409
    assert "it can start from 11:30" in text(early)
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN
    clock.move_to(session.starts_at - timedelta(minutes=30))
    assert client.post(url("session-start", session)).status_code == 302


def test_r1_the_session_page_says_a_screening_is_needed(practice, desk) -> None:
    unscreened = SessionFactory(practice=practice)
    screened = SessionFactory(practice=practice, screened=True)
    client = logged_in(desk)

    assert "Screening needed (R1)" in text(client.get(url("session-detail", unscreened)))
    assert "Screening needed (R1)" not in text(client.get(url("session-detail", screened)))


def test_the_record_form_shows_the_service_errors_with_their_rule_ids(
    practice, therapist_user
) -> None:
    session = in_progress(
        owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    )

    response = logged_in(therapist_user).post(
        url("session-complete", session),
        record_post(technique_1="kneading", technique_4="rubbing", pain_before="12", zones=[]),
    )

    assert response.status_code == 400
    html = text(response)
    techniques = errors_of(html, "techniques_errors")
    assert "R15: the session must start with stroking." in techniques
    assert "R15: the session must end with stroking." in techniques
    assert "R20: record the zones worked." in errors_of(html, "id_zones_errors")
    assert "R18" in errors_of(html, "id_pain_before_errors")
    # What was typed is kept.
    assert '<option value="kneading" selected>' in html
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS


def test_r8_vibration_and_missing_pressure_after_for_a_hypertensive_patient(
    practice, therapist_user
) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    session = in_progress(owned_by(session, therapist_user), systolic=140, diastolic=85)

    response = logged_in(therapist_user).post(
        url("session-complete", session),
        record_post(technique_2="vibration", direction="bottom_up"),
    )

    assert response.status_code == 400
    html = text(response)
    assert "R8: no vibration or percussion" in errors_of(html, "techniques_errors")
    assert "R8" in errors_of(html, "id_direction_errors")
    assert "R7" in errors_of(html, "id_systolic_after_errors")
    assert "Hypertensive patient" in html


def test_r17_a_forged_forbidden_zone_is_refused_by_the_service(practice, therapist_user) -> None:
    session = in_progress(
        owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    )
    client = logged_in(therapist_user)

    page = text(client.get(url("session-detail", session)))
    assert "disabled" in zone_box(page, "spine")

    # A POST made by hand sends the disabled box anyway: the service refuses it.
    response = client.post(url("session-complete", session), record_post(zones=["lumbar", "spine"]))

    assert response.status_code == 400
    assert "R17: no direct work on the spine" in errors_of(text(response), "id_zones_errors")
    assert not SessionRecord.objects.exists()


def test_r3_the_screenings_blocked_zone_is_disabled_and_refused(practice, therapist_user) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"inflamed_skin": "lower_back"})
    session = SessionFactory(practice=practice, patient=patient)
    session = in_progress(owned_by(session, therapist_user))
    client = logged_in(therapist_user)

    page = text(client.get(url("session-detail", session)))
    assert "disabled" in zone_box(page, "lumbar")
    assert "disabled" not in zone_box(page, "shoulders")
    assert "R3: the screening blocks this zone" in page

    response = client.post(url("session-complete", session), record_post(zones=["lumbar"]))

    assert response.status_code == 400
    assert "R3" in errors_of(text(response), "id_zones_errors")


def test_r3_a_zone_closed_at_check_in_is_disabled_for_the_day(
    practice, therapist_user, clock
) -> None:
    session = owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    client = logged_in(therapist_user)
    client.post(
        url("session-check-in", session),
        answers_no(item_wound="yes", zone_wound="shoulders"),
    )
    clock.move_to(session.starts_at)
    client.post(url("session-start", session))

    page = text(client.get(url("session-detail", session)))

    assert "disabled" in zone_box(page, "shoulders")


def test_a_valid_record_completes_the_session_and_is_shown_read_only(
    practice, therapist_user
) -> None:
    session = in_progress(
        owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    )
    client = logged_in(therapist_user)

    response = client.post(url("session-complete", session), record_post())

    assert response.status_code == 302
    record = SessionRecord.objects.get(session=session)
    assert record.techniques == ["stroking", "rubbing", "kneading", "stroking"]
    assert sorted(record.zones) == ["lower_thoracic", "lumbar", "shoulders"]
    assert record.direction == "bottom_up"
    assert record.recorded_by == therapist_user
    html = text(client.get(response["Location"]))
    assert "Session record" in html
    assert "Lower thoracic" in html
    assert "6 → 3" in html
    assert 'name="zones"' not in html
    assert url("session-complete", session) not in html


def test_a_no_show_once_the_session_has_begun(practice, desk) -> None:
    session = SessionFactory(
        practice=practice, starts_at=timezone.now() - timedelta(minutes=5), screened=True
    )
    client = logged_in(desk)

    assert "Mark as no-show" in text(client.get(url("session-detail", session)))
    response = client.post(url("session-no-show", session))

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.NO_SHOW


def test_a_patient_is_refused_and_another_practice_sees_nothing(
    practice, other_practice, member
) -> None:
    session = SessionFactory(practice=practice, screened=True)
    patient = logged_in(member(practice, Role.PATIENT))
    outsider = logged_in(member(other_practice, Role.MANAGER))

    assert patient.get(url("session-detail", session)).status_code == 403
    assert patient.post(url("session-check-in", session), answers_no()).status_code == 403
    assert outsider.get(url("session-detail", session)).status_code == 404
    # The outsider's own practice slug does not reach the session either.
    foreign = reverse(
        "sessions:session-detail", kwargs={"practice_slug": other_practice.slug, "pk": session.pk}
    )
    assert outsider.get(foreign).status_code == 404
    for name in ("session-check-in", "session-no-show"):
        assert outsider.post(url(name, session)).status_code == 404
    assert outsider.post(foreign + "start/").status_code == 404
    assert Client().get(url("session-detail", session)).status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


def test_junk_input_is_a_message_never_a_500(practice, therapist_user) -> None:
    session = owned_by(SessionFactory(practice=practice, screened=True), therapist_user)
    client = logged_in(therapist_user)

    junk_check_in = answers_no(
        item_fever="maybe", zone_wound="mars", temperature="hot", systolic="1e9", pulse="-"
    )
    assert client.post(url("session-check-in", session), junk_check_in).status_code == 400
    assert client.post(url("session-check-in", session), {}).status_code == 400
    absurd = answers_no(temperature="99.9", systolic="999999", diastolic="5")
    assert client.post(url("session-check-in", session), absurd).status_code == 400
    # Steps out of order: the service's state conflict, shown on the page.
    response = client.post(url("session-complete", session), record_post())
    assert response.status_code == 409
    assert "only a session in progress can complete" in text(response)
    assert client.post(url("session-start", session)).status_code == 409

    in_progress(session)
    junk_record = {
        "technique_1": "boom",
        "zones": ["xyz", "<script>"],
        "pressure": "crushing",
        "direction": "sideways",
        "pain_before": "abc",
        "pain_after": "99999999999999999999",
        "systolic_after": "-1",
        "notes": "x" * 6000,
    }
    response = client.post(url("session-complete", session), junk_record)
    assert response.status_code == 400
    assert "<script>" not in text(response)
    response = client.post(url("session-complete", session), record_post(pain_after="-3"))
    assert response.status_code == 400
    assert "R18" in errors_of(text(response), "id_pain_after_errors")
    assert client.get(url("session-check-in", session)).status_code == 405
    assert client.post(url("session-check-in", session), answers_no()).status_code == 409
    assert not SessionRecord.objects.exists()


def test_the_calendar_and_the_course_page_link_to_the_session_page(practice, desk) -> None:
    course = CourseFactory(practice=practice)
    session = course.sessions.get(sequence=1)
    client = logged_in(desk)
    day = session.starts_at.astimezone(practice.zone).date().isoformat()

    calendar = text(client.get(reverse("sessions:calendar", args=[practice.slug]) + f"?date={day}"))
    course_page = text(
        client.get(reverse("courses:course-detail", args=[practice.slug, course.pk]))
    )

    assert url("session-detail", session) in calendar
    assert url("session-detail", session) in course_page
