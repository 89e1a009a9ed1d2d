"""Checking a patient in on the session's day (R2-R5, R7, R8): the same-day questions
again and the vitals, judged by the screening's own pure rules (`patients.screening`). A block
cancels the session as medical, pauses its course and offers times to rebook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from courses.lifecycle import course_pause
from patients.eligibility import blood_pressure_record, r8_day_blocks
from patients.models import Contraindication, HighBloodPressure, ScreeningAnswer
from patients.screening import (
    DIASTOLIC_RANGE,
    PULSE_RANGE,
    SYSTOLIC_RANGE,
    TEMPERATURE_RANGE,
    Answer,
    Effect,
    Finding,
    eligibility,
    missing_measurements,
    screening_outcome,
)
from patients.selectors import catalogue_for
from practice.calendar import from_epoch
from practice.errors import Conflict
from practice.models import User
from sessions.availability import calendar_load
from sessions.booking.sessions import session_cancel
from sessions.day.clinical import (
    local_day,
    locked_session,
    rule_text,
    session_clinical,
    state_conflict,
)
from sessions.models import ACTIVE, CheckIn, Session, SessionStatus

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
        patient_id=session.patient_id,
        massage_type_id=session.massage_type_id,
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
    R8, or such a reading earlier that day at any screening or check-in) stops today's
    session: it is cancelled as medical (never a late cancellation), its course is paused and
    R13 may flag it, and rebooking times are offered. A reading over the limit is kept for
    the day (`blood_pressure_record`). A new local finding (R3) closes only its zone for
    today. The answers are kept either way.
    """
    now = now or timezone.now()
    practice = session.practice
    with transaction.atomic():
        locked = locked_session(session)
        if locked.status != SessionStatus.BOOKED:
            raise state_conflict(locked, gettext("only a booked session can be checked in."))
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
            diastolic=diastolic,
            hypertensive=hypertensive,
            allergic_to_honey=patient.allergic_to_honey,
            fever_threshold=practice.settings.fever_threshold,
        )
        # Today's answers as a one-day screening: what blocks every type, or this session's;
        # R8: a reading over the limit earlier today blocks too, however low this one is.
        today_allowed = eligibility(
            outcome=outcome,
            screened_on=today,
            on=today,
            massage_type_code=locked.massage_type.code,
            hypertensive=hypertensive,
            allergic_to_honey=patient.allergic_to_honey,
            day_blocks=r8_day_blocks(patient=patient, on=today),
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
        # R8: kept apart from this session, so the day stays blocked once it is cancelled.
        blood_pressure_record(
            patient=patient,
            systolic=systolic,
            diastolic=diastolic,
            day=today,
            measured_at=now,
            source=HighBloodPressure.Source.CHECK_IN,
        )
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
            course_pause(course_id=locked.course_id, reason=reason, now=now)
        options = _rebook_after_block(locked, cancellation.rebook_options, now)
    logger.info("session %s stopped at check-in: %s", locked.pk, reason)
    return CheckInResult(locked, check_in, blocks, blocked_zones, options)
