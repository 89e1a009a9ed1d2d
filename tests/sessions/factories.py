"""Builders for scheduling tests: a therapist's week, and sessions written straight to the
table (for history and for the database-constraint tests that must bypass the services)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from patients.models import Patient
from practice.models import MassageType, Practice, Room, Therapist, WorkingHours
from sessions.models import Session, SessionStatus
from tests.factories import PatientFactory, TherapistFactory, massage_type


def working_week(
    therapist: Therapist,
    *,
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6),
    starts: time = time(9),
    ends: time = time(20),
) -> Therapist:
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practice=therapist.practice, therapist=therapist, weekday=d, starts=starts, ends=ends
        )
        for d in days
    )
    return therapist


def therapist_with_week(practice: Practice, **hours: object) -> Therapist:
    return working_week(TherapistFactory(practice=practice), **hours)


def session_row(
    *,
    therapist: Therapist,
    starts_at: datetime,
    minutes: int = 30,
    patient: Patient | None = None,
    room: Room | None = None,
    kind: MassageType | None = None,
    status: SessionStatus = SessionStatus.BOOKED,
    buffer: int | None = None,
) -> Session:
    """A session saved without the services' checks (the database constraints still apply)."""
    practice = therapist.practice
    ends_at = starts_at + timedelta(minutes=minutes)
    buffer = practice.settings.buffer_minutes if buffer is None else buffer
    return Session.objects.create(
        practice=practice,
        therapist=therapist,
        patient=patient or PatientFactory(practice=practice),
        room=room,
        massage_type=kind or massage_type(practice),
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=buffer),
        status=status,
    )
