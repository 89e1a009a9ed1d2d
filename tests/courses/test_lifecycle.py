"""The course lifecycle between bookings: the next course due (R11), its proposed type (R12),
interrupted courses (R13), and the Celery tasks and beat entries that run them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from courses.models import Course, CourseStatus
from courses.rules import SPREAD, YEAR, r11_most_courses_in_a_year, r11_next_course_due_on
from courses.selectors import r12_proposed_type
from practice.celery import app
from practice.models import Practice
from sessions.models import Reminder, SessionStatus
from sessions.reminders.messages import ReminderKind
from sessions.tasks import (
    flag_interrupted_courses,
    remind_next_course_due,
    remind_next_courses_due,
)
from tests.factories import TherapistFactory, massage_type
from tests.patients.factories import cleared_screening
from tests.sessions.factories import session_row
from tests.sessions.outbox import consenting_patient

JAN_1 = date(2026, 1, 1)


def test_r11_the_next_course_is_due_a_quarter_after_the_last_one_started() -> None:
    assert r11_next_course_due_on([JAN_1], JAN_1) == JAN_1 + timedelta(days=91)


def test_r11_the_next_course_waits_until_a_fifth_in_a_year_is_no_longer_one() -> None:
    starts = [JAN_1, date(2026, 3, 1), date(2026, 5, 1), date(2026, 7, 1)]

    due = r11_next_course_due_on(starts, date(2026, 7, 1))

    # September would be the fifth since January; a year after January it is the fourth.
    assert due == date(2027, 1, 1)


@given(
    st.lists(st.integers(min_value=0, max_value=1500), min_size=1, max_size=8, unique=True),
)
def test_r11_the_due_day_never_breaks_the_yearly_limit(offsets: list[int]) -> None:
    starts = [JAN_1 + timedelta(days=n) for n in offsets]
    last = max(starts)

    due = r11_next_course_due_on(starts, last)

    assert due >= last + SPREAD
    assert r11_most_courses_in_a_year(starts, due) <= 4
    # And not later than needed: the day before it was either too early or over the limit.
    before = due - timedelta(days=1)
    assert before < last + SPREAD or r11_most_courses_in_a_year(starts, before) > 4
    assert due - last <= YEAR + SPREAD


def course_of(practice: Practice, patient, code: str, **fields: object) -> Course:
    return Course.objects.create(
        practice=practice,
        patient=patient,
        therapist=TherapistFactory(practice=practice),
        massage_type=massage_type(practice, code),
        start_date=fields.pop("start_date", date(2026, 6, 1)),
        preferred_time=time(10),
        **fields,
    )


@pytest.mark.django_db
def test_r12_the_proposed_type_is_the_next_in_the_rotation_the_screening_allows(
    practice: Practice,
) -> None:
    patient = consenting_patient(practice, allergic_to_honey=True)
    cleared_screening(patient, on=date(2026, 5, 30))
    course = course_of(practice, patient, "lymphatic")

    # After lymphatic drainage the rotation says honey, which the allergy blocks (R4).
    assert r12_proposed_type(course).code == "self"
    assert r12_proposed_type(course_of(practice, patient, "classical")).code == "relaxing"


def finished_course(practice: Practice, **patient_fields: object) -> Course:
    patient = consenting_patient(practice, sms=False, **patient_fields)
    cleared_screening(patient, on=date(2026, 5, 30))
    return course_of(practice, patient, "classical", status=CourseStatus.COMPLETED)


@pytest.mark.django_db
def test_r11_the_sweep_nudges_each_finished_chronic_course_once(practice: Practice) -> None:
    due = finished_course(practice, chronic_plan=True)
    finished_course(practice, chronic_plan=False)
    followed = finished_course(practice, chronic_plan=True)
    course_of(practice, followed.patient, "relaxing", start_date=date(2026, 8, 1))

    assert remind_next_courses_due.apply().get() == 1
    assert remind_next_courses_due.apply().get() == 0

    [nudge] = Reminder.objects.filter(kind=ReminderKind.COURSE_NEXT_DUE)
    assert (nudge.course_id, nudge.patient_id) == (due.pk, due.patient_id)
    assert nudge.details == {"due_on": "2026-08-31", "massage_type_name": "Relaxing"}


@pytest.mark.django_db
def test_r11_the_nudge_task_for_one_course_is_safe_to_run_twice(practice: Practice) -> None:
    course = finished_course(practice, chronic_plan=True)

    assert remind_next_course_due.apply(args=[course.pk]).get() == 1
    remind_next_course_due.apply(args=[course.pk]).get()

    assert Reminder.objects.filter(course=course).count() == 1


def missed(course: Course, statuses: list[SessionStatus]) -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=course.practice.zone)
    for position, status in enumerate(statuses, start=1):
        row = session_row(
            therapist=course.therapist,
            patient=course.patient,
            starts_at=start + timedelta(days=2 * position),
            status=status,
        )
        type(row).objects.filter(pk=row.pk).update(course=course, sequence=position)


@pytest.mark.django_db
def test_r13_the_sweep_flags_courses_with_more_than_two_missed_in_a_row(
    practice: Practice,
) -> None:
    patient = consenting_patient(practice)
    done, gone = SessionStatus.COMPLETED, SessionStatus.NO_SHOW
    interrupted = course_of(practice, patient, "classical", status=CourseStatus.ACTIVE)
    missed(interrupted, [done, gone, SessionStatus.CANCELLED, gone])
    scattered = course_of(practice, patient, "relaxing", status=CourseStatus.ACTIVE)
    missed(scattered, [gone, gone, done, gone, gone])

    assert flag_interrupted_courses.apply().get() == 1
    assert flag_interrupted_courses.apply().get() == 0

    interrupted.refresh_from_db()
    scattered.refresh_from_db()
    assert interrupted.status == CourseStatus.INTERRUPTED
    assert scattered.status == CourseStatus.ACTIVE


def test_r21_beat_sweeps_the_outbox_every_minute_and_runs_the_lifecycle_tasks() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    dispatch = schedule["dispatch-due-reminders"]
    assert dispatch["task"] == "sessions.tasks.dispatch_due_reminders"
    assert dispatch["schedule"] == 60.0
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
