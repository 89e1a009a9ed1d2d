"""Recording screenings, their validity (R1) and the eligibility check courses and sessions
call (`patient_may_receive`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from patients.eligibility import patient_may_receive
from patients.models import DoctorClearance, HighBloodPressure, Screening, ScreeningAnswer
from patients.screening import Status, Zone
from patients.selectors import patient_screening_status
from patients.services import (
    AnswerInput,
    ClearanceInput,
    clearance_add,
    screening_preview,
    screening_record,
)
from tests.clock import today
from tests.factories import PatientFactory, ScreeningFactory, answers_all_no, massage_type

pytestmark = pytest.mark.django_db


def may(patient, code: str = "classical", on: date | None = None):
    return patient_may_receive(
        patient=patient,
        massage_type=massage_type(patient.practice, code),
        on=on or today(patient.practice),
    )


def test_cleared_screening_helper_is_cleared_and_valid(practice) -> None:
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient)
    assert screening.status == Status.CLEARED
    assert screening.answers.count() == 16
    assert screening.valid_until == screening.screened_on + timedelta(days=29)
    assert may(patient).allowed


def test_r1_no_screening_means_no_massage(practice) -> None:
    patient = PatientFactory(practice=practice)
    result = may(patient)
    assert not result.allowed
    assert [(f.rule, f.code) for f in result.reasons] == [("R1", "no_valid_screening")]
    assert patient_screening_status(patient=patient, on=today(practice)).valid is False


def test_r1_screening_is_valid_for_the_practice_setting(practice) -> None:
    practice.settings.screening_validity_days = 10
    practice.settings.save()
    patient = PatientFactory(practice=practice)
    screened_on = today(practice, days=-20)
    ScreeningFactory(patient=patient, screened_on=screened_on)
    assert may(patient, on=screened_on + timedelta(days=9)).allowed
    expired = may(patient, on=screened_on + timedelta(days=10))
    assert [f.rule for f in expired.reasons] == ["R1"]
    assert not may(patient, on=screened_on - timedelta(days=1)).allowed


def test_r1_later_screening_supersedes_earlier(practice) -> None:
    patient = PatientFactory(practice=practice)
    first = ScreeningFactory(patient=patient, screened_on=today(practice, days=-5))
    later = ScreeningFactory(
        patient=patient, yes={"pregnancy": ""}, screened_on=today(practice, days=-1)
    )
    status = patient_screening_status(patient=patient, on=today(practice))
    assert status.screening == later
    assert status.outcome.status == Status.RESTRICTED
    assert not may(patient, "cupping").allowed
    # Before the later one existed, the earlier one was the valid one.
    on_day_3 = patient_screening_status(patient=patient, on=today(practice, days=-3))
    assert on_day_3.screening == first


def test_r2_oncology_screening_blocks_every_type(practice) -> None:
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient, yes={"oncology": ""})
    assert screening.status == Status.BLOCKED
    for code in ("classical", "relaxing", "self"):
        result = may(patient, code)
        assert not result.allowed
        assert ("R2", "oncology") in {(f.rule, f.code) for f in result.reasons}


def test_r2_temperature_uses_practice_fever_threshold(practice) -> None:
    patient = PatientFactory(practice=practice)
    assert ScreeningFactory(patient=patient, temperature=Decimal("37.5")).status == Status.BLOCKED
    practice.settings.fever_threshold = Decimal("38.0")
    practice.settings.save()
    patient.refresh_from_db()
    assert ScreeningFactory(patient=patient, temperature=Decimal("37.5")).status == Status.CLEARED


def test_r2_doctor_clearance_lifts_item_but_not_oncology_in_service(practice) -> None:
    patient = PatientFactory(practice=practice)
    issued = today(practice, days=-3)
    screening = screening_record(
        patient=patient,
        answers=answers_all_no(patient, spinal_injury=""),
        clearances=[ClearanceInput("spinal_injury", "Dr. Weber", issued)],
    )
    assert screening.status == Status.RESTRICTED
    assert may(patient).allowed

    with pytest.raises(ValidationError) as refused:
        screening_record(
            patient=patient,
            answers=answers_all_no(patient, oncology=""),
            clearances=[ClearanceInput("oncology", "Dr. Weber", issued)],
        )
    assert "clearances" in refused.value.message_dict
    assert Screening.objects.count() == 1


def test_r6_clearance_added_later_with_document_recomputes_outcome(
    practice, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    patient = PatientFactory(practice=practice)
    screening = ScreeningFactory(patient=patient, yes={"uncertain_diagnosis": ""})
    assert screening.status == Status.NEEDS_DOCTOR
    assert [f.rule for f in may(patient).reasons] == ["R6"]

    clearance = clearance_add(
        screening=screening,
        code="uncertain_diagnosis",
        doctor_name="Dr. Novak",
        issued_on=today(practice),
        document=SimpleUploadedFile("letter.pdf", b"%PDF-1.4 cleared", "application/pdf"),
    )
    screening.refresh_from_db()
    assert screening.status == Status.RESTRICTED
    assert clearance.document.name.startswith(f"clearances/{practice.pk}/")
    assert (tmp_path / clearance.document.name).read_bytes() == b"%PDF-1.4 cleared"
    assert may(patient).allowed


def test_r3_local_answer_needs_a_zone(practice) -> None:
    patient = PatientFactory(practice=practice)
    with pytest.raises(ValidationError) as refused:
        ScreeningFactory(patient=patient, yes={"wound": ""})
    assert "wound" in " ".join(refused.value.message_dict["answers"])
    screening = ScreeningFactory(patient=patient, yes={"wound": Zone.LOWER_BACK})
    result = may(patient)
    assert screening.status == Status.RESTRICTED
    assert result.allowed
    assert result.blocked_zones == {Zone.LOWER_BACK}


def test_r4_pregnancy_blocks_cupping_only_in_service(practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient, yes={"pregnancy": ""})
    assert not may(patient, "cupping").allowed
    assert [f.rule for f in may(patient, "cupping").reasons] == ["R4"]
    assert may(patient, "lymphatic").allowed


def test_r4_honey_allergy_on_record_blocks_honey(practice) -> None:
    patient = PatientFactory(practice=practice, allergic_to_honey=True)
    ScreeningFactory(patient=patient)
    assert not may(patient, "honey").allowed
    assert may(patient, "classical").allowed


def test_r5_exacerbation_blocks_until_a_new_screening(practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(
        patient=patient,
        yes={"chronic_exacerbation": ""},
        screened_on=today(practice) - timedelta(1),
    )
    assert [f.rule for f in may(patient).reasons] == ["R5"]
    ScreeningFactory(patient=patient)
    assert may(patient).allowed


def test_r7_hypertensive_screening_without_blood_pressure_is_refused(practice) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    with pytest.raises(ValidationError) as refused:
        screening_record(
            patient=patient, answers=answers_all_no(patient), temperature=Decimal("36.6")
        )
    assert set(refused.value.message_dict) == {"systolic", "diastolic"}
    assert "R7" in refused.value.message_dict["systolic"][0]
    assert not Screening.objects.exists()


def test_r7_answering_hypertension_yes_also_needs_blood_pressure(practice) -> None:
    patient = PatientFactory(practice=practice)
    with pytest.raises(ValidationError) as refused:
        screening_record(patient=patient, answers=answers_all_no(patient, hypertension=""))
    assert "systolic" in refused.value.message_dict


def test_r8_systolic_over_160_blocks_today_only_in_service(practice) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    screening = ScreeningFactory(patient=patient, systolic=175, diastolic=95)
    assert screening.status == Status.BLOCKED
    result = may(patient)
    assert [(f.rule, f.code) for f in result.reasons] == [("R8", "systolic_over_160")]
    tomorrow = may(patient, on=screening.screened_on + timedelta(days=1))
    assert tomorrow.allowed
    assert not may(patient, "vibration", on=screening.screened_on + timedelta(days=1)).allowed


@pytest.mark.parametrize(
    ("vitals", "field"),
    [
        ({"temperature": Decimal("29.9")}, "temperature"),
        ({"temperature": Decimal("45.1")}, "temperature"),
        ({"systolic": 59, "diastolic": 40}, "systolic"),
        ({"systolic": 301, "diastolic": 90}, "systolic"),
        ({"pulse": 400}, "pulse"),
    ],
)
def test_impossible_vitals_are_refused_and_nothing_is_saved(practice, vitals, field) -> None:
    patient = PatientFactory(practice=practice)
    with pytest.raises(ValidationError) as refused:
        ScreeningFactory(patient=patient, **vitals)
    assert field in refused.value.message_dict
    assert not Screening.objects.exists()
    assert not ScreeningAnswer.objects.exists()


def test_unknown_missing_and_repeated_items_are_refused(practice) -> None:
    patient = PatientFactory(practice=practice)
    answers = answers_all_no(patient)
    cases = [
        [*answers, AnswerInput("levitation", False)],
        answers[1:],
        [*answers, answers[0]],
    ]
    for case in cases:
        with pytest.raises(ValidationError) as refused:
            screening_record(patient=patient, answers=case)
        assert "answers" in refused.value.message_dict
    assert not Screening.objects.exists()


def test_screening_in_the_future_is_refused(practice) -> None:
    patient = PatientFactory(practice=practice)
    with pytest.raises(ValidationError) as refused:
        ScreeningFactory(patient=patient, screened_on=today(practice, days=1))
    assert "screened_on" in refused.value.message_dict


def test_massage_type_of_another_practice_is_refused(practice, other_practice) -> None:
    patient = PatientFactory(practice=practice)
    ScreeningFactory(patient=patient)
    with pytest.raises(ValidationError):
        patient_may_receive(
            patient=patient,
            massage_type=massage_type(other_practice),
            on=today(practice),
        )


def test_clearance_rows_belong_to_the_screenings_practice(practice) -> None:
    patient = PatientFactory(practice=practice)
    screening = screening_record(
        patient=patient,
        answers=answers_all_no(patient, acute_infection=""),
        clearances=[ClearanceInput("acute_infection", "Dr. Lee", today(practice))],
    )
    clearance = DoctorClearance.objects.get()
    assert clearance.practice_id == screening.practice_id == practice.pk
    assert {a.practice_id for a in screening.answers.all()} == {practice.pk}


def test_r8_a_screening_over_160_keeps_the_reading_for_its_day(practice) -> None:
    patient = PatientFactory(practice=practice)
    screening_preview(patient=patient, answers=answers_all_no(patient), systolic=170, diastolic=95)
    assert not HighBloodPressure.objects.exists()  # a preview writes nothing

    ScreeningFactory(patient=patient, systolic=160, diastolic=95)
    assert not HighBloodPressure.objects.exists()  # R8 is over 160 only
    screening = ScreeningFactory(patient=patient, systolic=170, diastolic=95)

    (reading,) = HighBloodPressure.objects.for_practice(practice)
    assert (reading.patient, reading.day, reading.systolic, reading.diastolic) == (
        patient,
        screening.screened_on,
        170,
        95,
    )
    assert reading.source == HighBloodPressure.Source.SCREENING
