"""Sending the reminder outbox's due rows (R21, R22); the rows are written by
`sessions.reminders.outbox`.

Sending. Beat sweeps every REMINDER_DISPATCH_INTERVAL seconds (5): a sweep only counts what is
due (one indexed query) and queues send tasks, one per REMINDER_SEND_CONCURRENCY due rows, at
most REMINDER_DISPATCH_FANOUT (`sessions.tasks`). Each runs `reminders_dispatch()`, which sends
the due rows, taking a batch from each practice in turn so that no practice's backlog holds up
another's (R21), with up to REMINDER_SEND_CONCURRENCY sends in flight at once (threads that only
wait on the provider; every query stays in the task's own thread), until nothing due is free.
So throughput grows with the workers and with the provider's concurrency, not with the beat
interval, and a reminder falling due between sweeps waits at most one interval.

Claim, send, record (R22). No database lock is held while a provider is called, so a front
desk's cancel or move never waits for an SMS provider or an SMTP server:
1. Claim, in a short transaction: lock the next due rows, as many as there are free sending
   threads (`FOR UPDATE SKIP LOCKED`, so two workers never take the same one), check each is
   still current (the session neither cancelled, moved nor begun, consent still given:
   `reminder_stale_reason`) and lease it: status `sending`, `lease_owner` this dispatcher,
   `lease_expires_at` now + REMINDER_LEASE_SECONDS.
2. Send, with no transaction open, each in a thread of its own, all at once.
3. Record the outcome with a conditional update that only applies while the row is still
   `sending` under our lease. A cancel or move in the meantime cancels `sending` rows as well as
   pending ones, so recording never brings a cancelled row back (it only notes on it that the
   message went out); the staleness check runs in step 1, the moment before the send.
A worker that dies between 1 and 3 leaves its rows `sending` (at most the sends it had in
flight: a row is claimed only when a thread is free to send it at once); once the lease runs out
the next sweep takes them again and sends them with the same idempotency key. Each is sent at
most once per lease: the claim hands a row to one dispatcher, which sends it once.

The guarantee, per channel: at least once, made "delivered once" by the idempotency key (the
practice, the dedupe key and the address), which every resend of a message repeats.
- SMS (HTTP provider): the key travels as the `Idempotency-Key` header; a provider that honours
  it delivers a resend once (one that ignores it delivers it again). The console backend
  delivers a key once.
- Email: SMTP has no such header; the message carries a fixed `Message-ID` made from the key,
  so a resend is recognisably the same message (many clients collapse it) but can reach the
  mailbox twice.
Resends happen only when the outcome of a send is unknown: the worker died mid-send (lease
expiry), or the provider or SMTP server took the message and timed out before answering
(`UnknownDeliveryOutcome`). An unknown outcome is retried with backoff and the same key, and
never counts towards REMINDER_MAX_ATTEMPTS: only answered failures can mark a reminder failed,
so one the patient has is never shown as failed. (It is retried until it is answered or stale:
a session's reminders end when the session begins.) Two workers, a redelivered task or a task run
twice never duplicate anything: the claim decides.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from time import monotonic

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from practice.models import MassageType, Practice, Therapist
from sessions.models import Reminder, ReminderStatus
from sessions.reminders.alerts import reminder_failures_alert
from sessions.reminders.channels import (
    Channel,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnknownDeliveryOutcome,
    channel_for,
)
from sessions.reminders.composing import reminder_address, reminder_message, reminder_stale_reason
from sessions.reminders.outbox import MAX_BACKOFF_SECONDS

logger = logging.getLogger(__name__)

# The dispatcher ------------------------------------------------------------------------------


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    # Reminders handled (whatever the outcome) per practice id, in this sweep.
    by_practice: dict[int, int] = field(default_factory=dict)
    out_of_time: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled

    def count(self, practice_id: int, outcome: Outcome) -> None:
        attribute = {Outcome.RETRY: "retrying"}.get(outcome, str(outcome))
        setattr(self, attribute, getattr(self, attribute) + 1)
        self.by_practice[practice_id] = self.by_practice.get(practice_id, 0) + 1


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential: base, 2 x base, 4 x base ... capped at an hour, or what the provider asked
    if that is longer."""
    base = settings.REMINDER_RETRY_BASE_SECONDS
    delay = float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))
    return max(delay, retry_after or 0.0, 1.0)


def _retry_or_fail(
    reminder: Reminder,
    error: str,
    *,
    now: datetime,
    retry_after: float | None = None,
) -> Outcome:
    reminder.last_error = error[:2000]
    # Only attempts that were answered count: one that may have been delivered must not
    # make the reminder fail (R22).
    if reminder.attempts - reminder.unknown_outcomes >= settings.REMINDER_MAX_ATTEMPTS:
        reminder.status = ReminderStatus.FAILED
        return Outcome.FAILED
    reminder.status = ReminderStatus.PENDING
    reminder.send_after = now + timedelta(seconds=backoff_seconds(reminder.attempts, retry_after))
    return Outcome.RETRY


@dataclass
class Sweep:
    """What one dispatcher sweep reuses from one reminder to the next: the channels, and each
    practice with its settings, therapists and massage types. Those are few and change rarely;
    joining them to every claimed row cost more than the rest of the sending (planning a
    nine-table join each time). A sweep lasts under a minute, so a change shows in the next."""

    channels: dict[str, Channel] = field(default_factory=dict)
    practices: dict[int, Practice] = field(default_factory=dict)
    therapists: dict[int, Therapist] = field(default_factory=dict)
    massage_types: dict[int, MassageType] = field(default_factory=dict)

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = channel_for(name)
        return self.channels[name]

    def practice(self, practice_id: int) -> Practice:
        if practice_id not in self.practices:
            self.practices[practice_id] = Practice.objects.select_related("settings").get(
                pk=practice_id
            )
            self.therapists.update((t.pk, t) for t in Therapist.objects.for_practice(practice_id))
            self.massage_types.update(
                (t.pk, t) for t in MassageType.objects.for_practice(practice_id)
            )
        return self.practices[practice_id]

    def attach(self, reminder: Reminder) -> Reminder:
        """Give the reminder (and its session) their practice's cached rows."""
        practice = self.practice(reminder.practice_id)
        reminder.practice = practice
        session = reminder.session
        if session is not None:
            session.practice = practice
            session.therapist = self.therapists.get(session.therapist_id) or session.therapist
            session.massage_type = (
                self.massage_types.get(session.massage_type_id) or session.massage_type
            )
        return reminder


def _prepare(reminder: Reminder, *, now: datetime, sweep: Sweep) -> Callable[[], str] | Outcome:
    """A leased reminder's send, ready for a thread to make, or the outcome when it never gets
    that far (the caller records it)."""
    try:
        message = reminder_message(reminder, now=now)
        address = reminder_address(reminder)
        channel = sweep.channel(reminder.channel)
    except DatabaseError:
        # Nothing was sent; the lease runs out and the row is taken again.
        raise
    except Exception as exc:
        # A bug (a template, a missing value) must not stop the sweep for every practice, nor
        # be retried forever: it takes the backoff path and ends failed, visible in the admin.
        logger.exception("reminder %s could not be prepared", reminder.pk)
        return _retry_or_fail(reminder, f"{type(exc).__name__}: {exc}", now=now)
    return partial(channel.send, to=address, message=message)


def _delivered(reminder: Reminder, sending: Future[str], *, now: datetime) -> Outcome:
    """What came of a send, set on the instance (the caller records it)."""
    try:
        provider_id = sending.result()
    except PermanentDeliveryError as exc:
        reminder.status = ReminderStatus.FAILED
        reminder.last_error = str(exc)[:2000]
        return Outcome.FAILED
    except UnknownDeliveryOutcome as exc:
        reminder.unknown_outcomes += 1
        return _retry_or_fail(reminder, str(exc), now=now)
    except TransientDeliveryError as exc:
        return _retry_or_fail(reminder, str(exc), now=now, retry_after=exc.retry_after)
    except Exception as exc:
        logger.exception("reminder %s could not be sent", reminder.pk)
        return _retry_or_fail(reminder, f"{type(exc).__name__}: {exc}", now=now)
    reminder.status = ReminderStatus.SENT
    reminder.sent_at = timezone.now()
    reminder.provider_message_id = (provider_id or "")[:200]
    reminder.last_error = ""
    return Outcome.SENT


# The practice, its settings, therapists and massage types come from the Sweep's cache.
CLAIM_RELATIONS = ("patient", "session", "course")
LEASE_FIELDS = ["status", "attempts", "unknown_outcomes", "lease_owner", "lease_expires_at"]
OUTCOME_FIELDS = [
    "status",
    "attempts",
    "unknown_outcomes",
    "last_error",
    "send_after",
    "sent_at",
    "provider_message_id",
]


def _due_pks(practice_id: int, now: datetime, limit: int) -> list[int]:
    """Lock up to `limit` of the practice's next rows to send and return their ids: leases
    that ran out first (their worker died mid-send; reminder_lease_idx), then the oldest due
    pending rows (reminder_claim_idx). SKIP LOCKED with LIMIT passes over rows another
    dispatcher holds and fills the limit with the next free ones. Locked on the bare rows: a
    join here would make PostgreSQL join and sort every pending row for each claim."""
    rows = Reminder.objects.select_for_update(skip_locked=True).filter(practice_id=practice_id)
    found: list[int] = []
    for due in (
        rows.filter(status=ReminderStatus.SENDING, lease_expires_at__lte=now).order_by(
            "lease_expires_at", "id"
        ),
        rows.filter(status=ReminderStatus.PENDING, send_after__lte=now).order_by(
            "send_after", "id"
        ),
    ):
        found += due.values_list("pk", flat=True)[: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def reminders_claim(
    *, practice_id: int, now: datetime, owner: str, sweep: Sweep, limit: int
) -> list[tuple[Reminder, Outcome | None]]:
    """Lease up to `limit` of the practice's due reminders in one short transaction, after
    checking each is still current (R22): (the reminder, None) to send it, (the reminder,
    CANCELLED) when it is stale. Empty when no due row is free."""
    with transaction.atomic():
        pks = _due_pks(practice_id, now, limit)
        found = Reminder.objects.select_related(*CLAIM_RELATIONS).in_bulk(pks)
        # From the clock, not the sweep's cutoff, which a long run leaves behind; but never
        # before the cutoff (a run told to act at a later moment), or the same run would take
        # a row it is still sending as a lease run out.
        start = max(timezone.now(), now)
        lease_until = start + timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
        claimed: list[tuple[Reminder, Outcome | None]] = []
        for pk in pks:
            reminder = sweep.attach(found[pk])
            if reminder.status == ReminderStatus.SENDING:
                # Its worker died or stalled mid-send: whether that send went out is unknown.
                reminder.unknown_outcomes += 1
            stale = reminder_stale_reason(reminder, now=now)
            if stale is not None:
                reminder.status = ReminderStatus.CANCELLED
                reminder.last_error = stale
                reminder.save(update_fields=[*LEASE_FIELDS, "last_error", "updated_at"])
                claimed.append((reminder, Outcome.CANCELLED))
                continue
            reminder.status = ReminderStatus.SENDING
            reminder.attempts += 1
            reminder.lease_owner = owner
            reminder.lease_expires_at = lease_until
            reminder.updated_at = start
            claimed.append((reminder, None))
        # One statement for the chunk's leases (bulk_update does not touch auto_now fields).
        Reminder.objects.bulk_update(
            [reminder for reminder, outcome in claimed if outcome is None],
            [*LEASE_FIELDS, "updated_at"],
        )
    return claimed


def reminder_record(reminder: Reminder, outcome: Outcome, *, owner: str) -> bool:
    """Record what came of a send, if the lease is still ours: a conditional update, so a
    row the front desk cancelled meanwhile (a cancel or move never waits for a send) stays
    cancelled, and a row another worker took after the lease ran out is left to it. Returns
    whether the row took the outcome."""
    values = {name: getattr(reminder, name) for name in OUTCOME_FIELDS}
    ours = Reminder.objects.filter(pk=reminder.pk, lease_owner=owner)
    recorded = bool(
        ours.filter(status=ReminderStatus.SENDING).update(
            **values, lease_owner="", lease_expires_at=None, updated_at=timezone.now()
        )
    )
    if not recorded and outcome is Outcome.SENT:
        # Cancelled while it was being sent: it stays cancelled, and shows that it went out.
        ours.filter(status=ReminderStatus.CANCELLED).update(
            sent_at=reminder.sent_at, provider_message_id=reminder.provider_message_id
        )
    return recorded


def _due(now: datetime) -> Q:
    """Due rows, and rows whose lease ran out (their worker died mid-send)."""
    return Q(status=ReminderStatus.PENDING, send_after__lte=now) | Q(
        status=ReminderStatus.SENDING, lease_expires_at__lte=now
    )


def reminders_due_count(*, now: datetime, limit: int) -> int:
    """How many reminders are due, counting no further than `limit`: the sweep's cheap
    "anything due?", read off reminder_due_idx and reminder_lease_idx."""
    return Reminder.objects.filter(_due(now)).order_by().values("pk")[:limit].count()


def practices_with_due_reminders(now: datetime) -> list[int]:
    """Practice ids with due reminders (or leases that ran out), the one waiting longest
    first."""
    return list(
        Reminder.objects.filter(_due(now))
        .values("practice_id")
        .annotate(oldest=Min("send_after"))
        .order_by("oldest", "practice_id")
        .values_list("practice_id", flat=True)
    )


def dispatcher_owner() -> str:
    """Names one dispatcher's leases: the host, the process and a random tag."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Dispatcher:
    """One run of `reminders_dispatch`: claims due rows in chunks and keeps up to `concurrency`
    sends in flight at once, each in a thread of its own pool. Sending is I/O (a provider's or
    SMTP server's answer), so a worker sends many reminders at once while claiming, composing
    and recording, every database query, stay in the calling thread. A row is claimed only when
    a thread is free to send it at once, so a killed worker leaves at most its in-flight sends
    leased, and every lease covers one send."""

    def __init__(self, *, concurrency: int, sweep: Sweep, pool: ThreadPoolExecutor) -> None:
        self.concurrency = concurrency
        # Claim again once this many threads are free: fewer, larger claims.
        self.refill = max(1, concurrency // 4)
        self.sweep = sweep
        self.pool = pool
        self.owner = dispatcher_owner()
        self.in_flight: dict[Future[str], tuple[Reminder, datetime]] = {}
        self.report = DispatchReport()

    def claim(self, *, practice_id: int, now: datetime, limit: int) -> int:
        """Claim up to `limit` of the practice's due rows (fewer if fewer threads are free) and
        start sending them; returns how many were claimed."""
        while self.concurrency - len(self.in_flight) < self.refill:
            self.collect(everything=False)
        claimed = reminders_claim(
            practice_id=practice_id,
            now=now,
            owner=self.owner,
            sweep=self.sweep,
            limit=min(limit, self.concurrency - len(self.in_flight)),
        )
        sends: dict[int, tuple[Reminder, Callable[[], str]]] = {}
        for reminder, outcome in claimed:
            prepared = outcome or _prepare(reminder, now=now, sweep=self.sweep)
            if isinstance(prepared, Outcome):
                self.finish(reminder, prepared, now=now)
            else:
                sends[reminder.pk] = (reminder, prepared)
        # The last look before the provider, for the whole chunk at once (a thread is free for
        # each, so every send begins now): a cancel or move since the claim cancelled it.
        still_ours = set(
            Reminder.objects.filter(
                pk__in=sends, status=ReminderStatus.SENDING, lease_owner=self.owner
            ).values_list("pk", flat=True)
        )
        for pk, (reminder, send) in sends.items():
            if pk in still_ours:
                self.in_flight[self.pool.submit(send)] = (reminder, now)
            else:
                reminder.status = ReminderStatus.CANCELLED
                self.finish(reminder, Outcome.CANCELLED, now=now)
        return len(claimed)

    def collect(self, *, everything: bool) -> None:
        """Record the sends that have ended: at least one, or all of them."""
        if not self.in_flight:
            return
        done, _running = wait(
            self.in_flight, return_when=ALL_COMPLETED if everything else FIRST_COMPLETED
        )
        # One commit for the sends that ended together: a commit per reminder cost more than
        # all the rest of recording it. Each update is still conditional on its own lease.
        with transaction.atomic():
            for sending in done:
                reminder, now = self.in_flight.pop(sending)
                self.finish(reminder, _delivered(reminder, sending, now=now), now=now)

    def finish(self, reminder: Reminder, outcome: Outcome, *, now: datetime) -> None:
        # A cancelled one is recorded already: stale at the claim, or cancelled by the desk.
        if outcome is not Outcome.CANCELLED and not reminder_record(
            reminder, outcome, owner=self.owner
        ):
            logger.info("reminder %s: %s, but cancelled or taken meanwhile", reminder.pk, outcome)
        if outcome is not Outcome.SENT:
            logger.info("reminder %s: %s (%s)", reminder.pk, outcome, reminder.last_error)
        if outcome is Outcome.FAILED:
            reminder_failures_alert(practice_id=reminder.practice_id, now=now)
        self.report.count(reminder.practice_id, outcome)


def reminders_dispatch(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
    concurrency: int | None = None,
) -> DispatchReport:
    """Send every due reminder, fairly across practices (R21, R22), up to `concurrency` at once.

    Rounds: each round takes up to `batch_size` reminders from every practice with due ones,
    so a practice with 10,000 due reminders does not hold up another's first one. Stops when
    nothing due is left or free (another worker may hold the rest), or after `time_budget`
    seconds, leaving the rest to the next sweep. Safe to run in any number of workers at once.
    `now` fixes the clock (tests); by default each round reads it afresh.
    """
    batch_size = batch_size or settings.REMINDER_DISPATCH_BATCH
    time_budget = time_budget if time_budget is not None else settings.REMINDER_DISPATCH_TIME_BUDGET
    concurrency = concurrency or settings.REMINDER_SEND_CONCURRENCY
    deadline = monotonic() + time_budget
    with ThreadPoolExecutor(concurrency, thread_name_prefix="reminder-send") as pool:
        dispatcher = _Dispatcher(concurrency=concurrency, sweep=Sweep(), pool=pool)
        try:
            _rounds(dispatcher, now=now, batch_size=batch_size, deadline=deadline)
            dispatcher.collect(everything=True)
        except BaseException:
            # What is in flight stays leased: its lease runs out and it is sent again with
            # the same key. Sends not yet begun are dropped, and their leases run out too.
            pool.shutdown(cancel_futures=True)
            raise
    return dispatcher.report


def _rounds(
    dispatcher: _Dispatcher, *, now: datetime | None, batch_size: int, deadline: float
) -> None:
    while True:
        cutoff = now or timezone.now()
        progressed = False
        for practice_id in practices_with_due_reminders(cutoff):
            quota = batch_size
            while quota > 0:
                if monotonic() >= deadline:
                    dispatcher.report.out_of_time = True
                    return
                taken = dispatcher.claim(practice_id=practice_id, now=cutoff, limit=quota)
                if not taken:
                    break
                progressed = True
                quota -= taken
        if not progressed:
            return
