"""Past months of the demo practice for its reports (`make run` runs it after `seed_demo`):
sessions of every status (completed, no-shows, late and timely cancellations), courses that
were completed, interrupted (R13) or cancelled, a closure and a week of time off.

It lives here, above `sessions/`, because `seed_demo` (in `patients/`) may not write sessions
or courses. Written straight to the tables, as history is: the services' checks are for new
bookings. Deterministic, and safe to run again (it does nothing once history exists).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from courses.models import Cadence, Course, CourseStatus
from patients.models import Patient
from practice.models import Closure, MassageType, Practice, Room, Therapist, TimeOff
from sessions.models import Session, SessionStatus

DAYS = 150
# Single sessions' local starts; 17:00 is kept for courses, so nothing overlaps (R19).
SLOTS = (time(9), time(10), time(11), time(12), time(14), time(15), time(16))
COURSE_TIME = time(17)
COURSE_LENGTH = 10
MAX_COURSES_EACH = 3
CLOSED_DAYS_AGO = 40
TIME_OFF_DAYS_AGO = range(66, 71)


def _status(chance: float) -> tuple[SessionStatus, bool]:
    if chance < 0.08:
        return SessionStatus.NO_SHOW, False
    if chance < 0.14:
        return SessionStatus.CANCELLED, True
    if chance < 0.19:
        return SessionStatus.CANCELLED, False
    return SessionStatus.COMPLETED, False


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class History:
    """One practice's past, built as unsaved rows."""

    def __init__(self, practice: Practice, today: date) -> None:
        self.practice = practice
        self.zone = practice.zone
        self.today = today
        self.buffer = timedelta(minutes=practice.settings.buffer_minutes)
        self.random = random.Random(practice.slug)
        self.sessions: list[Session] = []

    def session(
        self,
        *,
        day: date,
        at: time,
        patient: Patient,
        therapist: Therapist,
        room: Room | None,
        massage_type: MassageType,
        status: SessionStatus,
        late: bool = False,
        **fields: Any,
    ) -> Session:
        starts_at = datetime.combine(day, at, tzinfo=self.zone)
        ends_at = starts_at + timedelta(minutes=massage_type.default_minutes)
        cancelled = status == SessionStatus.CANCELLED
        row = Session(
            practice=self.practice,
            patient=patient,
            therapist=therapist,
            room=room,
            massage_type=massage_type,
            starts_at=starts_at,
            ends_at=ends_at,
            blocks_until=ends_at + self.buffer,
            status=status,
            late_cancellation=late,
            cancelled_at=starts_at - timedelta(hours=2 if late else 48) if cancelled else None,
            cancellation_reason="Patient called" if cancelled else "",
            **fields,
        )
        self.sessions.append(row)
        return row

    def open_day(self, day: date, therapist_number: int) -> bool:
        ago = (self.today - day).days
        if day.weekday() >= 5 or ago == CLOSED_DAYS_AGO:
            return False
        return not (therapist_number == 2 and ago in TIME_OFF_DAYS_AGO)


class Command(BaseCommand):
    help = "Add past sessions and courses to the demo practices for their reports."

    @transaction.atomic
    def handle(self, *args: object, **options: Any) -> None:
        practice = Practice.objects.filter(slug="linden").first()
        if practice is None:
            self.stdout.write("Run seed_demo first: there is no demo practice.")
            return
        today = timezone.localdate(timezone=practice.zone)
        first = today - timedelta(days=DAYS)
        if Session.objects.for_practice(practice).filter(starts_at__lt=timezone.now()).exists():
            self.stdout.write("The demo practice has history already.")
            return
        history = History(practice, today)
        therapists = list(Therapist.objects.for_practice(practice).order_by("name"))
        rooms = list(Room.objects.for_practice(practice).order_by("name"))
        patients = list(Patient.objects.for_practice(practice).order_by("id"))
        # R11: the last two in a chronic plan never had a course, so some are due today.
        chronic = [patient for patient in patients if patient.chronic_plan][:-2]
        self._absences(history, therapists)
        types = {t.pk: list(t.massage_types.order_by("rotation_order")) for t in therapists}
        day = first
        while day < today:
            for number, therapist in enumerate(therapists):
                if not history.open_day(day, number):
                    continue
                for slot_number, at in enumerate(SLOTS):
                    if history.random.random() < 0.35:
                        continue  # a free hour
                    index = ((day - first).days * 7 + slot_number * 3 + number) % len(patients)
                    status, late = _status(history.random.random())
                    history.session(
                        day=day,
                        at=at,
                        patient=patients[index],
                        therapist=therapist,
                        room=rooms[number] if number < len(rooms) else None,
                        massage_type=history.random.choice(types[therapist.pk]),
                        status=status,
                        late=late,
                    )
            day += timedelta(days=1)
        courses = self._courses(history, therapists, chronic, types, first)
        Session.objects.bulk_create(history.sessions)
        self.stdout.write(
            self.style.SUCCESS(
                f"History of {practice.name}: {len(history.sessions)} sessions and "
                f"{courses} courses over the last {DAYS} days."
            )
        )

    def _absences(self, history: History, therapists: list[Therapist]) -> None:
        closed = history.today - timedelta(days=CLOSED_DAYS_AGO)
        zone = history.zone
        Closure.objects.create(
            practice=history.practice,
            starts_at=datetime.combine(closed, time(), tzinfo=zone),
            ends_at=datetime.combine(closed + timedelta(days=1), time(), tzinfo=zone),
            reason="Public holiday",
        )
        if len(therapists) > 2:
            away = history.today - timedelta(days=max(TIME_OFF_DAYS_AGO))
            TimeOff.objects.create(
                practice=history.practice,
                therapist=therapists[2],
                starts_at=datetime.combine(away, time(), tzinfo=zone),
                ends_at=datetime.combine(away + timedelta(days=5), time(), tzinfo=zone),
                reason="Holiday",
            )

    def _courses(
        self,
        history: History,
        therapists: list[Therapist],
        chronic: list[Patient],
        types: dict[int, list[MassageType]],
        first: date,
    ) -> int:
        """Back-to-back courses per therapist at 17:00, every other weekday, for chronic
        patients who each stay with one therapist (so no two courses running at once share a
        patient, R19), at most three each (R11 allows four a year). The type moves on along
        the therapist's types each round, except every third round repeats the one before,
        as R12 warns against."""
        made = 0
        for number, therapist in enumerate(therapists):
            own = chronic[number :: len(therapists)]
            start, sequence_number = _weekday_on_or_after(first), 0
            while own and sequence_number < MAX_COURSES_EACH * len(own):
                days: list[date] = []
                day = start
                while len(days) < COURSE_LENGTH:
                    day = _weekday_on_or_after(day)
                    if history.open_day(day, number):
                        days.append(day)
                    day += timedelta(days=2)
                if days[-1] >= history.today:
                    break
                status = (
                    CourseStatus.INTERRUPTED
                    if sequence_number % 4 == 2
                    else CourseStatus.CANCELLED
                    if sequence_number % 5 == 4
                    else CourseStatus.COMPLETED
                )
                patient = own[sequence_number % len(own)]
                kinds = types[therapist.pk]
                rounds = sequence_number // len(own)
                massage_type = kinds[(rounds - (rounds % 3 == 2) + number) % len(kinds)]
                course = Course.objects.create(
                    practice=history.practice,
                    patient=patient,
                    therapist=therapist,
                    massage_type=massage_type,
                    sessions_count=COURSE_LENGTH,
                    cadence=Cadence.EVERY_OTHER_DAY,
                    start_date=days[0],
                    preferred_time=COURSE_TIME,
                    status=status,
                )
                for position, day in enumerate(days, start=1):
                    history.session(
                        day=day,
                        at=COURSE_TIME,
                        patient=patient,
                        therapist=therapist,
                        room=None,
                        massage_type=massage_type,
                        course=course,
                        sequence=position,
                        **self._course_session(status, position),
                    )
                made += 1
                sequence_number += 1
                start = days[-1] + timedelta(days=3)
        return made

    @staticmethod
    def _course_session(status: CourseStatus, position: int) -> dict[str, Any]:
        """Completed sessions; R13: an interrupted course missed three in a row after its
        third and was not continued; a cancelled one was called off after its third."""
        if position <= 3 or status == CourseStatus.COMPLETED:
            return {"status": SessionStatus.COMPLETED}
        if status == CourseStatus.INTERRUPTED and position <= 6:
            return {"status": SessionStatus.NO_SHOW}
        return {"status": SessionStatus.CANCELLED}
