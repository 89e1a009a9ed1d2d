"""The session day: check in (R7, R8, R2-R5), start (R1), complete with the record (R15-R18,
R20), no-show (R13), and the planned protocol (R14-R17).

Every clinical decision is made by the pure rules that already exist: the screening's
(`patients.screening`) for the same-day answers and the vitals, `sessions.records` for the
record, `sessions.protocol` for the plan, `courses.rules` for R13. This module loads the rows,
calls them, and changes a session's status under a row lock, so two desks (or a desk and a
therapist) acting on one session at once are served one after the other and the second hears
a 409 naming the state it found.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseStatus
from patients.models import Contraindication, Screening, ScreeningAnswer
from patients.screening import (
    DIASTOLIC_RANGE,
    PULSE_RANGE,
    SYSTOLIC_RANGE,
    TEMPERATURE_RANGE,
    Answer,
    Effect,
    Eligibility,
    Finding,
    eligibility,
    missing_measurements,
    screening_outcome,
)
from patients.selectors import catalogue_for, patient_screening_status
from patients.services import screening_eligibility
from practice.api_errors import Conflict
from practice.models import Membership, Role, User
from sessions.availability import calendar_load, from_epoch
from sessions.models import ACTIVE, CheckIn, Session, SessionRecord, SessionStatus
from sessions.protocol import Note, SessionProtocol, session_protocol
from sessions.records import BloodPressure, raise_for_violations, record_violations
from sessions.reminders import reminders_after_session_completed
from sessions.services import r13_flag_if_interrupted, r13_rebook_options, session_cancel
from sessions.techniques import direction_for

logger = logging.getLogger(__name__)

# The screening questions whose answer can change from one day to the next, asked again on
# arrival: fever and acute infection (R2), an exacerbation (R5), new wounds, inflamed skin or
# a rash (R3). Data, not code: a practice that switched an item off is not asked it (R2 items
# cannot be switched off).
SAME_DAY_QUESTIONS: tuple[str, ...] = (
    "fever",
    "acute_infection",
    "chronic_exacerbation",
    "wound",
    "inflamed_skin",
    "allergic_rash",
)
# The code `patients.screening.patient_flag_findings` gives the hypertension finding (R8); a
# screening whose answers said "hypertension" carries it even when the patient's flag is off.
HYPERTENSIVE_FINDING = "hypertensive"
# How far ahead a session stopped at check-in is offered new times when its course's cadence
# leaves no room (or it is a single session).
REBOOK_DAYS = 7
REBOOK_LIMIT = 12


@dataclass(frozen=True)
class CheckInAnswer:
    code: str
    yes: bool
    zone: str = ""


@dataclass(frozen=True)
class CheckInResult:
    session: Session
    check_in: CheckIn
    # What stops the session today (R2, R5, R8); empty when it may go ahead.
    blocked_by: tuple[Finding, ...]
    # Zones a new local finding closes for today (R3), as screening zone codes.
    blocked_zones: frozenset[str]
    # For the front desk when the session was stopped: free times from tomorrow.
    rebook_options: tuple[datetime, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)


@dataclass(frozen=True)
class NoShow:
    session: Session
    # R13: this no-show made the course's missed run longer than two.
    course_interrupted: bool
    rebook_options: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Clinical:
    """What the screening says for a session on a day, with today's check-in zones added."""

    screening: Screening | None
    eligibility: Eligibility
    hypertensive: bool
    blocked_zones: frozenset[str]


def may_run_session(*, membership: Membership, session: Session) -> bool:
    """Who starts and completes a session: a manager any, a therapist their own only."""
    if membership.role == Role.MANAGER:
        return True
    return membership.role == Role.THERAPIST and session.therapist.user_id == membership.user_id


def _state_conflict(session: Session, wanted: str) -> Conflict:
    return Conflict(
        {
            "detail": str(
                _("This session is %(status)s; %(wanted)s")
                % {"status": session.get_status_display().lower(), "wanted": wanted}
            ),
            "session_status": session.status,
        }
    )


def _locked(session: Session) -> Session:
    """The session's row, locked until the transaction ends, with what the rules read."""
    locked = (
        Session.objects.select_for_update(of=("self",))
        .select_related("patient", "massage_type", "course__screening", "therapist")
        .get(pk=session.pk)
    )
    locked.practice = session.practice
    return locked


def local_day(session: Session, moment: datetime) -> date:
    return moment.astimezone(session.practice.zone).date()


def check_in_blocked_zones(check_in: CheckIn | None) -> frozenset[str]:
    """The zones the check-in's local findings closed for the day (R3)."""
    if check_in is None:
        return frozenset()
    return frozenset(
        finding["zone"]
        for finding in check_in.blocked_by
        if finding.get("effect") == Effect.ZONE and finding.get("zone")
    )


def _check_in_of(session: Session) -> CheckIn | None:
    try:
        return session.check_in
    except CheckIn.DoesNotExist:
        return None


def session_clinical(session: Session, on: date) -> Clinical:
    """R1 and R3 for `session` on `on`: the patient's screening valid that day or, failing
    one, the screening that opened the session's course (valid for the whole course); the
    patient's hypertension (R7, R8); and the zones closed by the screening or the check-in."""
    patient = session.patient
    screening = patient_screening_status(patient=patient, on=on).screening
    course = session.course
    if screening is None and course is not None and course.screening_id is not None:
        screening = course.screening
    allowed = screening_eligibility(
        screening=screening, patient=patient, massage_type=session.massage_type, on=on
    )
    hypertensive = patient.hypertensive or (
        screening is not None
        and any(f.code == HYPERTENSIVE_FINDING for f in screening.outcome.findings)
    )
    return Clinical(
        screening=screening,
        eligibility=allowed,
        hypertensive=hypertensive,
        blocked_zones=allowed.blocked_zones | check_in_blocked_zones(_check_in_of(session)),
    )


def same_day_questions(practice_id: int) -> list[Contraindication]:
    return list(
        catalogue_for(practice=practice_id)
        .filter(code__in=SAME_DAY_QUESTIONS)
        .order_by("position", "id")
    )


def _answer_errors(
    session: Session, answers: Sequence[CheckInAnswer], items: dict[str, Contraindication]
) -> list[str]:
    """Every same-day question answered once, each answer valid by the screening's own rules
    (a zone for a local "yes", R3; no zone where an item has none)."""
    errors: list[str] = []
    given = [answer.code for answer in answers]
    if unknown := sorted(set(given) - set(items)):
        errors.append(
            gettext("Not a same-day question: %(codes)s.") % {"codes": ", ".join(unknown)}
        )
    if repeated := sorted({code for code in given if given.count(code) > 1}):
        errors.append(gettext("Answered twice: %(codes)s.") % {"codes": ", ".join(repeated)})
    if missing := [code for code in items if code not in given]:
        errors.append(
            gettext("Answer every question; missing: %(codes)s.") % {"codes": ", ".join(missing)}
        )
    for answer in answers:
        item = items.get(answer.code)
        if item is None:
            continue
        row = ScreeningAnswer(
            practice_id=session.practice_id, contraindication=item, yes=answer.yes, zone=answer.zone
        )
        try:
            row.full_clean(exclude=["screening"])
        except ValidationError as exc:
            errors.extend(
                f"{answer.code}: {message}"
                for messages in exc.message_dict.values()
                for message in messages
            )
    return errors


def _vitals_errors(
    *,
    temperature: Decimal | None,
    systolic: int | None,
    diastolic: int | None,
    pulse: int | None,
    hypertensive: bool,
) -> dict[str, list[str]]:
    """A typing error is refused (never stored); R7: a hypertensive patient gives a reading."""
    errors: dict[str, list[str]] = {
        name: [message]
        for name, message in missing_measurements(
            hypertensive=hypertensive, systolic=systolic, diastolic=diastolic
        ).items()
    }
    for name, value, (low, high) in (
        ("temperature", temperature, TEMPERATURE_RANGE),
        ("systolic", systolic, SYSTOLIC_RANGE),
        ("diastolic", diastolic, DIASTOLIC_RANGE),
        ("pulse", pulse, PULSE_RANGE),
    ):
        if value is not None and not low <= value <= high:
            errors.setdefault(name, []).append(
                gettext("Give a value from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
    if (systolic is None) != (diastolic is None):
        name = "diastolic" if diastolic is None else "systolic"
        errors.setdefault(name, []).append(gettext("Give both blood-pressure values."))
    elif systolic is not None and diastolic is not None and diastolic >= systolic:
        errors.setdefault("diastolic", []).append(
            gettext("The diastolic value must be below the systolic.")
        )
    return errors


def rule_text(finding: Finding) -> str:
    return f"{finding.rule}: {finding.message}"


def _rebook_after_block(
    session: Session, options: Iterable[datetime], now: datetime
) -> tuple[datetime, ...]:
    """R8: "the slot is released and the front desk is prompted to rebook" - never today.
    A course session keeps R13's options inside the cadence when there are any after today;
    otherwise (and for a single session) the same therapist's free times of the next week,
    never on a day the course already has a session (R10)."""
    zone = session.practice.zone
    today = local_day(session, now)
    later = tuple(o for o in options if o.astimezone(zone).date() > today)
    if later:
        return later
    first, last = today + timedelta(days=1), today + timedelta(days=REBOOK_DAYS)
    taken_days: set[date] = set()
    if session.course_id is not None:
        taken_days = {
            s.astimezone(zone).date()
            for s in Session.objects.filter(ACTIVE, course_id=session.course_id).values_list(
                "starts_at", flat=True
            )
        }
    calendar = calendar_load(
        practice=session.practice,
        therapist_ids=[session.therapist_id],
        first=first,
        last=last,
        now=now,
        room=session.room,
        patient_id=session.patient_id,
    )
    found = []
    for start in calendar.free_starts(session.therapist_id, first, last, session.minutes):
        moment = from_epoch(start)
        if moment.astimezone(zone).date() in taken_days:
            continue
        found.append(moment)
        if len(found) >= REBOOK_LIMIT:
            break
    return tuple(found)


def session_check_in(
    *,
    session: Session,
    answers: Sequence[CheckInAnswer],
    temperature: Decimal | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    pulse: int | None = None,
    by: User | None,
    now: datetime | None = None,
) -> CheckInResult:
    """Check a patient in on the session's day: the same-day questions again, the vitals.

    The answers are judged by the screening's own rules (`screening_outcome`, `eligibility`).
    A block (fever or another new absolute item R2, an exacerbation R5, systolic over 160
    R8) stops today's session: it is cancelled as medical (never a late cancellation), its
    course is paused and R13 may flag it, and rebooking times are offered. A new local
    finding (R3) closes only its zone for today. The answers are kept either way.
    """
    now = now or timezone.now()
    practice = session.practice
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != SessionStatus.BOOKED:
            raise _state_conflict(locked, gettext("only a booked session can be checked in."))
        today = local_day(locked, now)
        if local_day(locked, locked.starts_at) != today:
            raise Conflict({"detail": gettext("A session is checked in on its own day.")})
        patient = locked.patient
        hypertensive = session_clinical(locked, today).hypertensive
        items = {item.code: item for item in same_day_questions(practice.pk)}
        errors = _vitals_errors(
            temperature=temperature,
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            hypertensive=hypertensive,
        )
        if answer_errors := _answer_errors(locked, answers, items):
            errors["answers"] = answer_errors
        if errors:
            raise ValidationError(errors)

        outcome = screening_outcome(
            catalogue={code: item.as_item() for code, item in items.items()},
            answers=[Answer(a.code, a.yes, a.zone) for a in answers],
            temperature=temperature,
            systolic=systolic,
            hypertensive=hypertensive,
            allergic_to_honey=patient.allergic_to_honey,
            fever_threshold=practice.settings.fever_threshold,
        )
        # Today's answers as a one-day screening: what blocks every type, or this session's.
        today_allowed = eligibility(
            outcome=outcome,
            screened_on=today,
            on=today,
            massage_type_code=locked.massage_type.code,
            hypertensive=hypertensive,
            allergic_to_honey=patient.allergic_to_honey,
        )
        blocks = today_allowed.reasons
        zone_findings = tuple(f for f in outcome.findings if f.effect == Effect.ZONE)
        check_in = CheckIn(
            practice=practice,
            session=locked,
            answers={a.code: {"yes": a.yes, "zone": a.zone} for a in answers},
            temperature=temperature,
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            blocked_by=[f.as_json() for f in (*blocks, *zone_findings)],
            checked_in_by=by,
        )
        check_in.full_clean(exclude=["session", "practice", "checked_in_by"])
        check_in.save()
        blocked_zones = frozenset(f.zone for f in zone_findings)
        if not blocks:
            locked.status = SessionStatus.CHECKED_IN
            locked.save(update_fields=["status", "updated_at"])
            return CheckInResult(locked, check_in, (), blocked_zones)

        reason = gettext("Medical: %(findings)s") % {
            "findings": "; ".join(rule_text(f) for f in blocks)
        }
        cancellation = session_cancel(session=locked, by=by, reason=reason, now=now, medical=True)
        if locked.course_id is not None:
            # R8: the course waits for its next session to start (`session_start` resumes it).
            Course.objects.filter(pk=locked.course_id).update(
                paused_at=now, pause_reason=reason[:300], updated_at=now
            )
        options = _rebook_after_block(locked, cancellation.rebook_options, now)
    logger.info("session %s stopped at check-in: %s", locked.pk, reason)
    return CheckInResult(locked, check_in, blocks, blocked_zones, options)


def session_start(*, session: Session, by: User | None, now: datetime | None = None) -> Session:
    """Start a checked-in session. R1: the patient must be allowed this massage type today
    by a valid screening (or the one that opened the course); the refusal names the rule.
    A course becomes active at its first started session and a paused one resumes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != SessionStatus.CHECKED_IN:
            raise _state_conflict(locked, gettext("only a checked-in session can start."))
        clinical = session_clinical(locked, local_day(locked, now))
        if not clinical.eligibility.allowed:
            raise ValidationError(
                {"patient": [rule_text(reason) for reason in clinical.eligibility.reasons]}
            )
        locked.status = SessionStatus.IN_PROGRESS
        locked.save(update_fields=["status", "updated_at"])
        if locked.course_id is not None:
            # Conditional updates: whichever session of the course starts first activates it.
            Course.objects.filter(pk=locked.course_id, status=CourseStatus.PLANNED).update(
                status=CourseStatus.ACTIVE, updated_at=now
            )
            Course.objects.filter(pk=locked.course_id, paused_at__isnull=False).update(
                paused_at=None, pause_reason="", updated_at=now
            )
    logger.info("session %s started by %s", locked.pk, by)
    return locked


def _reading(systolic: int | None, diastolic: int | None) -> BloodPressure | None:
    if systolic is None or diastolic is None:
        return None
    return BloodPressure(systolic, diastolic)


# sessions.records names its fields after the readings; the API's fields are the model's.
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
        locked = _locked(session)
        if locked.status != SessionStatus.IN_PROGRESS:
            raise _state_conflict(locked, gettext("only a session in progress can complete."))
        clinical = session_clinical(locked, local_day(locked, now))
        check_in = _check_in_of(locked)
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
    course = Course.objects.select_for_update().get(pk=course_id)
    to_come = course.sessions.filter(
        status__in=[SessionStatus.BOOKED, SessionStatus.CHECKED_IN, SessionStatus.IN_PROGRESS]
    ).exists()
    if not to_come and course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE):
        course.status = CourseStatus.COMPLETED
        course.paused_at = None
        course.pause_reason = ""
        course.save(update_fields=["status", "paused_at", "pause_reason", "updated_at"])


def session_no_show(*, session: Session, by: User | None, now: datetime | None = None) -> NoShow:
    """The patient did not come: only a booked session, once its time has begun. The slot is
    freed; R13: more than two missed in a row flag the course, and times to rebook the
    missed session within the cadence are offered."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(session)
        if locked.status != SessionStatus.BOOKED:
            raise _state_conflict(locked, gettext("only a booked session can be a no-show."))
        if now < locked.starts_at:
            raise Conflict({"detail": gettext("A session is a no-show only once it has begun.")})
        locked.status = SessionStatus.NO_SHOW
        locked.save(update_fields=["status", "updated_at"])
        interrupted = False
        options: tuple[datetime, ...] = ()
        if locked.course_id is not None:
            course = Course.objects.select_for_update().get(pk=locked.course_id)
            interrupted = r13_flag_if_interrupted(course)
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
    in_course = course is not None and session.sequence is not None
    protocol = session_protocol(
        massage_type=session.massage_type.code,
        default_minutes=session.massage_type.default_minutes,
        position=session.sequence if in_course else None,
        course_length=course.sessions_count if in_course else None,
        hypertensive=clinical.hypertensive,
        blocked_zones=clinical.blocked_zones,
        warnings=clinical.eligibility.warnings,
    )
    if clinical.eligibility.allowed:
        return protocol
    refusals = tuple(Note(r.rule, rule_text(r)) for r in clinical.eligibility.reasons)
    return replace(protocol, steps=(), blocked_by=(*protocol.blocked_by, *refusals))
