"""R22 under a race, in-process: a session moved while the dispatcher is sending its
reminder. The move waits for the dispatcher's row lock, so the reminder in flight is recorded
as sent and the move's own rows follow; nothing deadlocks and nothing is left half-done."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import connection

from practice.models import Practice
from sessions.booking.sessions import session_reschedule
from sessions.models import ReminderStatus
from sessions.reminders.channels import SmsBackend
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind
from tests.clock import local
from tests.factories import PatientFactory
from tests.sessions.outbox import NOW, TUESDAY, book, rows

# The threads share this process's clock, which time-machine moves for all of them alike (and
# PostgreSQL's own clock is never read), so the race runs at NOW like the rest of the outbox
# tests.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.clock(NOW),
]

WAIT_SECONDS = 20


class HeldSmsBackend(SmsBackend):
    """Announces that a send has begun, then waits to be let go."""

    entered: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()

    def send(self, *, to: str, text: str, sender: str = "", idempotency_key: str = "") -> str:
        type(self).entered.set()
        if not type(self).release.wait(WAIT_SECONDS):
            raise RuntimeError("the test never released the send")
        return "held-1"


@pytest.fixture
def held(settings: Any) -> Iterator[type[HeldSmsBackend]]:
    settings.REMINDER_SMS_BACKEND = f"{__name__}.HeldSmsBackend"
    HeldSmsBackend.entered = threading.Event()
    HeldSmsBackend.release = threading.Event()
    yield HeldSmsBackend
    HeldSmsBackend.release.set()


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            # Each thread has its own connection; the test database is dropped at the end.
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def wait_until_someone_waits_for_a_lock() -> None:
    """Until the move is queued behind the dispatcher's row lock (as PostgreSQL reports)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                pytest.fail("the move never waited for the dispatcher's lock")
            time.sleep(0.05)


def test_r22_a_move_during_a_send_waits_and_leaves_every_row_decided(
    practice: Practice, held: type[HeldSmsBackend]
) -> None:
    patient = PatientFactory(practice=practice, consent_sms=True)
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)
    new_time = local(practice, TUESDAY + timedelta(days=1), 15)

    dispatcher, dispatch_errors = in_thread(lambda: reminders_dispatch(now=NOW))
    assert held.entered.wait(WAIT_SECONDS), "the dispatcher never reached the send"
    # The move comes a moment after the sweep began: its new confirmation is due after the
    # sweep's cutoff. (Due at the very same instant, the sweep could claim and send it too,
    # whenever the move commits before the sweep's next claim, and the test would fail now
    # and then for a send that is correct.)
    mover, move_errors = in_thread(
        lambda: session_reschedule(
            session=session, starts_at=new_time, now=NOW + timedelta(seconds=1)
        )
    )
    wait_until_someone_waits_for_a_lock()
    held.release.set()
    dispatcher.join(WAIT_SECONDS)
    mover.join(WAIT_SECONDS)

    assert not dispatcher.is_alive(), "the dispatcher is stuck"
    assert not mover.is_alive(), "the move is stuck"
    assert dispatch_errors == []
    assert move_errors == []
    old = {r.kind: r.status for r in rows(session, session_version=1)}
    # Sent before the move committed (the move waited for it), and it stays sent.
    assert old[ReminderKind.BOOKING_CONFIRMATION] == ReminderStatus.SENT
    assert old[ReminderKind.FIRST_REMINDER] == ReminderStatus.CANCELLED
    assert old[ReminderKind.SECOND_REMINDER] == ReminderStatus.CANCELLED
    new = rows(session, session_version=2)
    assert {r.status for r in new} == {ReminderStatus.PENDING}
    assert {r.kind for r in new} == {
        ReminderKind.BOOKING_CONFIRMATION,
        ReminderKind.FIRST_REMINDER,
        ReminderKind.SECOND_REMINDER,
    }
