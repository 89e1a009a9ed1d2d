"""Running a session: who may (a manager, or the session's own therapist), start (R1),
complete with the record (R15-R18, R20), no-show (R13), and the planned protocol (R14-R17).
Course transitions go through `courses.lifecycle`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from courses.lifecycle import course_activate, course_complete, course_resume
from courses.models import Course
from practice.errors import Conflict
from practice.models import Membership, Role, User
from sessions.booking.interruptions import r13_flag_if_interrupted, r13_rebook_options
from sessions.day.clinical import (
    check_in_of,
    local_day,
    locked_session,
    rule_text,
    session_clinical,
    state_conflict,
)
from sessions.models import HELD_STATUSES, Session, SessionRecord, SessionStatus
from sessions.records.protocol import Note, SessionProtocol, session_protocol
from sessions.records.techniques import direction_for
from sessions.records.validation import BloodPressure, raise_for_violations, record_violations
from sessions.reminders.outbox import reminders_after_session_completed
from sessions.signals import session_missed

logger = logging.getLogger(__name__)

# A session starts on its own day, from this long before its booked time (the patient came
# early), never hours ahead: a record must not claim a time the session was not given.
START_EARLY = timedelta(minutes=30)


@dataclass(frozen=True)
class NoShow:
    session: Session
    # R13: this no-show made the course's missed run longer than two.
    course_interrupted: bool
    rebook_options: tuple[datetime, ...] = ()


def may_run_session(*, membership: Membership, session: Session) -> bool:
    """Who starts and completes a session: a manager any, a therapist their own only."""
    if membership.role == Role.MANAGER:
        return True
    return membership.role == Role.THERAPIST and session.therapist.user_id == membership.user_id


def session_start(*, session: Session, by: User | None, now: datetime | None = None) -> Session:
    """Start a checked-in session, on its day from `START_EARLY` before its booked time (a
    Conflict otherwise). R1: the patient must be allowed this massage type today by a valid
    screening (or the one that opened the course) and no reading over R8's limit taken that
    day; the refusal names the rule.
    A course becomes active at its first started session and a paused one resumes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = locked_session(session)
        if locked.status != SessionStatus.CHECKED_IN:
            raise state_conflict(locked, gettext("only a checked-in session can start."))
        _check_start_window(locked, now)
        clinical = session_clinical(locked, local_day(locked, now))
        if not clinical.eligibility.allowed:
            raise ValidationError(
                {"patient": [rule_text(reason) for reason in clinical.eligibility.reasons]}
            )
        locked.status = SessionStatus.IN_PROGRESS
        locked.save(update_fields=["status", "updated_at"])
        if locked.course_id is not None:
            course_activate(course_id=locked.course_id, now=now)
            course_resume(course_id=locked.course_id, now=now)
    logger.info("session %s started by %s", locked.pk, by)
    return locked


def _check_start_window(session: Session, now: datetime) -> None:
    """From `START_EARLY` before the booked start, on the session's own local day."""
    start = session.starts_at.astimezone(session.practice.zone)
    opens = max(start - START_EARLY, start.replace(hour=0, minute=0, second=0, microsecond=0))
    if opens <= now and local_day(session, now) == start.date():
        return
    raise Conflict(
        {
            "detail": gettext(
                "This session is booked for %(day)s at %(time)s; it can start from %(opens)s "
                "that day."
            )
            % {
                "day": start.date().isoformat(),
                "time": f"{start:%H:%M}",
                "opens": f"{opens:%H:%M}",
            },
            "starts_at": session.starts_at.isoformat(),
        }
    )


def _reading(systolic: int | None, diastolic: int | None) -> BloodPressure | None:
    if systolic is None or diastolic is None:
        return None
    return BloodPressure(systolic, diastolic)


# sessions.records.validation names its fields after the readings; the API's fields are the model's.
RECORD_FIELD_NAMES = {"bp_before": "systolic_before", "bp_after": "systolic_after"}


def session_complete(
    *,
    session: Session,
    techniques: Sequence[str],
    zones: Sequence[str],
    pressure: str,
    pain_before: int | None,
    pain_after: int | None,
    direction: str | None = None,
    systolic_after: int | None = None,
    diastolic_after: int | None = None,
    notes: str = "",
    by: User | None,
    now: datetime | None = None,
) -> SessionRecord:
    """Complete a session in progress with its record (R20), refused whole when any rule is
    broken: R15 (open and close with stroking), R16/R17 (direction, forbidden areas), R3 (a
    zone the screening or today's check-in closed), R7/R8 (hypertensive: pressure before and
    after, no vibration or percussion, top-down), R18 (pain 0-10). The blood pressure before
    is the check-in's reading. The course completes with its last session."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = locked_session(session)
        if locked.status != SessionStatus.IN_PROGRESS:
            raise state_conflict(locked, gettext("only a session in progress can complete."))
        clinical = session_clinical(locked, local_day(locked, now))
        check_in = check_in_of(locked)
        before = _reading(
            check_in.systolic if check_in else None, check_in.diastolic if check_in else None
        )
        direction = direction or direction_for(hypertensive=clinical.hypertensive)
        if (systolic_after is None) != (diastolic_after is None):
            name = "diastolic_after" if diastolic_after is None else "systolic_after"
            raise ValidationError({name: gettext("Give both blood-pressure values.")})
        raise_for_violations(
            record_violations(
                techniques=list(techniques),
                zones=list(zones),
                pressure=pressure,
                direction=direction,
                hypertensive=clinical.hypertensive,
                blocked_zones=clinical.blocked_zones,
                bp_before=before,
                bp_after=_reading(systolic_after, diastolic_after),
                pain_before=pain_before,
                pain_after=pain_after,
            ),
            field_names=RECORD_FIELD_NAMES,
        )
        # R18 above refuses a missing pain score.
        assert pain_before is not None
        assert pain_after is not None
        record = SessionRecord(
            practice=locked.practice,
            session=locked,
            techniques=list(techniques),
            zones=list(zones),
            pressure=pressure,
            direction=direction,
            systolic_before=before.systolic if before else None,
            diastolic_before=before.diastolic if before else None,
            systolic_after=systolic_after,
            diastolic_after=diastolic_after,
            pain_before=pain_before,
            pain_after=pain_after,
            notes=notes,
            recorded_by=by,
        )
        record.full_clean(exclude=["session", "practice", "recorded_by"])
        record.save()
        locked.status = SessionStatus.COMPLETED
        locked.save(update_fields=["status", "updated_at"])
        if locked.course_id is not None:
            _complete_course_if_done(locked.course_id, now)
        # R21: the course's next-session reminder (or, after its last, the next course's
        # nudge) commits with the record or not at all.
        reminders_after_session_completed(locked, now=now)
    return record


def _complete_course_if_done(course_id: int, now: datetime) -> None:
    """A course is completed when none of its sessions is still to come. Missed positions
    not rebooked by then stay missed (course progress shows them); an interrupted course
    (R13) keeps its flag."""
    # The course's lock: a concurrent cancel or rebooking of one of its sessions waits.
    Course.objects.select_for_update().filter(pk=course_id).first()
    to_come = Session.objects.filter(course_id=course_id, status__in=HELD_STATUSES).exists()
    if not to_come:
        course_complete(course_id=course_id, now=now)


def session_no_show(*, session: Session, by: User | None, now: datetime | None = None) -> NoShow:
    """The patient did not come: only a booked session, once its time has begun. The slot is
    freed; R13: more than two missed in a row flag the course, and times to rebook the
    missed session within the cadence are offered."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = locked_session(session)
        if locked.status != SessionStatus.BOOKED:
            raise state_conflict(locked, gettext("only a booked session can be a no-show."))
        if now < locked.starts_at:
            raise Conflict({"detail": gettext("A session is a no-show only once it has begun.")})
        locked.status = SessionStatus.NO_SHOW
        locked.save(update_fields=["status", "updated_at"])
        session_missed.send(sender=Session, session=locked, by=by)
        interrupted = False
        options: tuple[datetime, ...] = ()
        if locked.course_id is not None:
            course = Course.objects.select_for_update().get(pk=locked.course_id)
            interrupted = r13_flag_if_interrupted(course, now=now)
            options = r13_rebook_options(session=locked, course=course, now=now)
    logger.info("session %s marked no-show by %s", locked.pk, by)
    return NoShow(locked, interrupted, options)


def session_protocol_for(session: Session, *, on: date | None = None) -> SessionProtocol:
    """The planned protocol (R14-R17) from the type, the course position, the patient's
    hypertension (R8) and the zones the screening or today's check-in closed (R3). When the
    screening does not allow the session on its day (R1-R8), the protocol says so and has no
    steps."""
    day = on or local_day(session, session.starts_at)
    clinical = session_clinical(session, day)
    course = session.course
    position, course_length = (
        (session.sequence, course.sessions_count)
        if course is not None and session.sequence is not None
        else (None, None)
    )
    protocol = session_protocol(
        massage_type=session.massage_type.code,
        default_minutes=session.massage_type.default_minutes,
        position=position,
        course_length=course_length,
        hypertensive=clinical.hypertensive,
        blocked_zones=clinical.blocked_zones,
        warnings=clinical.eligibility.warnings,
    )
    if clinical.eligibility.allowed:
        return protocol
    refusals = tuple(Note(r.rule, rule_text(r)) for r in clinical.eligibility.reasons)
    return replace(protocol, steps=(), blocked_by=(*protocol.blocked_by, *refusals))
