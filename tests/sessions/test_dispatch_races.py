"""R22 under a race, in-process: a session cancelled or moved while the dispatcher is sending
its reminder to a provider that does not answer. No lock is held during the send, so the cancel
or move commits at once; the send in flight cannot mark its row sent afterwards, and the move's
own rows follow; nothing deadlocks and nothing is left half-done."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import connection

from practice.models import Practice
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.models import ReminderStatus, Session
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


def send_held(practice: Practice, held: type[HeldSmsBackend]) -> tuple[Session, Callable[[], None]]:
    """A booked session whose confirmation the dispatcher is sending right now, held at the
    provider; returns the session and a function that lets the send finish."""
    patient = PatientFactory(practice=practice, consent_sms=True)
    session = book(practice, local(practice, TUESDAY, 10), patient=patient)
    dispatcher, errors = in_thread(lambda: reminders_dispatch(now=NOW))
    assert held.entered.wait(WAIT_SECONDS), "the dispatcher never reached the send"

    def finish() -> None:
        held.release.set()
        dispatcher.join(WAIT_SECONDS)
        assert not dispatcher.is_alive(), "the dispatcher is stuck"
        assert errors == []

    return session, finish


def timed(work: Callable[[], object]) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def test_r22_a_cancel_during_a_slow_send_commits_at_once(
    practice: Practice, held: type[HeldSmsBackend]
) -> None:
    session, finish = send_held(practice, held)

    seconds = timed(lambda: session_cancel(session=session, by=None, now=NOW))

    # Before the lease, the cancel waited for the send's row lock: as long as the provider
    # took (up to its timeout). Now it does not wait at all.
    assert seconds < 1.0, f"the cancel waited {seconds:.2f} s for the send"
    assert not held.release.is_set(), "the send is still held at the provider"
    finish()
    confirmation = rows(session, kind=ReminderKind.BOOKING_CONFIRMATION)[0]
    # The send in flight went out, and recording it did not bring the row back.
    assert confirmation.status == ReminderStatus.CANCELLED
    assert confirmation.sent_at is not None
    assert confirmation.provider_message_id == "held-1"
    # All but the notice of the cancel itself (R21), which the patient is to get.
    notice = ReminderKind.SESSION_CANCELLED
    assert {r.status for r in rows(session) if r.kind != notice} == {ReminderStatus.CANCELLED}


def test_r22_a_move_during_a_slow_send_commits_at_once_and_gets_its_own_reminders(
    practice: Practice, held: type[HeldSmsBackend]
) -> None:
    session, finish = send_held(practice, held)
    new_time = local(practice, TUESDAY + timedelta(days=1), 15)

    # The move comes a moment after the sweep began: its new confirmation is due after the
    # sweep's cutoff, so this sweep leaves it to the next.
    seconds = timed(
        lambda: session_reschedule(
            session=session, starts_at=new_time, now=NOW + timedelta(seconds=1)
        )
    )

    assert seconds < 1.0, f"the move waited {seconds:.2f} s for the send"
    finish()
    old = {r.kind: r.status for r in rows(session, session_version=1)}
    assert set(old.values()) == {ReminderStatus.CANCELLED}
    new = rows(session, session_version=2)
    assert {r.status for r in new} == {ReminderStatus.PENDING}
    # Moved by the practice: a notice of the move in place of a confirmation (R21).
    assert {r.kind for r in new} == {
        ReminderKind.SESSION_MOVED,
        ReminderKind.FIRST_REMINDER,
        ReminderKind.SECOND_REMINDER,
    }
