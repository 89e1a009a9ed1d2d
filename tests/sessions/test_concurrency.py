"""R19 under real concurrency: threads with their own PostgreSQL connections race for one slot.

The services' check-first cannot see a booking that is not committed yet; the exclusion
constraint does, and the loser's ExclusionViolation must come back as a 409, not a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import time

import pytest
from django.db import connection

from courses.models import Cadence, Course
from courses.services import CourseRequest
from practice.errors import Conflict
from practice.models import Practice
from sessions.booking.courses import course_book, course_plan
from sessions.booking.sessions import session_book
from sessions.models import Session
from tests.clock import local, today
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory, massage_type

# The threads share this process's clock, which time-machine moves for all of them alike, and
# PostgreSQL's own clock is never read: the tests' frozen clock holds here too.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(jobs: list[Callable[[], object]]) -> list[str]:
    """Run the jobs at once, each in its own thread, connection and transaction."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()  # in the service's own transaction, as in a request
            outcome = "booked"
        except Conflict:
            outcome = "conflict"
        except Exception as error:  # anything else is a failure the assertion will show
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


def test_r19_twenty_threads_booking_one_slot_exactly_one_wins(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    kind = massage_type(practice)
    patients = [PatientFactory(practice=practice) for _ in range(THREADS)]
    starts_at = local(practice, today(practice, days=3), 10)

    def booking(patient) -> Callable[[], object]:
        return lambda: session_book(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=kind,
            starts_at=starts_at,
        )

    outcomes = race([booking(p) for p in patients])
    assert sorted(outcomes) == ["booked"] + ["conflict"] * (THREADS - 1)
    assert Session.objects.count() == 1


def test_r19_courses_racing_over_overlapping_days_one_wins(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    kind = massage_type(practice, "relaxing")
    patients = [PatientFactory(practice=practice) for _ in range(10)]
    for patient in patients:
        ScreeningFactory(patient=patient)

    def request(patient, offset: int) -> CourseRequest:
        # Every-other-day from day 2 and daily from day 3, both at 18:00: they share day 4.
        return CourseRequest(
            practice=practice,
            patient=patient,
            therapist=therapist,
            massage_type=kind,
            start_date=today(practice, days=2 + offset % 2),
            preferred_time=time(18),
            cadence=Cadence.DAILY if offset % 2 else Cadence.EVERY_OTHER_DAY,
        )

    # Each thread books the plan it was shown before anyone booked (a fresh plan would
    # simply avoid the winner's sessions).
    shown = {
        offset: [
            s.starts_at for s in course_plan(request=request(patients[offset], offset)).sessions
        ]
        for offset in (0, 1)
    }

    def booking(patient, offset: int) -> Callable[[], object]:
        return lambda: course_book(request=request(patient, offset), starts=shown[offset % 2])

    outcomes = race([booking(p, n) for n, p in enumerate(patients)])
    assert sorted(outcomes) == ["booked"] + ["conflict"] * (len(patients) - 1)
    assert Course.objects.count() == 1
    assert Session.objects.count() == 10
