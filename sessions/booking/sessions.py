"""Booking, moving and cancelling single sessions (R19, R23, R10, R13).

Each write checks the time first and names what it collides with; the database's exclusion
constraints decide a race (`sessions.booking.conflicts`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course
from patients.eligibility import patient_may_book
from patients.models import Patient, Screening
from patients.selectors import pending_self_report
from practice.calendar import Calendar, epoch
from practice.errors import Conflict
from practice.models import MassageType, Practice, Room, Therapist, User
from sessions.availability import calendar_load
from sessions.booking.conflicts import (
    conflict,
    conflicting_session,
    lost_race_conflict,
    r23_refusal,
)
from sessions.booking.interruptions import r13_flag_if_interrupted, r13_rebook_options
from sessions.booking.rooms import (
    no_room_free,
    room_suitability_validate,
    room_write,
    rooms_choose,
)
from sessions.models import ACTIVE, MAX_SESSION_MINUTES, Session, SessionStatus
from sessions.reminders.outbox import (
    reminders_after_booking,
    reminders_after_cancel,
    reminders_after_reschedule,
)
from sessions.signals import session_booked, session_missed, session_time_freed

logger = logging.getLogger(__name__)

MIN_SESSION_MINUTES = 5
RELATIONS = ["practice", "patient", "therapist", "room", "massage_type", "course", "booked_by"]


@dataclass(frozen=True)
class Cancellation:
    session: Session
    late: bool
    # R13: where the cancelled course session could move without breaking the cadence.
    rebook_options: tuple[datetime, ...] = ()


def minutes_error(minutes: int) -> str | None:
    if MIN_SESSION_MINUTES <= minutes <= MAX_SESSION_MINUTES:
        return None
    return str(
        _("A session lasts %(low)d to %(high)d minutes.")
        % {"low": MIN_SESSION_MINUTES, "high": MAX_SESSION_MINUTES}
    )


def booking_inputs_validate(
    *, practice: Practice, patient: Patient, therapist: Therapist, massage_type: MassageType
) -> None:
    """What must hold whatever the time: one practice, an active therapist, an offered type.
    The therapist's qualification is read with the calendar (`require_qualified`)."""
    errors: dict[str, str] = {}
    for name, row in (
        ("patient", patient),
        ("therapist", therapist),
        ("massage_type", massage_type),
    ):
        if row.practice_id != practice.pk:
            errors[name] = str(_("This belongs to another practice."))
    if errors:
        raise ValidationError(errors)
    if patient.archived:
        errors["patient"] = str(_("This patient is archived."))
    if not therapist.active:
        errors["therapist"] = str(_("This therapist is not active."))
    if not massage_type.active:
        errors["massage_type"] = str(_("This massage type is not offered."))
    if errors:
        raise ValidationError(errors)


def require_qualified(qualified: Collection[int], therapist: Therapist) -> None:
    """The therapist must be among those `qualified` for the type (e.g. `Calendar.qualified`,
    read with the calendar)."""
    if therapist.pk not in qualified:
        raise ValidationError(
            {"massage_type": _("This therapist is not qualified for this massage type.")}
        )


def _day_calendar(
    *,
    practice: Practice,
    therapist: Therapist,
    massage_type: MassageType,
    patient: Patient,
    room: Room | None,
    starts_at: datetime,
    now: datetime,
    exclude_id: int | None,
) -> Calendar:
    """The session's day as a booking sees it: the therapist's, the patient's and the
    rooms' sessions, with the therapist's qualification and the rooms that suit the type."""
    day = starts_at.astimezone(practice.zone).date()
    return calendar_load(
        practice=practice,
        therapist_ids=[therapist.pk],
        first=day,
        last=day,
        now=now,
        room=room,
        patient_id=patient.pk,
        exclude_session_id=exclude_id,
        massage_type_id=massage_type.pk,
    )


def _check_time(
    *,
    practice: Practice,
    therapist: Therapist,
    massage_type: MassageType,
    patient: Patient,
    room: Room | None,
    starts_at: datetime,
    minutes: int,
    now: datetime,
    exclude_id: int | None = None,
) -> Calendar:
    """The therapist's qualification and the room's suitability, then R23 and R19 for one
    session: 400 for a time never bookable, 409 for a taken one. Returns the day's calendar,
    from which the session's room is picked."""
    if error := minutes_error(minutes):
        raise ValidationError({"minutes": error})
    calendar = _day_calendar(
        practice=practice,
        therapist=therapist,
        massage_type=massage_type,
        patient=patient,
        room=room,
        starts_at=starts_at,
        now=now,
        exclude_id=exclude_id,
    )
    require_qualified(calendar.qualified, therapist)
    room_suitability_validate(calendar, massage_type, room)
    start = epoch(starts_at)
    if calendar.is_free(therapist.pk, start, minutes):
        return calendar
    if refusal := r23_refusal(calendar, therapist.pk, start, minutes):
        raise ValidationError({"starts_at": refusal})
    taken = conflicting_session(
        practice=practice,
        therapist_id=therapist.pk,
        room_id=room.pk if room else None,
        patient_id=patient.pk,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        buffer=timedelta(minutes=practice.settings.buffer_minutes),
        exclude_id=exclude_id,
    )
    if taken is not None:
        raise conflict(
            taken,
            practice,
            therapist_id=therapist.pk,
            room_id=room.pk if room else None,
            patient_id=patient.pk,
        )
    if calendar.rooms is not None and room is None:
        raise no_room_free(practice, starts_at)
    raise Conflict({"detail": str(_("This time is no longer free."))})


def _pick_room(
    session: Session,
    *,
    practice: Practice,
    now: datetime,
    calendar: Calendar | None = None,
    keep: Room | None = None,
    exclude_id: int | None = None,
) -> None:
    """Put `session` in a free room that suits its type (R19), `keep` first: from `calendar`,
    the booking's own read of the day, or (None) after a concurrent booking took the room
    picked, from the day as it is now, `exclude_id` (the session being moved) not counted."""
    if calendar is None:
        calendar = _day_calendar(
            practice=practice,
            therapist=session.therapist,
            massage_type=session.massage_type,
            patient=session.patient,
            room=None,
            starts_at=session.starts_at,
            now=now,
            exclude_id=exclude_id,
        )
    (session.room,) = rooms_choose(
        calendar,
        practice=practice,
        massage_type=session.massage_type,
        spans=[(session.starts_at, session.blocks_until)],
        keep=keep,
    )


def utc_start(starts_at: datetime) -> datetime:
    """The requested start in UTC (R24). A time in the practice's zone would add a session's
    length on the wall clock, which is an hour off across a daylight-saving change and loses
    which occurrence of a repeated hour was meant."""
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": _("Give the time with its UTC offset.")})
    return starts_at.astimezone(UTC)


def _r10_same_day_error(
    course: Course, day: date, practice: Practice, exclude_id: int | None
) -> None:
    """R10: never two sessions of one course on one day."""
    zone = practice.zone
    sessions = course.sessions.filter(ACTIVE)
    if exclude_id is not None:
        sessions = sessions.exclude(pk=exclude_id)
    days = {s.astimezone(zone).date() for s in sessions.values_list("starts_at", flat=True)}
    if day in days:
        raise ValidationError(
            {"starts_at": _("R10: this course already has a session on that day.")}
        )


FIRST_VISIT_TAKEN = _(
    "Your first visit is booked already. Further sessions can be booked once the practice has "
    "confirmed your questionnaire at that visit (R1)."
)


def _has_sessions(patient: Patient) -> bool:
    return Session.objects.filter(patient=patient).exclude(status=SessionStatus.CANCELLED).exists()


def first_visit_self_report(*, patient: Patient) -> Screening | None:
    """R1 for a new patient: the questionnaire they filled in the portal stands in for a
    screening for one single session booked online, their first (none booked or held before),
    so that staff can confirm it with them at check-in. Courses, and every later session,
    wait for a confirmed screening."""
    if _has_sessions(patient):
        return None
    return pending_self_report(patient=patient)


def session_book(
    *,
    practice: Practice,
    patient: Patient,
    therapist: Therapist,
    massage_type: MassageType,
    starts_at: datetime,
    minutes: int | None = None,
    room: Room | None = None,
    course: Course | None = None,
    sequence: int | None = None,
    booked_by: User | None = None,
    now: datetime | None = None,
    by_patient: bool = False,
    online: bool = False,
) -> Session:
    """Book one session, or rebook a missed session of a course (`course` and `sequence`).

    A type a valid screening blocks that day (R2-R6, R8), or a day R8 blocks, is refused for
    anyone. Staff may book ahead of a screening (the session shows "screening needed"; R1 is
    checked when it starts); a patient booking for themselves (`by_patient`) may only choose a
    type the practice offers online and their screening clears on that day (R1-R8). A
    course's session stays under the screening that opened the course. A new patient's first
    visit may be booked on their questionnaire (`first_visit_self_report`): the session keeps
    it as `self_report`, "screening to confirm at check-in". In a practice with rooms the
    session takes `room` if it suits the type, else a free room that does (R19,
    `sessions.booking.rooms`).

    `online`: the patient chose the time themselves in the portal or the app (a waitlist offer
    they accept is the practice's offer, not this). `session_booked` tells the apps above, in
    the booking's transaction: billing may ask a deposit of it (`sessions.booking.holds`)."""
    now = now or timezone.now()
    starts_at = utc_start(starts_at)
    booking_inputs_validate(
        practice=practice, patient=patient, therapist=therapist, massage_type=massage_type
    )
    if by_patient and not massage_type.online_bookable:
        # The practice's choice (MassageType.online_bookable): it books this type itself.
        raise ValidationError(
            {"massage_type": _("This massage type is booked by the practice: please call us.")}
        )
    self_report = (
        first_visit_self_report(patient=patient) if by_patient and course is None else None
    )
    allowed = patient_may_book(
        patient=patient,
        massage_type=massage_type,
        on=starts_at.astimezone(practice.zone).date(),
        by_patient=by_patient,
        course_screening=course.screening if course is not None else None,
        self_report=self_report,
    )
    if self_report is not None and allowed.screening_id != self_report.pk:
        self_report = None
    if room is not None and (room.practice_id != practice.pk or not room.active):
        raise ValidationError({"room": _("Choose an active room of this practice.")})
    minutes = minutes if minutes is not None else massage_type.default_minutes
    if course is not None:
        if course.practice_id != practice.pk or course.patient_id != patient.pk:
            raise ValidationError({"course": _("This course is not this patient's.")})
        if course.massage_type_id != massage_type.pk:
            raise ValidationError({"massage_type": _("A course keeps one massage type (R9).")})
        if sequence is None or not 1 <= sequence <= course.sessions_count:
            raise ValidationError({"sequence": _("Say which session of the course this is.")})
        if course.sessions.filter(ACTIVE, sequence=sequence).exists():
            raise ValidationError({"sequence": _("This session of the course is booked already.")})
        _r10_same_day_error(course, starts_at.astimezone(practice.zone).date(), practice, None)
    calendar = _check_time(
        practice=practice,
        therapist=therapist,
        massage_type=massage_type,
        patient=patient,
        room=room,
        starts_at=starts_at,
        minutes=minutes,
        now=now,
    )
    ends_at = starts_at + timedelta(minutes=minutes)
    session = Session(
        practice=practice,
        patient=patient,
        therapist=therapist,
        room=room,
        massage_type=massage_type,
        course=course,
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=practice.settings.buffer_minutes),
        self_report=self_report,
        booked_by=booked_by,
    )
    # The exclusion constraints are checked by the INSERT itself (a 409 below), not by a
    # validate query that would answer with a 400; the related rows were checked above, so
    # the one-query-per-foreign-key existence checks are skipped too.
    session.full_clean(exclude=RELATIONS, validate_constraints=False)

    if room is None:
        _pick_room(session, practice=practice, now=now, calendar=calendar)

    def insert() -> None:
        if self_report is not None:
            # Only one first visit: the patient's row lock queues two bookings sent at once,
            # and the second finds the first.
            Patient.objects.select_for_update().filter(pk=patient.pk).first()
            if _has_sessions(patient):
                raise ValidationError({"massage_type": FIRST_VISIT_TAKEN})
        session.pk = None
        session._state.adding = True
        session.save()
        # R21: the confirmation and the reminders commit with the booking or not at all.
        reminders_after_booking(session, now=now)
        session_booked.send(sender=Session, session=session, online=online, now=now)

    # Everything above only read, so r19_write's block is the whole transaction: no savepoint
    # of its own unless a caller holds a transaction open around the booking.
    room_write(
        insert,
        lambda: lost_race_conflict(practice, session),
        pick_again=partial(_pick_room, session, practice=practice, now=now)
        if room is None
        else None,
    )
    return session


def session_reschedule(
    *,
    session: Session,
    starts_at: datetime,
    therapist: Therapist | None = None,
    minutes: int | None = None,
    by: User | None = None,
    now: datetime | None = None,
    by_patient: bool = False,
) -> Session:
    """Move a booked session, keeping its length and therapist unless `minutes` or
    `therapist` say otherwise (the desk's calendar drags a session to another therapist's
    column, or drags its end); reminders see the new `schedule_version`. The new day must
    allow the session as booking would (R1-R8, `patient_may_book`), a new therapist must be
    active and qualified for its type, and the time is checked as booking checks it (R19,
    R23, R10). It keeps its room if that is free then and still suits its type, else takes
    another (R19)."""
    now = now or timezone.now()
    starts_at = utc_start(starts_at)
    practice = session.practice
    with transaction.atomic():
        # The lock makes two concurrent moves (or a move and a cancel) of one session queue.
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related(
                "patient", "therapist", "room", "massage_type", "course__screening", "self_report"
            )
            .get(pk=session.pk)
        )
        if locked.status != SessionStatus.BOOKED:
            raise ValidationError({"status": _("Only a booked session can be moved.")})
        if locked.starts_at <= now:
            raise ValidationError({"starts_at": _("A session that has begun cannot be moved.")})
        patient_may_book(
            patient=locked.patient,
            massage_type=locked.massage_type,
            on=starts_at.astimezone(practice.zone).date(),
            by_patient=by_patient,
            course_screening=locked.course.screening if locked.course is not None else None,
            # The first visit moves on the questionnaire it was booked on, while unconfirmed.
            self_report=locked.self_report,
            field="starts_at",
        )
        if therapist is not None and therapist.pk != locked.therapist_id:
            booking_inputs_validate(
                practice=practice,
                patient=locked.patient,
                therapist=therapist,
                massage_type=locked.massage_type,
            )
            locked.therapist = therapist
        minutes = locked.minutes if minutes is None else minutes
        if locked.course is not None:
            _r10_same_day_error(
                locked.course, starts_at.astimezone(practice.zone).date(), practice, locked.pk
            )
        day = _check_time(
            practice=practice,
            therapist=locked.therapist,
            massage_type=locked.massage_type,
            patient=locked.patient,
            room=None,
            starts_at=starts_at,
            minutes=minutes,
            now=now,
            exclude_id=locked.pk,
        )
        moved_from = locked.starts_at
        freed_until, freed_version = locked.ends_at, locked.schedule_version
        locked.starts_at = starts_at
        locked.ends_at = starts_at + timedelta(minutes=minutes)
        locked.blocks_until = locked.ends_at + timedelta(minutes=practice.settings.buffer_minutes)
        kept_room = locked.room

        # Its own room if that is still free and suits the type, else another (R19).
        _pick_room(locked, practice=practice, now=now, calendar=day, keep=kept_room)
        locked.schedule_version += 1
        # The patient confirmed the earlier time, not this one.
        locked.confirmed_at = None
        fields = [
            "therapist",
            "starts_at",
            "ends_at",
            "blocks_until",
            "room",
            "schedule_version",
            "confirmed_at",
            "updated_at",
        ]
        room_write(
            lambda: locked.save(update_fields=fields),
            lambda: lost_race_conflict(practice, locked),
            pick_again=partial(
                _pick_room,
                locked,
                practice=practice,
                now=now,
                keep=kept_room,
                exclude_id=locked.pk,
            ),
        )
        # R22: the old time's pending reminders go, the new time's come, in this transaction;
        # R21: moved by the practice, the patient is told.
        reminders_after_reschedule(locked, now=now, moved_from=None if by_patient else moved_from)
        # The time it left may be someone's on the waitlist.
        session_time_freed.send(
            sender=Session,
            session=locked,
            starts_at=moved_from,
            ends_at=freed_until,
            schedule_version=freed_version,
            now=now,
        )
    logger.info("session %s moved to %s by %s", locked.pk, starts_at.isoformat(), by)
    return locked


def cancellation_is_late(session: Session, now: datetime) -> bool:
    """A cancel now would fall inside the practice's cancellation notice: pages warn with it
    before, and `session_cancel` records it."""
    notice = timedelta(hours=session.practice.settings.cancellation_notice_hours)
    return session.starts_at - now < notice


def session_cancel(
    *,
    session: Session,
    by: User | None,
    reason: str = "",
    now: datetime | None = None,
    medical: bool = False,
    by_patient: bool = False,
    hold_expired: bool = False,
) -> Cancellation:
    """Cancel a booked session; inside the notice period it is recorded as late.

    R13: for a course session the answer offers times to rebook it within the cadence, and a
    course with more than two missed sessions in a row is marked interrupted. `medical`: the
    check-in stopped it (R2, R8), which is never the patient's late cancellation. Unless the
    patient cancelled it (`by_patient`) or was there when the check-in stopped it, the patient
    is told (R21). `hold_expired`: the booking was held on a condition that ran out (a deposit
    unpaid in time, `sessions.booking.holds`): the practice releases it, never a late
    cancellation either, and the patient is told.
    """
    now = now or timezone.now()
    late = not (medical or hold_expired) and cancellation_is_late(session, now)
    with transaction.atomic():
        # A conditional update: of two concurrent cancels (or a cancel and a check-in) one wins.
        changed = Session.objects.filter(
            pk=session.pk, status__in=[SessionStatus.BOOKED, SessionStatus.CHECKED_IN]
        ).update(
            status=SessionStatus.CANCELLED,
            cancelled_by=by,
            cancelled_at=now,
            cancellation_reason=reason[:300],
            late_cancellation=late,
            updated_at=now,
        )
        if not changed:
            raise Conflict({"detail": str(_("Only a booked session can be cancelled."))})
        session.refresh_from_db()
        # R22: a cancelled session gets no reminder; R21: but a notice, if the practice did it.
        reminders_after_cancel(session, notify=not (by_patient or medical), now=now)
        session_time_freed.send(
            sender=Session,
            session=session,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            schedule_version=session.schedule_version,
            now=now,
        )
        if late:
            session_missed.send(sender=Session, session=session, by=by)
        options: tuple[datetime, ...] = ()
        if session.course_id is not None:
            course = Course.objects.select_for_update().get(pk=session.course_id)
            r13_flag_if_interrupted(course, now=now)
            options = r13_rebook_options(session=session, course=course, now=now)
    return Cancellation(session=session, late=late, rebook_options=options)
