"""Writes for patients and screenings; the eligibility check they feed is `patients.eligibility`.

Every rule is decided by the pure functions of `patients.screening` (R1-R8); these services
load rows, validate them with `full_clean()`, call the rules and store the outcome atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.eligibility import blood_pressure_record
from patients.models import (
    Contraindication,
    DoctorClearance,
    HighBloodPressure,
    Patient,
    Screening,
    ScreeningAnswer,
)
from patients.screening import (
    Answer,
    Outcome,
    missing_measurements,
    screening_outcome,
)
from patients.selectors import catalogue_for, duplicates_of
from practice.models import Practice, User

__all__ = [
    "AlreadyConfirmed",
    "AnswerInput",
    "ClearanceInput",
    "DuplicatePatient",
    "ScreeningInvalid",
    "clearance_add",
    "patient_archive",
    "patient_create",
    "patient_update",
    "screening_confirm",
    "screening_preview",
    "screening_record",
]

# The fields staff edit on a patient, in the order forms show them; the API, the pages and the
# admin all list these.
PATIENT_EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "consent_email",
    "consent_sms",
    "consent_given_on",
    "emergency_contact_name",
    "emergency_contact_phone",
    "hypertensive",
    "chronic_plan",
    "allergic_to_honey",
    "allergies",
    "notes",
    "user",
)
PATIENT_EDITABLE = frozenset(PATIENT_EDITABLE_FIELDS)


class DuplicatePatient(ValidationError):
    """The new or changed record looks like one the practice already has."""

    def __init__(self, duplicates: Sequence[Patient]) -> None:
        self.duplicates = list(duplicates)
        names = ", ".join(
            f"{patient.full_name} (#{patient.pk}, {patient.date_of_birth:%Y-%m-%d})"
            for patient in self.duplicates
        )
        super().__init__(
            _("This looks like an existing patient: %(names)s. Confirm to save anyway.")
            % {"names": names},
            code="duplicate_patient",
        )


def _screening_errors(
    *, screening: Screening, patient: Patient, said_hypertensive: bool, require_bp: bool
) -> dict[str, list[str]]:
    """What is wrong with a screening row before it is written: R7 (a hypertensive patient's
    screening needs a blood-pressure reading) and the model's own checks."""
    errors: dict[str, list[str]] = {}
    if require_bp:
        missing = missing_measurements(  # R7
            hypertensive=patient.hypertensive or said_hypertensive,
            systolic=screening.systolic,
            diastolic=screening.diastolic,
        )
        errors.update((name, [message]) for name, message in missing.items())
    try:
        screening.full_clean(exclude=["status", "outcome_data"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    return errors


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - PATIENT_EDITABLE
    if unknown:
        raise ValidationError(
            {name: [_("This field cannot be set here.")] for name in sorted(unknown)}
        )


def _check_duplicates(patient: Patient, confirm_duplicate: bool) -> None:
    if confirm_duplicate:
        return
    # Not race-proof (two desks saving the same person at once both pass): a likely duplicate
    # is a question for the user, not an invariant the database must hold.
    duplicates = duplicates_of(patient=patient)
    if duplicates:
        raise DuplicatePatient(duplicates)


@transaction.atomic
def patient_create(
    *, practice: Practice, confirm_duplicate: bool = False, **fields: Any
) -> Patient:
    """Create a patient record. One that looks like an existing patient of the practice (same
    name and date of birth, or same phone or email) is refused with `DuplicatePatient`
    unless `confirm_duplicate`."""
    _check_fields(fields)
    patient = Patient(practice=practice, **fields)
    patient.full_clean()  # also normalises phone numbers to E.164 before the duplicate check
    _check_duplicates(patient, confirm_duplicate)
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, confirm_duplicate: bool = False, **fields: Any) -> Patient:
    _check_fields(fields)
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    identity = {"given_name", "family_name", "date_of_birth", "phone", "email"}
    if identity & set(fields):
        _check_duplicates(patient, confirm_duplicate)
    patient.save()
    return patient


def patient_archive(*, patient: Patient) -> Patient:
    """Archive, never delete: screenings and sessions keep pointing at the record."""
    Patient.objects.filter(pk=patient.pk).update(archived=True, updated_at=timezone.now())
    patient.archived = True
    return patient


class ScreeningInvalid(ValidationError):
    """A screening refused before anything was written. `item_errors` keeps which catalogue
    item (code) and which of its fields ("yes", "zone", "note") each answer error is about,
    so a form can show it next to the question; the message dict is what the API returns."""

    def __init__(
        self,
        message: dict[str, list[str]],
        *,
        item_errors: dict[str, dict[str, list[str]]] | None = None,
    ) -> None:
        super().__init__(message)
        self.item_errors = item_errors or {}


@dataclass(frozen=True)
class AnswerInput:
    code: str
    yes: bool
    zone: str = ""
    note: str = ""


@dataclass(frozen=True)
class ClearanceInput:
    code: str
    doctor_name: str
    issued_on: date
    document: File | None = None


def _outcome_of(
    *, screening: Screening, answers: Iterable[ScreeningAnswer], cleared_codes: Iterable[str]
) -> Outcome:
    """R2-R8 for one screening, from its answer rows and the items doctors cleared."""
    answers = list(answers)
    patient = screening.patient
    said_hypertensive = any(a.yes and a.contraindication.code == "hypertension" for a in answers)
    return screening_outcome(
        catalogue={a.contraindication.code: a.contraindication.as_item() for a in answers},
        answers=[Answer(a.contraindication.code, a.yes, a.zone) for a in answers],
        cleared_codes=cleared_codes,
        temperature=screening.temperature,
        systolic=screening.systolic,
        diastolic=screening.diastolic,
        hypertensive=patient.hypertensive or said_hypertensive,
        allergic_to_honey=patient.allergic_to_honey,
        fever_threshold=patient.practice.settings.fever_threshold,
    )


def _store_outcome(screening: Screening, outcome: Outcome) -> None:
    screening.status = outcome.status
    screening.outcome_data = outcome.as_json()


def _answer_rows(
    screening: Screening, answers: Sequence[AnswerInput], catalogue: dict[str, Contraindication]
) -> list[ScreeningAnswer]:
    """One row per catalogue item, validated; every item must be answered, once."""
    errors: list[str] = []
    given = [answer.code for answer in answers]
    unknown = sorted(set(given) - set(catalogue))
    if unknown:
        errors.append(_("Unknown item(s): %(codes)s.") % {"codes": ", ".join(unknown)})
    repeated = sorted({code for code in given if given.count(code) > 1})
    if repeated:
        errors.append(_("Answered twice: %(codes)s.") % {"codes": ", ".join(repeated)})
    missing = [code for code in catalogue if code not in given]
    if missing:
        errors.append(_("Answer every item; missing: %(codes)s.") % {"codes": ", ".join(missing)})
    if errors:
        raise ScreeningInvalid({"answers": errors})
    rows = []
    item_errors: dict[str, dict[str, list[str]]] = {}
    for answer in answers:
        row = ScreeningAnswer(
            practice_id=screening.practice_id,
            screening=screening,
            contraindication=catalogue[answer.code],
            yes=answer.yes,
            zone=answer.zone,
            note=answer.note,
        )
        try:
            row.full_clean(exclude=["screening"])
        except ValidationError as exc:
            item_errors[answer.code] = exc.message_dict
            errors.extend(
                f"{answer.code}: {message}"
                for messages in exc.message_dict.values()
                for message in messages
            )
        rows.append(row)
    if errors:
        raise ScreeningInvalid({"answers": errors}, item_errors=item_errors)
    return rows


def _clearance_rows(
    screening: Screening,
    clearances: Sequence[ClearanceInput],
    catalogue: dict[str, Contraindication],
) -> list[DoctorClearance]:
    errors: list[str] = []
    rows = []
    for clearance in clearances:
        item = catalogue.get(clearance.code)
        if item is None:
            errors.append(_("Unknown item “%(code)s”.") % {"code": clearance.code})
            continue
        row = DoctorClearance(
            practice_id=screening.practice_id,
            screening=screening,
            contraindication=item,
            doctor_name=clearance.doctor_name,
            issued_on=clearance.issued_on,
        )
        if clearance.document is not None:
            row.document = clearance.document
        try:
            row.full_clean(exclude=["screening"])
        except ValidationError as exc:
            errors.extend(
                f"{clearance.code}: {message}"
                for messages in exc.message_dict.values()
                for message in messages
            )
        rows.append(row)
    if errors:
        raise ValidationError({"clearances": errors})
    return rows


@dataclass(frozen=True)
class _CheckedScreening:
    screening: Screening
    answers: list[ScreeningAnswer]
    clearances: list[DoctorClearance]
    outcome: Outcome


def _screening_check(
    *,
    patient: Patient,
    answers: Sequence[AnswerInput],
    recorded_by: User | None,
    screened_on: date | None,
    temperature: Decimal | None,
    systolic: int | None,
    diastolic: int | None,
    pulse: int | None,
    notes: str,
    clearances: Sequence[ClearanceInput],
    self_reported: bool,
) -> _CheckedScreening:
    """Build and validate a screening and compute its outcome, writing nothing: the one path
    behind both `screening_record` and `screening_preview`, so a preview can never differ
    from what saving would store."""
    practice = patient.practice
    settings = practice.settings
    screened_on = screened_on or timezone.localdate(timezone=practice.zone)
    catalogue = {item.code: item for item in catalogue_for(practice=practice)}
    screening = Screening(
        practice=practice,
        patient=patient,
        screened_on=screened_on,
        recorded_by=recorded_by,
        temperature=temperature,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        notes=notes,
        valid_until=screened_on + timedelta(days=settings.screening_validity_days - 1),
        status="",
        self_reported=self_reported,
    )
    errors: dict[str, list[str]] = {}
    item_errors: dict[str, dict[str, list[str]]] = {}
    answer_rows: list[ScreeningAnswer] = []
    clearance_rows: list[DoctorClearance] = []
    try:
        answer_rows = _answer_rows(screening, answers, catalogue)
    except ScreeningInvalid as exc:
        errors.update(exc.message_dict)
        item_errors = exc.item_errors
    try:
        clearance_rows = _clearance_rows(screening, clearances, catalogue)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    # R7 is checked when staff confirm a self-reported screening: a patient at home has no
    # blood-pressure reading to give.
    errors.update(
        _screening_errors(
            screening=screening,
            patient=patient,
            said_hypertensive=any(a.code == "hypertension" and a.yes for a in answers),
            require_bp=not self_reported,
        )
    )
    if errors:
        # Everything is checked before anything is written: one 400 lists every problem.
        raise ScreeningInvalid(errors, item_errors=item_errors)

    outcome = _outcome_of(
        screening=screening,
        answers=answer_rows,
        cleared_codes=[row.contraindication.code for row in clearance_rows],
    )
    return _CheckedScreening(screening, answer_rows, clearance_rows, outcome)


def screening_preview(
    *,
    patient: Patient,
    answers: Sequence[AnswerInput],
    screened_on: date | None = None,
    temperature: Decimal | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    pulse: int | None = None,
    notes: str = "",
    clearances: Sequence[ClearanceInput] = (),
) -> Outcome:
    """The outcome `screening_record` would store for these answers and vitals, with the same
    validation (`ScreeningInvalid`), without writing anything."""
    return _screening_check(
        patient=patient,
        answers=answers,
        recorded_by=None,
        screened_on=screened_on,
        temperature=temperature,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        notes=notes,
        clearances=clearances,
        self_reported=False,
    ).outcome


@transaction.atomic
def screening_record(
    *,
    patient: Patient,
    answers: Sequence[AnswerInput],
    recorded_by: User | None = None,
    screened_on: date | None = None,
    temperature: Decimal | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    pulse: int | None = None,
    notes: str = "",
    clearances: Sequence[ClearanceInput] = (),
    self_reported: bool = False,
) -> Screening:
    """Record a screening with an answer to every item of the practice's catalogue and store
    its computed outcome. It is valid for the practice's screening validity from its date (R1)
    and supersedes earlier ones. Refused (nothing saved) on an impossible value, an unknown or
    missing item, or a hypertensive patient without a blood-pressure reading (R7).

    `self_reported`: the patient filled it in the portal; it counts for nothing (R1) until
    `screening_confirm`, which is also when R7 is checked."""
    checked = _screening_check(
        patient=patient,
        answers=answers,
        recorded_by=recorded_by,
        screened_on=screened_on,
        temperature=temperature,
        systolic=systolic,
        diastolic=diastolic,
        pulse=pulse,
        notes=notes,
        clearances=clearances,
        self_reported=self_reported,
    )
    screening = checked.screening
    _store_outcome(screening, checked.outcome)
    screening.save()
    blood_pressure_record(
        patient=patient,
        systolic=screening.systolic,
        diastolic=screening.diastolic,
        day=screening.screened_on,
        measured_at=screening.recorded_at,
        source=HighBloodPressure.Source.SCREENING,
    )
    ScreeningAnswer.objects.bulk_create(checked.answers)
    for row in checked.clearances:
        row.screening = screening
        row.save()
    return screening


class AlreadyConfirmed(ValidationError):
    """Someone confirmed this screening first."""


@transaction.atomic
def screening_confirm(
    *,
    screening: Screening,
    confirmed_by: User,
    temperature: Decimal | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    pulse: int | None = None,
) -> Screening:
    """A staff member confirms a patient's self-reported screening after going through it
    with them and measuring the vitals. From now on it is a screening like any other (R1):
    dated and valid from today, its outcome recomputed with today's temperature and blood
    pressure (R2, R8) and refused without a reading for a hypertensive patient (R7)."""
    # Locked, so two desks confirming at once cannot both re-date and recompute it.
    screening = (
        Screening.objects.select_for_update(of=("self",))
        .select_related("patient__practice__settings")
        .get(pk=screening.pk)
    )
    if not screening.self_reported:
        raise ValidationError(_("Only a self-reported screening needs a confirmation."))
    if screening.confirmed_at is not None:
        raise AlreadyConfirmed(_("This screening is already confirmed."))
    patient = screening.patient
    practice = patient.practice
    answers = list(screening.answers.select_related("contraindication"))
    today = timezone.localdate(timezone=practice.zone)
    screening.screened_on = today
    screening.valid_until = today + timedelta(days=practice.settings.screening_validity_days - 1)
    screening.temperature = temperature
    screening.systolic = systolic
    screening.diastolic = diastolic
    screening.pulse = pulse
    screening.confirmed_by = confirmed_by
    screening.confirmed_at = timezone.now()
    errors = _screening_errors(
        screening=screening,
        patient=patient,
        said_hypertensive=any(a.yes and a.contraindication.code == "hypertension" for a in answers),
        require_bp=True,
    )
    if errors:
        raise ValidationError(errors)
    cleared = screening.clearances.values_list("contraindication__code", flat=True)
    _store_outcome(
        screening, _outcome_of(screening=screening, answers=answers, cleared_codes=cleared)
    )
    screening.save()
    blood_pressure_record(
        patient=patient,
        systolic=systolic,
        diastolic=diastolic,
        day=today,
        measured_at=screening.confirmed_at,
        source=HighBloodPressure.Source.SCREENING,
    )
    return screening


@transaction.atomic
def clearance_add(
    *,
    screening: Screening,
    code: str,
    doctor_name: str,
    issued_on: date,
    document: File | None = None,
) -> DoctorClearance:
    """Record a doctor's clearance brought in after the screening (R2, R6) and recompute the
    screening's outcome with it."""
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    answers = list(screening.answers.select_related("contraindication"))
    catalogue = {answer.contraindication.code: answer.contraindication for answer in answers}
    (row,) = _clearance_rows(
        screening,
        [ClearanceInput(code, doctor_name, issued_on, document)],
        catalogue,
    )
    row.save()
    cleared = screening.clearances.values_list("contraindication__code", flat=True)
    outcome = _outcome_of(screening=screening, answers=answers, cleared_codes=cleared)
    _store_outcome(screening, outcome)
    screening.save(update_fields=["status", "outcome_data"])
    return row
