"""The course lifecycle between bookings: the next course due (R11), its proposed type (R12),
interrupted courses (R13), and the Celery tasks and beat entries that run them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from courses.models import Course, CourseStatus
from courses.rules import (
    SPREAD,
    YEAR,
    r11_course_due,
    r11_most_courses_in_a_year,
    r11_next_course_due_on,
)
from courses.selectors import r12_proposed_type
from patients.models import Patient
from practice.celery import app
from practice.models import Practice
from sessions.models import Channel, Reminder, SessionStatus
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from sessions.tasks import flag_interrupted_courses, remind_next_course_due
from tests.clock import local
from tests.factories import CourseFactory, PatientFactory, ScreeningFactory, SessionFactory

JAN_1 = date(2026, 1, 1)
JUNE_1 = date(2026, 6, 1)

# The day the courses below start, at 06:00 UTC.
pytestmark = pytest.mark.clock(datetime.combine(JUNE_1, time(6), tzinfo=UTC))


def test_r11_the_next_course_is_due_a_quarter_after_the_last_one_started() -> None:
    assert r11_next_course_due_on([JAN_1]) == JAN_1 + timedelta(days=91)


def test_r11_the_next_course_waits_until_fewer_than_two_started_in_a_year() -> None:
    due = r11_next_course_due_on([date(2025, 9, 1), JAN_1, date(2026, 5, 1)])

    # A quarter after May, January and May would be two in the year; a year after January
    # only May is left.
    assert due == date(2027, 1, 1)


def test_r11_a_patient_without_a_course_has_no_due_day_to_wait_for() -> None:
    assert r11_next_course_due_on([]) is None


@given(
    st.lists(st.integers(min_value=0, max_value=1500), min_size=1, max_size=8, unique=True),
)
def test_r11_the_due_day_is_the_first_a_chronic_patient_is_due_after_the_spread(
    offsets: list[int],
) -> None:
    starts = [JAN_1 + timedelta(days=n) for n in offsets]
    last = max(starts)

    due = r11_next_course_due_on(starts)

    assert due is not None
    assert due >= last + SPREAD
    assert r11_course_due(starts, due, chronic_plan=True)
    assert r11_most_courses_in_a_year(starts, due) <= 4
    # And not later than needed: the day before it was too early or still had two in a year.
    before = due - timedelta(days=1)
    assert before < last + SPREAD or not r11_course_due(starts, before, chronic_plan=True)
    assert due - last <= YEAR


@pytest.mark.django_db
def test_r12_the_proposed_type_is_the_next_in_the_rotation_the_screening_allows(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, consenting=True, allergic_to_honey=True)
    ScreeningFactory(patient=patient, screened_on=date(2026, 5, 30))
    course = CourseFactory(patient=patient, kind="lymphatic", start_date=JUNE_1, bare=True)

    # After lymphatic drainage the rotation says honey, which the allergy blocks (R4).
    assert r12_proposed_type(course).code == "self"
    classical = CourseFactory(patient=patient, kind="classical", start_date=JUNE_1, bare=True)
    assert r12_proposed_type(classical).code == "relaxing"


def course_of(patient: Patient, start: date, **fields: object) -> Course:
    return CourseFactory(patient=patient, kind="classical", start_date=start, bare=True, **fields)


def chronic(practice: Practice, **fields: object) -> Patient:
    fields.setdefault("consent_email", True)
    return PatientFactory(practice=practice, chronic_plan=True, **fields)


def nudges(**filters: object) -> list[Reminder]:
    return list(Reminder.objects.filter(kind=ReminderKind.COURSE_NEXT_DUE, **filters))


@pytest.mark.django_db
def test_r11_the_daily_task_nudges_each_due_patient_once_even_when_run_twice(
    practice: Practice,
) -> None:
    due = chronic(practice)
    last = course_of(due, date(2026, 3, 10), status=CourseStatus.COMPLETED)  # due June 9
    first_course = chronic(practice)  # no course yet: due at once
    later = chronic(practice)
    course_of(later, date(2026, 5, 20))  # due in August: not yet
    booked = chronic(practice)
    course_of(booked, date(2026, 3, 1))
    course_of(booked, date(2026, 6, 10))  # the next one is booked already
    course_of(PatientFactory(practice=practice, consent_email=True), date(2026, 1, 10))

    assert remind_next_course_due.apply().get() == 2
    remind_next_course_due.apply().get()

    assert {(r.patient_id, r.course_id) for r in nudges()} == {
        (due.pk, last.pk),
        (first_course.pk, None),
    }
    [nudge] = nudges(patient=due)
    assert nudge.details == {"due_on": "2026-06-09", "massage_type_name": "Relaxing"}


@pytest.mark.django_db
def test_r11_a_patient_with_no_course_yet_is_sent_a_nudge_for_the_first(
    practice: Practice, mailoutbox: list
) -> None:
    chronic(practice)
    remind_next_course_due.apply().get()
    [nudge] = nudges()

    reminders_dispatch(now=nudge.due_at)

    [mail] = mailoutbox
    assert "June 1, 2026" in mail.body
    assert "Classical" in mail.body  # R12: the rotation's first type


@pytest.mark.django_db
def test_r11_a_nudge_goes_out_at_ten_in_the_morning_in_each_practices_zone(
    practice: Practice, other_practice: Practice, clock
) -> None:
    berlin = chronic(practice)
    new_york = chronic(other_practice)
    # 15:00 in Berlin, past its hour: tomorrow's; 09:00 in New York: today's.
    clock.move_to(datetime(2026, 6, 1, 13, tzinfo=UTC))

    remind_next_course_due.apply().get()

    [tomorrow] = nudges(patient=berlin)
    assert tomorrow.due_at == local(practice, date(2026, 6, 2), 10)
    assert tomorrow.details["due_on"] == "2026-06-02"
    [today] = nudges(patient=new_york)
    assert today.due_at == local(other_practice, JUNE_1, 10)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "sms", "expected"),
    [(True, False, {Channel.EMAIL}), (False, True, {Channel.SMS}), (False, False, set())],
)
def test_r11_the_nudge_uses_only_the_channels_the_patient_consented_to(
    practice: Practice, email: bool, sms: bool, expected: set[str]
) -> None:
    patient = chronic(practice, consent_email=email, consent_sms=sms, phone="+4915112345678")

    remind_next_course_due.apply().get()

    assert {r.channel for r in nudges(patient=patient)} == expected


@pytest.mark.django_db
def test_r11_a_new_due_period_after_the_next_course_gets_its_own_nudge(
    practice: Practice, clock
) -> None:
    patient = chronic(practice)
    remind_next_course_due.apply().get()
    course = course_of(patient, date(2026, 6, 3))
    # A quarter later, less the notice: due on September 2.
    clock.move_to(datetime(2026, 8, 20, 6, tzinfo=UTC))

    remind_next_course_due.apply().get()
    remind_next_course_due.apply().get()

    assert [(r.course_id, r.details["due_on"]) for r in nudges(patient=patient)] == [
        (None, "2026-06-01"),
        (course.pk, "2026-09-02"),
    ]


def missed(course: Course, statuses: list[SessionStatus], *, late: bool = True) -> None:
    """Sessions in these states at the course's positions; the cancelled ones late or not."""
    start = datetime.combine(JUNE_1, time(8), tzinfo=course.practice.zone)
    for position, status in enumerate(statuses, start=1):
        SessionFactory(
            course=course,
            sequence=position,
            starts_at=start + timedelta(days=2 * position),
            status=status,
            late_cancellation=late and status == SessionStatus.CANCELLED,
        )


@pytest.mark.django_db
def test_r13_the_sweep_flags_courses_with_more_than_two_missed_in_a_row(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, consenting=True)
    done, gone = SessionStatus.COMPLETED, SessionStatus.NO_SHOW
    interrupted = CourseFactory(
        patient=patient, kind="classical", start_date=JUNE_1, bare=True, status=CourseStatus.ACTIVE
    )
    missed(interrupted, [done, gone, SessionStatus.CANCELLED, gone])
    scattered = CourseFactory(
        patient=patient, kind="relaxing", start_date=JUNE_1, bare=True, status=CourseStatus.ACTIVE
    )
    missed(scattered, [gone, gone, done, gone, gone])
    # Cancellations in time are no misses, however many in a row.
    excused = CourseFactory(
        patient=PatientFactory(practice=practice, consenting=True),
        kind="classical",
        start_date=JUNE_1,
        bare=True,
        status=CourseStatus.ACTIVE,
    )
    missed(excused, [done, *[SessionStatus.CANCELLED] * 3], late=False)

    assert flag_interrupted_courses.apply().get() == 1
    assert flag_interrupted_courses.apply().get() == 0

    interrupted.refresh_from_db()
    scattered.refresh_from_db()
    excused.refresh_from_db()
    assert interrupted.status == CourseStatus.INTERRUPTED
    assert scattered.status == CourseStatus.ACTIVE
    assert excused.status == CourseStatus.ACTIVE


def test_r21_beat_sweeps_the_outbox_every_5_seconds_and_runs_the_lifecycle_tasks() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    dispatch = schedule["dispatch-due-reminders"]
    assert dispatch["task"] == "sessions.tasks.dispatch_due_reminders"
    assert dispatch["schedule"] == 5.0
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    # What the sweep queues.
    assert "sessions.tasks.send_due_reminders" in app.tasks


def test_r11_beat_runs_the_next_course_nudge_once_a_day() -> None:
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == remind_next_course_due.name
    ]
    daily = entry["schedule"]

    assert isinstance(daily, crontab)
    assert (len(daily.minute), len(daily.hour)) == (1, 1)
    assert daily.day_of_week == set(range(7))
    assert (len(daily.day_of_month), len(daily.month_of_year)) == (31, 12)
