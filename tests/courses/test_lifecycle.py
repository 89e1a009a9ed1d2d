"""The course lifecycle between bookings: the next course due (R11), its proposed type (R12),
interrupted courses (R13), and the Celery tasks and beat entries that run them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

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
from tests.factories import CourseFactory, PatientFactory, ScreeningFactory, SessionFactory

JAN_1 = date(2026, 1, 1)
JUNE_1 = date(2026, 6, 1)

# The day the courses below start, at 06:00 UTC.
pytestmark = pytest.mark.clock(datetime.combine(JUNE_1, time(6), tzinfo=UTC))


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


def finished_course(practice: Practice, **patient_fields: object) -> Course:
    patient = PatientFactory(practice=practice, consent_email=True, **patient_fields)
    ScreeningFactory(patient=patient, screened_on=date(2026, 5, 30))
    return CourseFactory(
        patient=patient,
        kind="classical",
        start_date=JUNE_1,
        bare=True,
        status=CourseStatus.COMPLETED,
    )


@pytest.mark.django_db
def test_r11_the_sweep_nudges_each_finished_chronic_course_once(practice: Practice) -> None:
    due = finished_course(practice, chronic_plan=True)
    finished_course(practice, chronic_plan=False)
    followed = finished_course(practice, chronic_plan=True)
    CourseFactory(patient=followed.patient, kind="relaxing", start_date=date(2026, 8, 1), bare=True)

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


def test_r21_beat_sweeps_the_outbox_every_minute_and_runs_the_lifecycle_tasks() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    dispatch = schedule["dispatch-due-reminders"]
    assert dispatch["task"] == "sessions.tasks.dispatch_due_reminders"
    assert dispatch["schedule"] == 60.0
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
