"""Self-reported screenings (the portal questionnaire), their confirmation by staff, and the
preview the screening form shows before saving."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.eligibility import patient_may_receive
from patients.models import HighBloodPressure, Screening, ScreeningAnswer
from patients.screening import Status
from patients.selectors import patient_screening_status
from patients.services import (
    AlreadyConfirmed,
    AnswerInput,
    ScreeningInvalid,
    screening_confirm,
    screening_preview,
    screening_record,
)
from practice.models import Role
from tests.clock import today
from tests.factories import PatientFactory, ScreeningFactory, answers_all_no, massage_type

pytestmark = pytest.mark.django_db


def self_report(patient, **yes: str) -> Screening:
    return screening_record(
        patient=patient,
        answers=answers_all_no(patient, **yes),
        recorded_by=patient.user,
        self_reported=True,
    )


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


def test_r1_a_self_reported_screening_does_not_count_until_confirmed(practice) -> None:
    patient = PatientFactory(practice=practice)

    screening = self_report(patient)

    assert screening.self_reported
    assert screening.awaiting_confirmation
    assert not screening.is_valid_on(today(practice))
    assert patient_screening_status(patient=patient, on=today(practice)).valid is False
    result = patient_may_receive(
        patient=patient, massage_type=massage_type(practice), on=today(practice)
    )
    assert not result.allowed
    assert [(f.rule, f.code) for f in result.reasons] == [("R1", "no_valid_screening")]


def test_r1_an_unconfirmed_self_report_does_not_supersede_a_staff_screening(practice) -> None:
    patient = PatientFactory(practice=practice)
    staff_screening = ScreeningFactory(patient=patient, screened_on=today(practice, days=-2))

    self_report(patient, oncology="")

    status = patient_screening_status(patient=patient, on=today(practice))
    assert status.screening == staff_screening
    assert status.outcome.status == Status.CLEARED


def test_r1_a_confirmed_screening_counts_from_the_day_it_is_confirmed(practice, staff) -> None:
    patient = PatientFactory(practice=practice)
    screening = self_report(patient)
    Screening.objects.filter(pk=screening.pk).update(screened_on=today(practice, days=-5))

    confirmed = screening_confirm(
        screening=screening, confirmed_by=staff, temperature=Decimal("36.7")
    )

    assert confirmed.confirmed_by == staff
    assert confirmed.confirmed_at is not None
    assert confirmed.screened_on == today(practice)
    assert confirmed.valid_until == today(practice, days=29)
    assert confirmed.temperature == Decimal("36.7")
    assert patient_screening_status(patient=patient, on=today(practice)).screening == confirmed
    assert patient_may_receive(
        patient=patient, massage_type=massage_type(practice), on=today(practice)
    ).allowed


def test_r7_a_hypertensive_patient_may_self_report_but_confirming_needs_blood_pressure(
    practice, staff
) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)
    screening = self_report(patient)  # no reading at home: R7 waits for the confirmation

    with pytest.raises(ValidationError) as refused:
        screening_confirm(screening=screening, confirmed_by=staff)

    assert set(refused.value.message_dict) == {"systolic", "diastolic"}
    screening.refresh_from_db()
    assert screening.awaiting_confirmation

    screening_confirm(screening=screening, confirmed_by=staff, systolic=135, diastolic=85)
    screening.refresh_from_db()
    assert not screening.awaiting_confirmation


def test_r2_r8_confirming_recomputes_the_outcome_with_the_measured_vitals(practice, staff) -> None:
    patient = PatientFactory(practice=practice)
    screening = self_report(patient)
    assert screening.status == Status.CLEARED

    screening_confirm(
        screening=screening, confirmed_by=staff, temperature=Decimal("38.2"), systolic=170
    )

    screening.refresh_from_db()
    assert screening.status == Status.BLOCKED
    assert {(f.rule, f.code) for f in screening.outcome.findings} == {
        ("R2", "fever"),
        ("R8", "systolic_over_160"),
        ("R7", "high_blood_pressure"),  # the patient is not flagged hypertensive yet
    }
    # R8: the reading blocks the rest of the day, whatever is measured later.
    (reading,) = HighBloodPressure.objects.filter(patient=patient)
    assert (reading.day, reading.systolic) == (screening.screened_on, 170)


def test_impossible_vitals_at_confirmation_are_refused(practice, staff) -> None:
    patient = PatientFactory(practice=practice)
    screening = self_report(patient)

    with pytest.raises(ValidationError) as refused:
        screening_confirm(screening=screening, confirmed_by=staff, temperature=Decimal("50"))

    assert "temperature" in refused.value.message_dict
    screening.refresh_from_db()
    assert screening.awaiting_confirmation
    assert screening.temperature is None


def test_it_confirms_once(practice, staff) -> None:
    patient = PatientFactory(practice=practice)
    screening = self_report(patient)
    screening_confirm(screening=screening, confirmed_by=staff)

    with pytest.raises(AlreadyConfirmed):
        screening_confirm(screening=screening, confirmed_by=staff)


def test_a_staff_screening_needs_no_confirmation(practice, staff) -> None:
    screening = ScreeningFactory(patient=PatientFactory(practice=practice))

    with pytest.raises(ValidationError):
        screening_confirm(screening=screening, confirmed_by=staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(confirmed_at=timezone.now())


def test_preview_is_what_saving_stores_and_writes_nothing(practice) -> None:
    patient = PatientFactory(practice=practice)
    answers = answers_all_no(patient, pregnancy="", inflamed_skin="lower_back")

    preview = screening_preview(patient=patient, answers=answers, temperature=Decimal("36.6"))

    assert Screening.objects.count() == 0
    assert ScreeningAnswer.objects.count() == 0
    saved = screening_record(patient=patient, answers=answers, temperature=Decimal("36.6"))
    assert preview == saved.outcome
    assert preview.status == Status.RESTRICTED
    assert preview.blocked_types == {"cupping"}
    assert preview.blocked_zones == {"lower_back"}


def test_preview_refuses_what_saving_refuses(practice) -> None:
    patient = PatientFactory(practice=practice, hypertensive=True)

    with pytest.raises(ScreeningInvalid) as refused:
        screening_preview(
            patient=patient,
            answers=answers_all_no(patient, inflamed_skin=""),
            temperature=Decimal("29.0"),
        )

    errors = refused.value.message_dict
    assert {"temperature", "systolic", "diastolic", "answers"} <= set(errors)
    # R3: the form can show it next to the question's zone.
    assert set(refused.value.item_errors) == {"inflamed_skin"}
    assert "zone" in refused.value.item_errors["inflamed_skin"]


def test_screening_invalid_keeps_the_api_message_shape(practice) -> None:
    patient = PatientFactory(practice=practice)
    answers = [*answers_all_no(patient), AnswerInput("nonsense", yes=True)]

    with pytest.raises(ScreeningInvalid) as refused:
        screening_record(patient=patient, answers=answers)

    assert refused.value.message_dict == {"answers": ["Unknown item(s): nonsense."]}


def test_the_api_says_which_screenings_are_self_reported_and_unconfirmed(
    practice, staff, api_as
) -> None:
    patient = PatientFactory(practice=practice)
    self_report(patient)

    response = api_as(staff).get(f"/api/v1/patients/{patient.pk}/screenings/")

    assert response.status_code == 200
    (screening,) = response.json()["results"]
    assert screening["self_reported"] is True
    assert screening["confirmed_at"] is None
    assert screening["confirmed_by"] is None
