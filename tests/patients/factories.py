"""Factories and helpers for patients and screenings. `cleared_screening()` is what other
apps' tests use to give a patient a valid screening (R1) through the real service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from patients.models import Patient, Screening
from patients.selectors import catalogue_for
from patients.services import AnswerInput, screening_record
from practice.models import User
from tests.factories import PatientFactory

__all__ = ["PatientFactory", "answers_all_no", "cleared_screening", "screening_with"]


def answers_all_no(patient: Patient, **yes: str) -> list[AnswerInput]:
    """An answer to every item of the patient's practice's catalogue: "no", except the codes
    given as keywords, answered "yes" with the value as zone (empty string: no zone)."""
    return [
        AnswerInput(code=item.code, yes=item.code in yes, zone=yes.get(item.code, ""))
        for item in catalogue_for(practice=patient.practice_id)
    ]


def screening_with(
    patient: Patient,
    *,
    yes: dict[str, str] | None = None,
    on: date | None = None,
    recorded_by: User | None = None,
    **vitals: object,
) -> Screening:
    """A screening through the real service: `yes` maps item codes answered yes to a zone."""
    if patient.hypertensive:
        vitals.setdefault("systolic", 130)
        vitals.setdefault("diastolic", 80)
    vitals.setdefault("temperature", Decimal("36.6"))
    return screening_record(
        patient=patient,
        answers=answers_all_no(patient, **(yes or {})),
        screened_on=on,
        recorded_by=recorded_by,
        **vitals,
    )


def cleared_screening(patient: Patient, on: date | None = None) -> Screening:
    """Every answer "no", a normal temperature (and blood pressure for a hypertensive
    patient, R7): the outcome is `cleared` (or `restricted` to no vibration when the patient
    is hypertensive, R8). Valid from `on` (default today) for the practice's validity (R1)."""
    return screening_with(patient, on=on)
