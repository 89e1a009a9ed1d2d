"""Course progress: sessions done and left, R13's missed run, pain (R18) and blood pressure
(R7) per session, through the selector and on the course's detail endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Cadence, Course
from practice.models import Practice, Role
from sessions.booking.sessions import session_cancel
from sessions.day.check_in import session_check_in
from sessions.day.running import session_complete, session_no_show, session_start
from sessions.selectors import course_progress
from tests.clock import local, noon, today
from tests.factories import CourseFactory, PatientFactory, SessionFactory, all_no, good_record

pytestmark = pytest.mark.django_db


def completed_on(course: Course, sequence: int, *, pain: tuple[int, int], bp=(None, None)):
    """Session `sequence` (on day sequence - 1) checked in, started and completed."""
    practice = course.practice
    session = course.sessions.get(sequence=sequence)
    day = sequence - 1
    before = noon(practice, day) - timedelta(minutes=5)
    session_check_in(
        session=session, answers=all_no(), systolic=bp[0], diastolic=bp[1], by=None, now=before
    )
    session_start(session=session, by=None, now=before)
    session_complete(
        session=session,
        by=None,
        now=noon(practice, day),
        systolic_after=bp[0] - 5 if bp[0] else None,
        diastolic_after=bp[1] - 5 if bp[1] else None,
        **good_record(pain_before=pain[0], pain_after=pain[1]),
    )


def test_progress_counts_done_left_missed_and_the_trend(practice: Practice) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY)
    completed_on(course, 1, pain=(6, 3), bp=(130, 85))
    completed_on(course, 2, pain=(5, 2))
    third = course.sessions.get(sequence=3)
    session_check_in(
        session=third,
        answers=all_no(),
        systolic=170,
        diastolic=100,
        by=None,
        now=noon(practice, 2) - timedelta(minutes=5),
    )
    session_no_show(session=course.sessions.get(sequence=4), by=None, now=noon(practice, 3))
    course.refresh_from_db()

    progress = course_progress(course)

    assert (progress.planned, progress.done, progress.left, progress.to_come) == (10, 2, 8, 6)
    # R13: the session stopped at check-in was cancelled for a medical reason, no miss.
    assert (progress.missed, progress.missed_in_a_row) == (1, 1)
    assert progress.flagged is False
    assert progress.paused is True  # R8 at the third check-in; nothing started since
    first, second, stopped, missed = progress.sessions[:4]
    assert (first.pain_before, first.pain_after) == (6, 3)
    assert (first.systolic_before, first.diastolic_before) == (130, 85)
    assert (first.systolic_after, first.diastolic_after) == (125, 80)
    assert (second.pain_before, second.pain_after, second.systolic_before) == (5, 2, None)
    assert (stopped.status, stopped.systolic_before, stopped.pain_before) == (
        "cancelled",
        170,
        None,
    )
    assert (missed.status, missed.systolic_before) == ("no_show", None)
    assert [s.sequence for s in progress.sessions] == list(range(1, 11))


def test_r13_progress_flags_more_than_two_missed_in_a_row(practice: Practice) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY)
    later = noon(practice, 10)
    for sequence in (2, 3):
        session_no_show(session=course.sessions.get(sequence=sequence), by=None, now=later)
    course.refresh_from_db()
    assert course_progress(course).flagged is False
    session_no_show(session=course.sessions.get(sequence=4), by=None, now=later)
    course.refresh_from_db()
    progress = course_progress(course)
    assert progress.missed_in_a_row == 3
    assert progress.flagged is True


def test_r13_only_no_shows_and_late_cancellations_count_as_missed(
    practice: Practice, member, api_as
) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY)
    in_time, late, medical, absent = (course.sessions.get(sequence=n) for n in (2, 3, 4, 5))
    session_cancel(session=in_time, by=None, now=in_time.starts_at - timedelta(days=2))
    session_cancel(session=late, by=None, now=late.starts_at - timedelta(hours=1))
    # Stopped at check-in (R8): cancelled on the day, but for the patient's health.
    session_cancel(session=medical, by=None, now=medical.starts_at, medical=True)
    session_no_show(session=absent, by=None, now=absent.starts_at + timedelta(hours=1))

    progress = course_progress(course)
    listed = api_as(member(practice, Role.FRONT_DESK)).get("/api/v1/courses/").json()

    assert progress.missed == 2
    # The excused absence between the late cancellation and the no-show leaves them in a row.
    assert progress.missed_in_a_row == 2
    assert progress.flagged is False
    assert listed["results"][0]["progress"]["missed"] == 2


def test_a_rebooked_missed_session_is_not_missed(practice: Practice) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY, booked=3)
    second = course.sessions.get(sequence=2)
    session_no_show(session=second, by=None, now=noon(practice, 5))
    SessionFactory(
        course=course,
        sequence=2,
        starts_at=local(practice, today(practice, days=4), 15),
    )
    progress = course_progress(course)
    assert (progress.missed, progress.missed_in_a_row, progress.to_come) == (0, 0, 3)


def test_course_detail_shows_progress_in_constant_queries(
    practice: Practice, member, api_as
) -> None:
    staff = member(practice, Role.FRONT_DESK)
    client = api_as(staff)
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY)

    def read() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/courses/{course.pk}/")
        assert response.status_code == 200
        return response.json(), len(queries)

    completed_on(course, 1, pain=(6, 3))
    one, queries_with_one = read()
    for sequence in (2, 3, 4):
        completed_on(course, sequence, pain=(5, 2))
    four, queries_with_four = read()
    assert queries_with_one == queries_with_four
    assert one["course_progress"]["done"] == 1
    assert four["course_progress"]["done"] == 4
    assert four["course_progress"]["left"] == 6
    assert four["course_progress"]["sessions"][3]["pain_after"] == 2
    assert four["status"] == "active"
    assert four["paused_at"] is None


def test_progress_is_read_only_by_its_patient_and_its_practice(
    practice: Practice, other_practice: Practice, member, api_as
) -> None:
    alice_user, bob_user = member(practice, Role.PATIENT), member(practice, Role.PATIENT)
    alice = PatientFactory(practice=practice, user=alice_user)
    PatientFactory(practice=practice, user=bob_user)
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY, patient=alice, booked=1)
    detail = f"/api/v1/courses/{course.pk}/"
    assert api_as(alice_user).get(detail).json()["course_progress"]["planned"] == 10
    assert api_as(bob_user).get(detail).status_code == 404
    outsider = member(other_practice, Role.MANAGER)
    assert api_as(outsider).get(detail).status_code == 404
