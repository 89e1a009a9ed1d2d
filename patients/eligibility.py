"""The one eligibility check courses and sessions call (R1-R8), and the blood-pressure
readings over R8's limit that block a patient's day.

A screening's outcome says which massage types it allows (`patients.screening`); a reading
over R8's limit, from a screening or a check-in, blocks every session of the patient for the
rest of that local day whatever is measured later (`HighBloodPressure`). Every gate (booking
by staff or by the patient, course planning and booking, moves, check-in, start) asks here.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from patients.models import HighBloodPressure, Patient, Screening
from patients.screening import (
    Eligibility,
    Finding,
    blood_pressure_finding,
    day_block_finding,
    eligibility,
)
from patients.selectors import patient_screening_status, r8_readings_on
from practice.models import MassageType


def blood_pressure_record(
    *,
    patient: Patient,
    systolic: int | None,
    diastolic: int | None,
    day: date,
    measured_at: datetime,
    source: HighBloodPressure.Source,
) -> HighBloodPressure | None:
    """Keep a reading over R8's limit, whichever screening or check-in it was taken at: it
    blocks the patient's sessions for the rest of `day` (the practice's local day), even when
    the session it was taken for is cancelled or a later reading is lower."""
    if systolic is None or blood_pressure_finding(systolic) is None:
        return None
    reading = HighBloodPressure(
        practice_id=patient.practice_id,
        patient=patient,
        day=day,
        measured_at=measured_at,
        systolic=systolic,
        diastolic=diastolic,
        source=source,
    )
    reading.full_clean(exclude=["practice", "patient"])
    reading.save()
    return reading


def r8_day_blocks(*, patient: Patient, on: date) -> tuple[Finding, ...]:
    """R8: what the day's readings over the limit say, each naming its reading and time."""
    readings = r8_readings_on(patient=patient, on=on)
    if not readings:
        return ()  # without reading the patient's practice: most bookings stop here
    zone = patient.practice.zone
    return tuple(
        day_block_finding(
            systolic=reading.systolic,
            diastolic=reading.diastolic,
            measured_at=reading.measured_at.astimezone(zone).time(),
            source=reading.get_source_display(),
        )
        for reading in readings
    )


def screening_eligibility(
    *, screening: Screening | None, patient: Patient, massage_type: MassageType, on: date
) -> Eligibility:
    """May the patient have `massage_type` on `on` under this screening (None: R1 blocks)?
    For a course, pass the screening that opened it: it stays valid for the whole course.
    A reading over R8's limit taken that day blocks whatever the screening says."""
    return eligibility(
        outcome=screening.outcome if screening is not None else None,
        screened_on=screening.screened_on if screening is not None else None,
        on=on,
        massage_type_code=massage_type.code,
        hypertensive=patient.hypertensive,
        allergic_to_honey=patient.allergic_to_honey,
        screening_id=screening.pk if screening is not None else None,
        day_blocks=r8_day_blocks(patient=patient, on=on),
    )


def screening_for(
    *, patient: Patient, on: date, course_screening: Screening | None = None
) -> Screening | None:
    """R1: the patient's screening valid on `on` or, failing one, the screening that opened
    the session's course (valid for the whole course)."""
    return patient_screening_status(patient=patient, on=on).screening or course_screening


def patient_may_receive(
    *,
    patient: Patient,
    massage_type: MassageType,
    on: date,
    course_screening: Screening | None = None,
    self_report: Screening | None = None,
) -> Eligibility:
    """The single check courses and sessions call (R1-R8): allowed, or not with reasons (rule
    ids and items), or allowed with warnings and blocked zones. `course_screening`: the
    screening that opened the session's course, which counts when none is valid on `on`.
    `self_report`: the patient's questionnaire awaiting confirmation, which stands in for a
    screening only for the first visit they book online (`first_visit_self_report` in the
    booking module decides that); what it blocks (R2-R6, R8) blocks as a screening would."""
    if massage_type.practice_id != patient.practice_id:
        raise ValidationError({"massage_type": _("This belongs to another practice.")})
    screening = screening_for(patient=patient, on=on, course_screening=course_screening)
    if (
        screening is None
        and self_report is not None
        and self_report.patient_id == patient.pk
        and self_report.awaiting_confirmation
        and self_report.screened_on <= on <= self_report.valid_until
    ):
        screening = self_report
    return screening_eligibility(
        screening=screening, patient=patient, massage_type=massage_type, on=on
    )


def patient_may_book(
    *,
    patient: Patient,
    massage_type: MassageType,
    on: date,
    by_patient: bool,
    course_screening: Screening | None = None,
    self_report: Screening | None = None,
    field: str = "massage_type",
) -> Eligibility:
    """May a session of `massage_type` be booked (or moved) onto `on`? What a valid screening
    blocks (R2-R6, R8 hypertension) and R8's day block refuse anyone, naming the rule. With
    no valid screening yet (R1), staff may book ahead: the session shows "screening needed"
    and R1 still gates its start; a patient booking for themselves may not, except their first
    visit on their own questionnaire (`self_report`, see `patient_may_receive`)."""
    allowed = patient_may_receive(
        patient=patient,
        massage_type=massage_type,
        on=on,
        course_screening=course_screening,
        self_report=self_report if by_patient else None,
    )
    refusals = allowed.reasons if by_patient else allowed.blocks
    if refusals:
        raise ValidationError({field: [f"{f.rule}: {f.text}" for f in refusals]})
    return allowed
