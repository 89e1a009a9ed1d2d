"""Kept for benchmarks/figures.py, which gives its patients a valid screening with
`cleared_screening`; the tests use tests.factories.ScreeningFactory. Remove this module once
the benchmark imports ScreeningFactory itself."""

from __future__ import annotations

from datetime import date

from patients.models import Patient, Screening
from tests.factories import ScreeningFactory


def cleared_screening(patient: Patient, on: date | None = None) -> Screening:
    """A cleared screening of the patient's (R1), dated `on` (default today)."""
    return ScreeningFactory(patient=patient, screened_on=on)
