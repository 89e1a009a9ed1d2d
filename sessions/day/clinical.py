"""What the screening, the day's readings and today's check-in say for a session on its day
(R1, R3, R7, R8), and the row lock every step of the session day takes.

Every step (`check_in`, `running`) loads the session with `locked_session()` and changes its
status under that row lock, so two desks (or a desk and a therapist) acting on one session at
once are served one after the other and the second hears a 409 naming the state it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext_lazy as _

from patients.eligibility import screening_eligibility, screening_for
from patients.models import Screening
from patients.screening import Effect, Eligibility, Finding
from practice.errors import Conflict
from sessions.models import CheckIn, Session

# The code `patients.screening.patient_flag_findings` gives the hypertension finding (R8); a
# screening whose answers said "hypertension" carries it even when the patient's flag is off.
HYPERTENSIVE_FINDING = "hypertensive"


@dataclass(frozen=True)
class Clinical:
    """What the screening says for a session on a day, with today's check-in zones added."""

    screening: Screening | None
    eligibility: Eligibility
    hypertensive: bool
    blocked_zones: frozenset[str]


def state_conflict(session: Session, wanted: str) -> Conflict:
    return Conflict(
        {
            "detail": str(
                _("This session is %(status)s; %(wanted)s")
                % {"status": session.get_status_display().lower(), "wanted": wanted}
            ),
            "session_status": session.status,
        }
    )


def locked_session(session: Session) -> Session:
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


def check_in_of(session: Session) -> CheckIn | None:
    try:
        return session.check_in
    except CheckIn.DoesNotExist:
        return None


def session_clinical(session: Session, on: date) -> Clinical:
    """R1 and R3 for `session` on `on`: the patient's screening valid that day or, failing
    one, the screening that opened the session's course (valid for the whole course); R8's
    day block; the patient's hypertension (R7, R8); and the zones closed by the screening or
    the check-in."""
    patient = session.patient
    course = session.course
    screening = screening_for(
        patient=patient, on=on, course_screening=course.screening if course is not None else None
    )
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
        blocked_zones=allowed.blocked_zones | check_in_blocked_zones(check_in_of(session)),
    )


def rule_text(finding: Finding) -> str:
    return f"{finding.rule}: {finding.text}"
