"""The session day through its services: check-in (R7, R8, R2-R5, R3), start (R1), complete
with the record (R15-R18, R20), no-show (R13), the planned protocol (R14-R17) and the course
lifecycle."""

from __future__ import annotations

import importlib
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.models import Cadence, CourseStatus
from practice.errors import Conflict
from practice.models import Practice
from sessions.booking.sessions import session_book
from sessions.day.check_in import session_check_in
from sessions.day.running import (
    session_complete,
    session_no_show,
    session_protocol_for,
    session_start,
)
from sessions.models import CheckIn, Reminder, ReminderStatus, SessionRecord, SessionStatus
from sessions.reminders.messages import ReminderKind
from tests.clock import noon, today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    all_no,
    good_record,
    massage_type,
)

pytestmark = pytest.mark.django_db


def before_noon(practice: Practice, days: int = 0):
    return noon(practice, days) - timedelta(minutes=5)


def check_in(session, **vitals):
    vitals.setdefault("answers", all_no())
    vitals.setdefault("now", before_noon(session.practice))
    return session_check_in(session=session, by=None, **vitals)


def started(session, **vitals):
    check_in(session, **vitals)
    return session_start(session=session, by=None, now=before_noon(session.practice))


def complete(session, **record):
    return session_complete(
        session=session, by=None, now=noon(session.practice), **good_record(**record)
    )


def errors_of(caught: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return caught.value.message_dict


# --- check-in ---------------------------------------------------------------------------


def test_check_in_with_nothing_new_checks_the_patient_in(practice: Practice) -> None:
    session = SessionFactory(practice=practice, screened=True)
    result = check_in(session, temperature=Decimal("36.7"))
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN
    assert not result.blocked
    stored = CheckIn.objects.get(session=session)
    assert stored.answers["fever"] == {"yes": False, "zone": ""}
    assert stored.temperature == Decimal("36.7")
    assert stored.blocked_by == []


def test_r7_check_in_of_a_hypertensive_patient_needs_the_blood_pressure(
    practice: Practice,
) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    with pytest.raises(ValidationError) as caught:
        check_in(session)
    errors = errors_of(caught)
    assert errors["systolic"][0].startswith("R7")
    assert errors["diastolic"][0].startswith("R7")
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    assert not CheckIn.objects.exists()


def test_r7_blood_pressure_is_stored_before_and_after(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    started(session, systolic=150, diastolic=90, pulse=72)
    record = complete(
        session,
        techniques=["stroking", "kneading", "stroking"],
        systolic_after=140,
        diastolic_after=85,
    )
    record.refresh_from_db()
    assert (record.systolic_before, record.diastolic_before) == (150, 90)
    assert (record.systolic_after, record.diastolic_after) == (140, 85)


def test_r7_a_hypertensive_record_without_the_pressure_after_is_refused(
    practice: Practice,
) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    started(session, systolic=150, diastolic=90)
    with pytest.raises(ValidationError) as caught:
        complete(session, techniques=["stroking", "kneading", "stroking"])
    assert errors_of(caught)["systolic_after"][0].startswith("R7")
    assert not SessionRecord.objects.exists()


def test_r8_systolic_over_160_blocks_today(practice: Practice) -> None:
    course = CourseFactory(practice=practice, patient__hypertensive=True)
    first = course.sessions.get(sequence=1)
    # Five minutes before the start: well inside the notice period, still not "late".
    result = check_in(first, systolic=161, diastolic=95)
    first.refresh_from_db()
    course.refresh_from_db()
    assert result.blocked
    assert [f.rule for f in result.blocked_by] == ["R8"]
    assert first.status == SessionStatus.CANCELLED
    assert first.late_cancellation is False
    assert first.cancellation_reason.startswith("Medical: R8")
    assert course.paused
    assert course.pause_reason.startswith("Medical: R8")
    kept = CheckIn.objects.get(session=first)
    assert (kept.systolic, kept.diastolic) == (161, 95)
    assert kept.answers["wound"] == {"yes": False, "zone": ""}
    assert [f["code"] for f in kept.blocked_by] == ["systolic_over_160"]
    # Rebooking is offered, never today (R8), within the cadence: the next session is on
    # the day after tomorrow, so tomorrow.
    days = {o.astimezone(practice.zone).date() for o in result.rebook_options}
    assert days == {today(practice, days=1)}


def test_r22_a_session_stopped_at_check_in_keeps_no_pending_reminder(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True, consent_email=True)
    ScreeningFactory(patient=patient)
    session = session_book(
        practice=practice,
        patient=patient,
        therapist=TherapistFactory(practice=practice, week=True),
        massage_type=massage_type(practice, "classical"),
        starts_at=noon(practice, 1),
    )
    pending = Reminder.objects.filter(session=session, status=ReminderStatus.PENDING)
    assert pending.exists()
    session_check_in(
        session=session,
        answers=all_no(),
        systolic=171,
        diastolic=99,
        by=None,
        now=before_noon(practice, 1),
    )
    assert not pending.exists()


def test_r8_systolic_of_160_does_not_block(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    result = check_in(session, systolic=160, diastolic=95)
    session.refresh_from_db()
    assert not result.blocked
    assert session.status == SessionStatus.CHECKED_IN


def test_r8_a_blocked_single_session_is_offered_the_next_days(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    result = check_in(session, systolic=175, diastolic=100)
    days = {o.astimezone(practice.zone).date() for o in result.rebook_options}
    assert days
    assert min(days) == today(practice, days=1)
    assert max(days) <= today(practice, days=7)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(systolic=st.integers(min_value=120, max_value=220))
def test_r8_check_in_blocks_exactly_above_160(practice: Practice, systolic: int) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    result = check_in(session, systolic=systolic, diastolic=90)
    session.refresh_from_db()
    assert result.blocked is (systolic > 160)
    expected = SessionStatus.CANCELLED if systolic > 160 else SessionStatus.CHECKED_IN
    assert session.status == expected


def test_r2_check_in_uses_the_practices_fever_threshold(practice: Practice) -> None:
    practice.settings.fever_threshold = Decimal("37.2")
    practice.settings.save()
    warm, normal = SessionFactory.create_batch(2, practice=practice, screened=True)
    assert check_in(warm, temperature=Decimal("37.3")).blocked_by[0].code == "fever"
    assert not check_in(normal, temperature=Decimal("37.1")).blocked


@pytest.mark.parametrize(
    ("given", "rule", "code"),
    [
        ({"temperature": Decimal("37.8")}, "R2", "fever"),
        ({"answers": all_no(acute_infection="")}, "R2", "acute_infection"),
        ({"answers": all_no(chronic_exacerbation="")}, "R5", "chronic_exacerbation"),
    ],
    ids=["fever", "acute infection", "exacerbation"],
)
def test_r2_r5_a_new_absolute_finding_blocks_today(
    practice: Practice, given: dict, rule: str, code: str
) -> None:
    session = SessionFactory(practice=practice, screened=True)
    result = check_in(session, **given)
    session.refresh_from_db()
    assert (result.blocked_by[0].rule, result.blocked_by[0].code) == (rule, code)
    assert session.status == SessionStatus.CANCELLED
    assert session.late_cancellation is False
    assert CheckIn.objects.get(session=session).blocked_by[0]["code"] == code


def test_r3_a_new_wound_closes_only_its_zone_today(practice: Practice) -> None:
    session = SessionFactory(practice=practice, screened=True)
    result = check_in(session, answers=all_no(wound="lower_back"))
    session.refresh_from_db()
    assert not result.blocked
    assert result.blocked_zones == {"lower_back"}
    assert session.status == SessionStatus.CHECKED_IN
    protocol = session_protocol_for(session)
    planned = {zone for step in protocol.steps for zone in step.zones}
    assert "lumbar" not in planned
    assert "shoulders" in planned
    assert any(a.zone == "lumbar" and a.rule == "R3" for a in protocol.avoid)
    session_start(session=session, by=None, now=before_noon(practice))
    with pytest.raises(ValidationError) as caught:
        complete(session, zones=["lumbar", "shoulders"])
    assert any("R3" in m for m in errors_of(caught)["zones"])
    assert complete(session, zones=["shoulders"]).zones == ["shoulders"]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"answers": all_no()[1:]}, "answers"),
        ({"answers": [*all_no(), all_no()[0]]}, "answers"),
        ({"answers": all_no(wound="")}, "answers"),
        ({"answers": all_no(fever="lower_back")}, "answers"),
        ({"temperature": Decimal("52.0")}, "temperature"),
        ({"systolic": 120}, "diastolic"),
        ({"systolic": 80, "diastolic": 120}, "diastolic"),
        ({"pulse": 400}, "pulse"),
    ],
    ids=[
        "question missing",
        "answered twice",
        "wound without zone",
        "zone on fever",
        "temperature",
        "half a reading",
        "diastolic above systolic",
        "pulse",
    ],
)
def test_check_in_refuses_bad_input_with_field_messages(
    practice: Practice, given: dict, field: str
) -> None:
    session = SessionFactory(practice=practice, screened=True)
    with pytest.raises(ValidationError) as caught:
        check_in(session, **given)
    assert field in errors_of(caught)
    assert not CheckIn.objects.exists()


def test_check_in_happens_on_the_sessions_day_and_once(practice: Practice) -> None:
    tomorrow = SessionFactory(practice=practice, starts_at=noon(practice, 1), screened=True)
    with pytest.raises(Conflict):
        check_in(tomorrow)
    session = SessionFactory(practice=practice, screened=True)
    check_in(session)
    with pytest.raises(Conflict) as caught:
        check_in(session)
    assert caught.value.body["session_status"] == SessionStatus.CHECKED_IN


# --- start ------------------------------------------------------------------------------


def test_r1_start_is_refused_without_a_valid_screening(practice: Practice) -> None:
    session = SessionFactory(practice=practice)
    check_in(session)
    with pytest.raises(ValidationError) as caught:
        session_start(session=session, by=None, now=before_noon(practice))
    assert errors_of(caught)["patient"][0].startswith("R1")
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


def test_r1_a_course_keeps_its_opening_screening_past_its_validity(practice: Practice) -> None:
    # A session of the course after the opening screening's own validity still starts.
    validity = practice.settings.screening_validity_days
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY, booked=1)
    late = course.sessions.get(sequence=1)
    late.starts_at = noon(practice, validity + 3)
    late.ends_at = late.starts_at + timedelta(minutes=10)
    late.blocks_until = late.ends_at
    late.save()
    day_after = before_noon(practice, validity + 3)
    session_check_in(session=late, answers=all_no(), by=None, now=day_after)
    started_session = session_start(session=late, by=None, now=day_after)
    assert started_session.status == SessionStatus.IN_PROGRESS


def test_r4_start_is_refused_when_the_screening_blocks_the_type(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"honey_allergy": ""})
    session = SessionFactory(practice=practice, patient=patient, kind="honey")
    check_in(session)
    with pytest.raises(ValidationError) as caught:
        session_start(session=session, by=None, now=before_noon(practice))
    assert errors_of(caught)["patient"][0].startswith("R4")


def test_start_activates_the_course_and_resumes_a_paused_one(practice: Practice) -> None:
    course = CourseFactory(practice=practice, patient__hypertensive=True, cadence=Cadence.DAILY)
    first, second = course.sessions.get(sequence=1), course.sessions.get(sequence=2)
    check_in(first, systolic=170, diastolic=100)
    course.refresh_from_db()
    assert course.paused
    assert course.status == CourseStatus.PLANNED
    tomorrow = before_noon(practice, 1)
    session_check_in(
        session=second, answers=all_no(), systolic=140, diastolic=85, by=None, now=tomorrow
    )
    session_start(session=second, by=None, now=tomorrow)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    assert not course.paused
    assert course.pause_reason == ""


@pytest.mark.parametrize(
    "status", [SessionStatus.BOOKED, SessionStatus.IN_PROGRESS, SessionStatus.CANCELLED]
)
def test_start_needs_a_checked_in_session(practice: Practice, status: SessionStatus) -> None:
    session = SessionFactory(practice=practice, status=status, screened=True)
    with pytest.raises(Conflict) as caught:
        session_start(session=session, by=None, now=before_noon(practice))
    assert caught.value.body["session_status"] == status


# --- complete ---------------------------------------------------------------------------


def test_r20_a_completed_session_stores_everything(practice: Practice) -> None:
    session = SessionFactory(practice=practice, screened=True)
    started(session, systolic=125, diastolic=80)
    record = complete(
        session,
        techniques=["stroking", "rubbing", "kneading", "vibration", "tapping", "stroking"],
        zones=["sacrum", "lumbar", "shoulders"],
        pressure="deep",
        pain_before=7,
        pain_after=2,
        systolic_after=120,
        diastolic_after=78,
        notes="Knots at L4.",
    )
    session.refresh_from_db()
    stored = SessionRecord.objects.get(session=session)
    assert session.status == SessionStatus.COMPLETED
    assert stored.pk == record.pk
    assert stored.techniques == [
        "stroking",
        "rubbing",
        "kneading",
        "vibration",
        "tapping",
        "stroking",
    ]
    assert stored.zones == ["sacrum", "lumbar", "shoulders"]
    assert (stored.pressure, stored.direction) == ("deep", "bottom_up")
    assert (stored.pain_before, stored.pain_after) == (7, 2)
    assert (stored.systolic_before, stored.systolic_after) == (125, 120)
    assert stored.notes == "Knots at L4."


@pytest.mark.parametrize(
    ("record", "field", "rule"),
    [
        ({"techniques": ["rubbing", "kneading", "stroking"]}, "techniques", "R15"),
        ({"techniques": ["stroking", "kneading"]}, "techniques", "R15"),
        (
            {"techniques": ["stroking", "tapping", "stroking"], "zones": ["kidneys"]},
            "zones",
            "R17",
        ),
        ({"zones": ["lumbar", "spine"]}, "zones", "R17"),
        ({"pain_before": 11}, "pain_before", "R18"),
        ({"pain_after": -1}, "pain_after", "R18"),
        ({"techniques": ["stroking", "hammering", "stroking"]}, "techniques", "R20"),
        ({"direction": "sideways"}, "direction", "R16"),
    ],
    ids=[
        "r15 start",
        "r15 end",
        "r17 kidney percussion",
        "r17 spine",
        "r18 pain 11",
        "r18 pain -1",
        "r20 unknown technique",
        "r16 direction",
    ],
)
def test_r15_r16_r17_r18_r20_bad_records_are_refused_naming_the_rule(
    practice: Practice, record: dict, field: str, rule: str
) -> None:
    session = SessionFactory(practice=practice, screened=True)
    started(session)
    with pytest.raises(ValidationError) as caught:
        complete(session, **record)
    assert any(message.startswith(rule) for message in errors_of(caught)[field])
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert not SessionRecord.objects.exists()


def test_r8_no_vibration_or_percussion_for_a_hypertensive_patient(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    started(session, systolic=150, diastolic=90)
    with pytest.raises(ValidationError) as caught:
        complete(
            session,
            techniques=["stroking", "kneading", "vibration", "stroking"],
            systolic_after=140,
            diastolic_after=85,
        )
    assert any(m.startswith("R8") for m in errors_of(caught)["techniques"])


def test_r8_strokes_run_top_down_for_a_hypertensive_patient(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    started(session, systolic=150, diastolic=90)
    with pytest.raises(ValidationError) as caught:
        complete(
            session,
            techniques=["stroking", "kneading", "stroking"],
            direction="bottom_up",
            systolic_after=140,
            diastolic_after=85,
        )
    assert errors_of(caught)["direction"][0].startswith("R8")
    record = complete(
        session,
        techniques=["stroking", "kneading", "stroking"],
        systolic_after=140,
        diastolic_after=85,
    )
    assert record.direction == "top_down"


def test_r3_a_zone_the_screening_blocks_is_refused(practice: Practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"inflamed_skin": "neck"})
    session = SessionFactory(practice=practice, patient=patient)
    started(session)
    with pytest.raises(ValidationError) as caught:
        complete(session, zones=["cervical", "lumbar"])
    assert any("R3" in m for m in errors_of(caught)["zones"])


@pytest.mark.parametrize(
    "status", [SessionStatus.BOOKED, SessionStatus.CHECKED_IN, SessionStatus.COMPLETED]
)
def test_complete_needs_a_session_in_progress(practice: Practice, status: SessionStatus) -> None:
    session = SessionFactory(practice=practice, status=status, screened=True)
    with pytest.raises(Conflict):
        complete(session)
    assert not SessionRecord.objects.exists()


def test_the_course_completes_with_its_last_session(practice: Practice) -> None:
    course = CourseFactory(practice=practice, booked=2, cadence=Cadence.DAILY)
    first, second = course.sessions.order_by("sequence")
    started(first)
    complete(first)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    tomorrow = before_noon(practice, 1)
    session_check_in(session=second, answers=all_no(), by=None, now=tomorrow)
    session_start(session=second, by=None, now=tomorrow)
    session_complete(session=second, by=None, now=noon(practice, 1), **good_record())
    course.refresh_from_db()
    assert course.status == CourseStatus.COMPLETED


def test_r21_completing_a_course_session_queues_the_next_sessions_reminder(
    practice: Practice,
) -> None:
    course = CourseFactory(
        practice=practice, booked=2, patient__consent_email=True, patient__consent_sms=False
    )
    first, second = course.sessions.order_by("sequence")
    started(first)
    complete(first)
    queued = Reminder.objects.filter(kind=ReminderKind.COURSE_NEXT_SESSION)
    assert [(r.session_id, r.channel) for r in queued] == [(second.pk, "email")]


# --- no-show ----------------------------------------------------------------------------


def test_r13_three_no_shows_in_a_row_flag_the_course(practice: Practice) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY)
    later = noon(practice, 5)
    for sequence in (1, 2):
        result = session_no_show(session=course.sessions.get(sequence=sequence), by=None, now=later)
        assert result.course_interrupted is False
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED
    result = session_no_show(session=course.sessions.get(sequence=3), by=None, now=later)
    course.refresh_from_db()
    assert result.course_interrupted is True
    assert result.session.status == SessionStatus.NO_SHOW
    assert course.status == CourseStatus.INTERRUPTED


def test_no_show_only_for_a_booked_session_that_has_begun(practice: Practice) -> None:
    session = SessionFactory(practice=practice, screened=True)
    with pytest.raises(Conflict):
        session_no_show(session=session, by=None, now=before_noon(practice))
    check_in(session)
    with pytest.raises(Conflict):
        session_no_show(session=session, by=None, now=noon(practice, 1))
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


# --- protocol ---------------------------------------------------------------------------


def test_r14_protocol_lasts_10_then_15_then_the_types_default(practice: Practice) -> None:
    course = CourseFactory(practice=practice, booked=3, kind="therapeutic")
    default = massage_type(practice, "therapeutic").default_minutes
    minutes = [session_protocol_for(s).minutes for s in course.sessions.order_by("sequence")]
    assert minutes == [10, 15, default]
    first = session_protocol_for(course.sessions.get(sequence=1))
    assert any(note.rule == "R14" for note in first.notes)
    assert {step.pressure for step in first.steps} == {"light"}


def test_r15_r16_r8_protocol_for_a_hypertensive_patient(practice: Practice) -> None:
    session = SessionFactory(practice=practice, patient__hypertensive=True, screened=True)
    protocol = session_protocol_for(session)
    assert protocol.steps[0].group == "stroking"
    assert protocol.steps[-1].group == "stroking"
    assert protocol.direction == "top_down"
    assert not {step.group for step in protocol.steps} & {"vibration", "percussion"}
    assert protocol.steps[0].zones[0] == "cervical"
    assert {"spine", "kidneys"} <= {a.zone for a in protocol.avoid}


def test_r1_protocol_without_a_valid_screening_says_so(practice: Practice) -> None:
    session = SessionFactory(practice=practice)
    protocol = session_protocol_for(session)
    assert not protocol.allowed
    assert protocol.steps == ()
    assert protocol.blocked_by[0].rule == "R1"


# --- races ------------------------------------------------------------------------------

RACERS = 8


def race(jobs: list) -> list[str]:
    """Run the jobs at once, each in its own thread, connection and transaction."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job) -> None:
        try:
            barrier.wait()
            job()  # in the service's own transaction, as in a request
            outcome = "done"
        except Conflict:
            outcome = "conflict"
        except Exception as error:  # anything else is a failure the assertion shows
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_check_ins_and_completions_take_effect_once(practice: Practice) -> None:
    # The shared catalogue comes from a data migration, which an earlier transactional test's
    # flush empties: load it again with that very migration.
    migration = importlib.import_module("patients.migrations.0004_default_contraindications")
    migration.load_defaults(django_apps, None)
    session = SessionFactory(practice=practice, screened=True)
    outcomes = race([lambda: check_in(session) for _ in range(RACERS)])
    assert sorted(outcomes) == ["conflict"] * (RACERS - 1) + ["done"]
    assert CheckIn.objects.filter(session=session).count() == 1
    session_start(session=session, by=None, now=before_noon(practice))
    outcomes = race([lambda: complete(session) for _ in range(RACERS)])
    assert sorted(outcomes) == ["conflict"] * (RACERS - 1) + ["done"]
    assert SessionRecord.objects.filter(session=session).count() == 1


@pytest.mark.parametrize(
    ("minutes_before", "allowed"),
    [(31, False), (30, True), (0, True), (-180, True)],
    ids=["31 min early", "30 min early", "on time", "three hours late"],
)
def test_a_session_starts_from_30_minutes_before_its_time(
    practice: Practice, minutes_before: int, allowed: bool
) -> None:
    session = SessionFactory(practice=practice, screened=True)
    check_in(session)
    now = noon(practice) - timedelta(minutes=minutes_before)
    if allowed:
        assert session_start(session=session, by=None, now=now).status == (
            SessionStatus.IN_PROGRESS
        )
        return
    with pytest.raises(Conflict) as caught:
        session_start(session=session, by=None, now=now)
    assert "it can start from 11:30 that day" in caught.value.detail
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKED_IN


def test_a_session_does_not_start_hours_early_nor_on_another_day(practice: Practice) -> None:
    # Booked for 00:10: the window opens at midnight, never the evening before.
    session = SessionFactory(
        practice=practice,
        screened=True,
        starts_at=noon(practice, 1) - timedelta(hours=11, minutes=50),
    )
    session_check_in(session=session, answers=all_no(), by=None, now=session.starts_at)
    for moment in (
        session.starts_at - timedelta(minutes=20),  # 23:50 the day before
        session.starts_at + timedelta(days=1),  # the next day
    ):
        with pytest.raises(Conflict) as caught:
            session_start(session=session, by=None, now=moment)
        assert "it can start from 00:00 that day" in caught.value.detail
    assert session_start(session=session, by=None, now=session.starts_at).status == (
        SessionStatus.IN_PROGRESS
    )
