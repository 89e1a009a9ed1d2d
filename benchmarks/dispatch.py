"""`make bench` figure: reminder dispatcher throughput (R21, R22) with the console backends.

10,000 due reminders, half email and half SMS, for 100 future sessions of the bench practice;
one dispatcher (one send task's work, in this process) sends them all as in production: claimed
in chunks, REMINDER_SEND_CONCURRENCY at once. Emails go to Django's console backend with its
output thrown away; SMS to the console SMS backend, so this is the dispatcher's own cost.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time as clock
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.test.utils import override_settings
from django.utils import timezone

from benchmarks.data import World
from patients.models import Patient
from sessions.models import Channel, Reminder, Session
from sessions.reminders.channels import ConsoleSmsBackend
from sessions.reminders.dispatch import reminders_dispatch
from sessions.reminders.messages import ReminderKind

REMINDERS = 10_000
SESSIONS = 100
RUNS = 3


def _sessions(world: World) -> list[Session]:
    """100 sessions 60 days ahead: ten therapists, ten back-to-back slots each."""
    practice = world.practice
    day = (timezone.now() + timedelta(days=60)).astimezone(practice.zone).date()
    start = datetime.combine(day, time(8), tzinfo=practice.zone)
    patients = world.patients[1500 : 1500 + SESSIONS]
    Patient.objects.filter(pk__in=[p.pk for p in patients]).update(
        consent_email=True, consent_sms=True, consent_given_on=day - timedelta(days=90)
    )
    for number, patient in enumerate(patients):
        Patient.objects.filter(pk=patient.pk).update(
            email=f"bench{number}@example.org", phone=f"+4915100{number:05d}"
        )
    rows = []
    for index in range(SESSIONS):
        starts_at = start + timedelta(minutes=70 * (index // len(world.therapists)))
        rows.append(
            Session(
                practice=practice,
                patient=patients[index],
                therapist=world.therapists[index % len(world.therapists)],
                massage_type=world.massage_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=60),
                blocks_until=starts_at + timedelta(minutes=70),
            )
        )
    return Session.objects.bulk_create(rows)


def _queue(sessions: list[Session], run: int) -> None:
    due_at = timezone.now() - timedelta(minutes=1)
    per_session = REMINDERS // len(sessions)
    Reminder.objects.bulk_create(
        (
            Reminder(
                practice_id=session.practice_id,
                patient_id=session.patient_id,
                session=session,
                kind=ReminderKind.FIRST_REMINDER,
                channel=Channel.EMAIL if number % 2 else Channel.SMS,
                due_at=due_at,
                send_after=due_at,
                session_version=session.schedule_version,
                dedupe_key=f"bench:{run}:{session.pk}:{number}",
            )
            for session in sessions
            for number in range(per_session)
        ),
        batch_size=2000,
    )


def dispatcher_throughput(world: World) -> Iterator[str]:
    from benchmarks.figures import line

    sessions = _sessions(world)
    rates = []
    try:
        for run in range(RUNS):
            _queue(sessions, run)
            ConsoleSmsBackend.clear()
            with (
                override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                begin = clock.perf_counter()
                report = reminders_dispatch(time_budget=600)
                seconds = clock.perf_counter() - begin
            if report.sent != REMINDERS:
                raise RuntimeError(f"dispatcher sent {report.sent} of {REMINDERS}: {report}")
            rates.append(REMINDERS / seconds)
    finally:
        ConsoleSmsBackend.clear()
        Reminder.objects.filter(session__in=sessions).delete()
        Session.objects.filter(pk__in=[s.pk for s in sessions]).delete()
    yield line("dispatcher_throughput_10k_reminders", statistics.median(rates), "reminders/s", RUNS)
