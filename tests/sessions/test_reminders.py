"""Writing the reminder outbox (R21, R22): booking, moving, cancelling, completing a course
session, screenings about to expire. Sending is in test_dispatch.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from patients.models import Screening
from practice.errors import Conflict
from practice.models import Practice
from sessions.booking.sessions import session_cancel, session_reschedule
from sessions.models import Channel, Reminder, ReminderStatus, SessionStatus
from sessions.reminders.messages import ReminderKind
from sessions.reminders.outbox import (
    next_course_due_remind,
    reminders_after_booking,
    reminders_after_session_completed,
    screenings_expiring_remind,
)
from tests.clock import local
from tests.factories import PatientFactory, ScreeningFactory, TherapistFactory
from tests.sessions.outbox import MONDAY, NOW, TUESDAY, book, book_course, kinds, rows

# The services are handed NOW; what reads the clock itself sees the same Monday morning.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]

CONFIRMATION = ReminderKind.BOOKING_CONFIRMATION
FIRST = ReminderKind.FIRST_REMINDER
SECOND = ReminderKind.SECOND_REMINDER
# The day before the "next course due" nudge's notice begins (R11).
NOTICE_AND_A_DAY = timedelta(days=15)


def test_r21_booking_queues_the_confirmation_now_and_both_reminders_per_channel(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))

    queued = rows(session)
    assert kinds(queued) == {
        (kind, channel) for kind in (CONFIRMATION, FIRST, SECOND) for channel in Channel.values
    }
    due = {(r.kind, r.channel): r.due_at for r in queued}
    assert due[(CONFIRMATION, Channel.EMAIL)] == NOW
    assert due[(FIRST, Channel.SMS)] == session.starts_at - timedelta(hours=24)
    assert due[(SECOND, Channel.EMAIL)] == session.starts_at - timedelta(hours=2)
    assert all(r.status == ReminderStatus.PENDING and r.send_after == r.due_at for r in queued)
    assert all(r.session_version == 1 for r in queued)


def test_r21_lead_times_are_the_practices_settings(practice: Practice) -> None:
    practice.settings.first_reminder_hours = 12
    practice.settings.second_reminder_hours = 0  # off
    practice.settings.save()

    session = book(practice, local(practice, TUESDAY, 10))

    assert kinds(rows(session, channel=Channel.SMS)) == {
        (CONFIRMATION, Channel.SMS),
        (FIRST, Channel.SMS),
    }
    assert rows(session, kind=FIRST)[0].due_at == session.starts_at - timedelta(hours=12)


@pytest.mark.parametrize(
    ("email", "sms", "phone", "expected"),
    [
        (True, False, "+4915112345678", {Channel.EMAIL}),
        (False, True, "+4915112345678", {Channel.SMS}),
        (True, True, "", {Channel.EMAIL}),
        (False, False, "+4915112345678", set()),
    ],
)
def test_r21_only_channels_with_consent_and_an_address_get_reminders(
    practice: Practice, email: bool, sms: bool, phone: str, expected: set[str]
) -> None:
    patient = PatientFactory(practice=practice, consent_email=email, consent_sms=sms, phone=phone)

    session = book(practice, local(practice, TUESDAY, 10), patient=patient)

    assert {r.channel for r in rows(session)} == expected


def test_r21_a_reminder_already_due_at_booking_is_skipped_not_sent_late(
    practice: Practice,
) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    starts_at = local(practice, TUESDAY, 12)

    an_hour_before = book(
        practice, starts_at, therapist=therapist, now=starts_at - timedelta(hours=1)
    )
    same_day = book(
        practice,
        starts_at + timedelta(hours=2),
        therapist=therapist,
        now=starts_at - timedelta(hours=20),
    )

    # One hour ahead: both reminders would be late; the confirmation tells the time.
    assert {r.kind for r in rows(an_hour_before)} == {CONFIRMATION}
    # 22 hours ahead: the 24 h one would be late, the 2 h one is still ahead.
    assert {r.kind for r in rows(same_day)} == {CONFIRMATION, SECOND}


def test_r22_queuing_the_same_session_twice_queues_nothing_twice(practice: Practice) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    before = Reminder.objects.count()

    reminders_after_booking(session, now=NOW)
    reminders_after_booking(session, now=NOW + timedelta(minutes=5))

    assert Reminder.objects.count() == before == 6


def test_r22_a_booking_that_fails_leaves_no_reminder(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    book(practice, local(practice, TUESDAY, 10), therapist=therapist)

    with pytest.raises(Conflict), transaction.atomic():
        book(practice, local(practice, TUESDAY, 10), therapist=therapist)

    assert Reminder.objects.count() == 6  # the first booking's only


def test_r22_moving_cancels_the_old_times_pending_reminders_and_queues_the_new_ones(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    # The confirmation went out before the move: it stays sent.
    Reminder.objects.filter(session=session, kind=CONFIRMATION).update(status=ReminderStatus.SENT)

    moved = session_reschedule(
        session=session, starts_at=local(practice, TUESDAY + timedelta(1), 15), now=NOW
    )

    old = rows(moved, session_version=1)
    assert {(r.kind, r.status) for r in old} == {
        (CONFIRMATION, ReminderStatus.SENT),
        (FIRST, ReminderStatus.CANCELLED),
        (SECOND, ReminderStatus.CANCELLED),
    }
    assert all("moved" in r.last_error for r in old if r.status == ReminderStatus.CANCELLED)
    new = rows(moved, session_version=2)
    # Moved by the practice: the notice of the move takes the confirmation's place (R21).
    assert kinds(new) == {
        (ReminderKind.SESSION_MOVED if kind == CONFIRMATION else kind, channel)
        for kind, channel in kinds(old)
    }
    assert all(r.status == ReminderStatus.PENDING for r in new)
    assert {r.due_at for r in new if r.kind == FIRST} == {moved.starts_at - timedelta(hours=24)}


def test_r22_a_move_that_fails_leaves_the_reminders_as_they_were(practice: Practice) -> None:
    therapist = TherapistFactory(practice=practice, week=True)
    session = book(practice, local(practice, TUESDAY, 10), therapist=therapist)
    book(practice, local(practice, TUESDAY, 14), therapist=therapist)

    with pytest.raises(Conflict), transaction.atomic():
        session_reschedule(session=session, starts_at=local(practice, TUESDAY, 14), now=NOW)

    assert {r.status for r in rows(session)} == {ReminderStatus.PENDING}
    assert {r.session_version for r in rows(session)} == {1}


def test_r22_cancelling_cancels_the_pending_reminders_and_keeps_the_sent(
    practice: Practice,
) -> None:
    session = book(practice, local(practice, TUESDAY, 10))
    Reminder.objects.filter(session=session, kind=CONFIRMATION).update(status=ReminderStatus.SENT)

    # The patient's own cancel: no notice of it either (R21).
    session_cancel(session=session, by=None, now=NOW, by_patient=True)

    assert {(r.kind, r.status) for r in rows(session)} == {
        (CONFIRMATION, ReminderStatus.SENT),
        (FIRST, ReminderStatus.CANCELLED),
        (SECOND, ReminderStatus.CANCELLED),
    }


def test_r21_a_course_gets_one_confirmation_and_reminders_before_each_session(
    practice: Practice,
) -> None:
    course = book_course(practice)

    confirmations = Reminder.objects.filter(course=course, kind=CONFIRMATION)
    assert [(r.session_id, r.channel, r.due_at) for r in confirmations] == [
        (None, Channel.EMAIL, NOW)
    ]
    for session in course.sessions.all():
        assert {r.kind for r in rows(session)} == {FIRST, SECOND}


def complete(session) -> None:
    # The session-day service (not this half) records the session; its outcome is the status.
    type(session).objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED)
    session.refresh_from_db()


def test_r21_after_a_course_session_the_next_one_is_reminded_once(practice: Practice) -> None:
    course = book_course(practice)
    first, second = course.sessions.order_by("sequence")[:2]
    complete(first)
    later = first.starts_at + timedelta(hours=1)

    reminders_after_session_completed(first, now=later)
    reminders_after_session_completed(first, now=later)

    [reminder] = rows(second, kind=ReminderKind.COURSE_NEXT_SESSION)
    assert (reminder.due_at, reminder.course_id, reminder.session_version) == (later, course.pk, 1)


def test_r11_a_chronic_patients_finished_course_is_followed_by_a_nudge_when_it_is_near(
    practice: Practice, clock
) -> None:
    patient = PatientFactory(practice=practice, consent_email=True, chronic_plan=True)
    course = book_course(practice, patient=patient)
    sessions = list(course.sessions.order_by("sequence"))
    for session in sessions:
        complete(session)
    due_on = course.start_date + timedelta(days=91)

    # After the last session, nothing yet: the next course is weeks away.
    reminders_after_session_completed(sessions[-1], now=sessions[-1].ends_at)
    next_course_due_remind(practice=practice, now=local(practice, due_on, 8) - NOTICE_AND_A_DAY)
    assert not Reminder.objects.filter(kind=ReminderKind.COURSE_NEXT_DUE).exists()
    # Two weeks ahead of the due day, the daily sweep's nudge goes out at 10:00 local.
    clock.move_to(local(practice, due_on - timedelta(days=14), 4))
    next_course_due_remind(practice=practice)

    [nudge] = Reminder.objects.filter(course=course, kind=ReminderKind.COURSE_NEXT_DUE)
    assert nudge.details["due_on"] == due_on.isoformat()
    assert nudge.due_at == local(practice, due_on - timedelta(days=14), 10)
    assert nudge.details["massage_type_name"] != "Classical"  # R12: the rotation moves on


def test_r21_a_screening_expiring_before_a_booked_session_is_reminded(
    practice: Practice,
) -> None:
    patient = PatientFactory(practice=practice, consent_email=True)
    # Valid to June 3.
    screening = ScreeningFactory(patient=patient, screened_on=MONDAY - timedelta(days=27))
    expiring = book(practice, local(practice, MONDAY + timedelta(days=5), 10), patient=patient)
    covered = book(practice, local(practice, TUESDAY, 10), patient=patient)

    screenings_expiring_remind(now=NOW)
    screenings_expiring_remind(now=NOW + timedelta(hours=6))

    [reminder] = Reminder.objects.filter(kind=ReminderKind.SCREENING_EXPIRING)
    assert reminder.session_id == expiring.pk
    assert reminder.details == {"expires_on": screening.valid_until.isoformat()}
    assert not rows(covered, kind=ReminderKind.SCREENING_EXPIRING)


def test_r21_a_course_session_needs_no_screening_reminder_r1(practice: Practice) -> None:
    course = book_course(practice)
    Screening.objects.filter(patient=course.patient).update(valid_until=TUESDAY)

    screenings_expiring_remind(now=NOW)

    assert not Reminder.objects.filter(kind=ReminderKind.SCREENING_EXPIRING).exists()
