"""The factories keep their rows consistent: one practice across related rows, a session's
end and buffer from its start, a course's sessions on its cadence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courses.models import Cadence
from practice.models import Practice
from tests.clock import noon, today
from tests.factories import (
    CourseFactory,
    PatientFactory,
    ReminderFactory,
    SessionFactory,
    SessionRecordFactory,
)

pytestmark = pytest.mark.django_db


def test_a_session_takes_its_practice_from_the_rows_it_is_given(
    practice: Practice, other_practice: Practice
) -> None:
    session = SessionFactory(patient=PatientFactory(practice=practice))
    assert session.practice == practice
    assert session.therapist.practice == practice
    record = SessionRecordFactory(session=SessionFactory(practice=other_practice))
    assert record.practice == other_practice
    reminder = ReminderFactory(session=session)
    assert (reminder.practice, reminder.patient) == (practice, session.patient)


def test_a_session_ends_after_its_minutes_and_blocks_for_the_buffer(practice: Practice) -> None:
    practice.settings.buffer_minutes = 15
    practice.settings.save()
    default = SessionFactory(practice=practice)
    assert default.starts_at == noon(practice)
    assert default.ends_at - default.starts_at == timedelta(
        minutes=default.massage_type.default_minutes
    )
    assert default.blocks_until - default.ends_at == timedelta(minutes=15)
    longer = SessionFactory(practice=practice, kind="sports", minutes=45, buffer=0)
    assert longer.massage_type.code == "sports"
    assert (longer.minutes, longer.blocks_until) == (45, longer.ends_at)


def test_a_course_books_its_sessions_on_its_cadence_for_its_patient(practice: Practice) -> None:
    course = CourseFactory(practice=practice, cadence=Cadence.DAILY, booked=3)
    sessions = list(course.sessions.order_by("sequence"))
    assert [s.sequence for s in sessions] == [1, 2, 3]
    assert [s.starts_at for s in sessions] == [noon(practice, days) for days in range(3)]
    assert {(s.patient, s.therapist, s.massage_type) for s in sessions} == {
        (course.patient, course.therapist, course.massage_type)
    }
    assert course.screening.patient == course.patient
    bare = CourseFactory(patient=course.patient, bare=True, start_date=today(practice, -100))
    assert bare.screening is None
    assert not bare.sessions.exists()
