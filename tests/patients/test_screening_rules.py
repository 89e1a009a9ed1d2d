"""The pure screening rules (R2-R8) over the default catalogue: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from patients.catalogue import default_catalogue
from patients.screening import (
    Answer,
    Effect,
    Finding,
    Kind,
    Outcome,
    Status,
    Zone,
    day_block_finding,
    eligibility,
    missing_measurements,
    screening_outcome,
)

CATALOGUE = default_catalogue()
TODAY = date(2026, 3, 2)
ABSOLUTE = sorted(code for code, item in CATALOGUE.items() if item.kind == Kind.ABSOLUTE)
MASSAGE_TYPES = (
    "classical",
    "relaxing",
    "therapeutic",
    "sports",
    "cupping",
    "vibration",
    "lymphatic",
    "honey",
    "self",
)


def outcome(yes: dict[str, str] | None = None, **kwargs: object) -> Outcome:
    """Every item answered; `yes` maps the items answered yes to a zone."""
    yes = yes or {}
    answers = [Answer(code, code in yes, yes.get(code, "")) for code in CATALOGUE]
    return screening_outcome(catalogue=CATALOGUE, answers=answers, **kwargs)


def may_receive(result: Outcome, massage_type: str, on: date = TODAY, **flags: bool) -> bool:
    return eligibility(
        outcome=result, screened_on=TODAY, on=on, massage_type_code=massage_type, **flags
    ).allowed


def test_all_no_is_cleared() -> None:
    result = outcome()
    assert result.status == Status.CLEARED
    assert result.findings == ()
    assert all(may_receive(result, code) for code in MASSAGE_TYPES)


def test_r1_no_screening_blocks_with_rule_r1() -> None:
    result = eligibility(outcome=None, screened_on=None, on=TODAY, massage_type_code="classical")
    assert not result.allowed
    assert [(f.rule, f.code) for f in result.reasons] == [("R1", "no_valid_screening")]


def test_r2_oncology_blocks_every_type() -> None:
    result = outcome({"oncology": ""})
    assert result.status == Status.BLOCKED
    assert [(f.rule, f.code) for f in result.reasons] == [("R2", "oncology")]
    assert not any(may_receive(result, code) for code in MASSAGE_TYPES)


@pytest.mark.parametrize("code", ABSOLUTE)
def test_r2_each_absolute_item_blocks(code: str) -> None:
    result = outcome({code: ""})
    assert result.status == Status.BLOCKED
    assert ("R2", code) in {(f.rule, f.code) for f in result.reasons}


def test_r2_doctor_clearance_lifts_item_but_not_oncology() -> None:
    lifted = outcome({"tuberculosis": ""}, cleared_codes=["tuberculosis"])
    assert lifted.status == Status.RESTRICTED  # the lifted item stays on record as a warning
    assert [(f.rule, f.code, f.effect) for f in lifted.warnings] == [
        ("R2", "tuberculosis", Effect.WARN)
    ]
    assert may_receive(lifted, "classical")

    not_lifted = outcome({"oncology": ""}, cleared_codes=["oncology"])
    assert not_lifted.status == Status.BLOCKED
    assert not may_receive(not_lifted, "classical")


def test_r2_doctor_clearance_does_not_lift_fever() -> None:
    result = outcome({"fever": ""}, cleared_codes=["fever"])
    assert result.status == Status.BLOCKED


def test_r2_temperature_at_threshold_blocks_below_does_not() -> None:
    at = outcome(temperature=Decimal("37.5"))
    assert at.status == Status.BLOCKED
    assert [(f.rule, f.code) for f in at.reasons] == [("R2", "fever")]
    assert outcome(temperature=Decimal("37.4")).status == Status.CLEARED


def test_r2_fever_threshold_is_the_practice_setting() -> None:
    assert outcome(temperature=Decimal("37.5"), fever_threshold=Decimal("38.0")).status == (
        Status.CLEARED
    )
    assert outcome(temperature=Decimal("38.0"), fever_threshold=Decimal("38.0")).status == (
        Status.BLOCKED
    )


def test_r3_inflamed_skin_blocks_the_zone_not_the_session() -> None:
    result = outcome({"inflamed_skin": Zone.LOWER_BACK})
    assert result.status == Status.RESTRICTED
    assert result.blocked_zones == {Zone.LOWER_BACK}
    allowed = eligibility(
        outcome=result, screened_on=TODAY, on=TODAY, massage_type_code="classical"
    )
    assert allowed.allowed
    assert allowed.blocked_zones == {Zone.LOWER_BACK}
    assert [(f.rule, f.code) for f in allowed.warnings] == [("R3", "inflamed_skin")]


def test_r3_moles_warn_massage_with_caution() -> None:
    result = outcome({"moles": Zone.UPPER_BACK})
    assert result.status == Status.RESTRICTED
    assert result.blocked_zones == frozenset()
    assert [(f.rule, f.code, f.effect) for f in result.warnings] == [("R3", "moles", Effect.WARN)]
    assert all(may_receive(result, code) for code in MASSAGE_TYPES)


def test_r4_pregnancy_blocks_cupping_only() -> None:
    result = outcome({"pregnancy": ""})
    assert result.status == Status.RESTRICTED
    assert result.blocked_types == {"cupping"}
    assert not may_receive(result, "cupping")
    assert all(may_receive(result, code) for code in MASSAGE_TYPES if code != "cupping")


def test_r4_allergic_rash_blocks_zone_and_cupping() -> None:
    result = outcome({"allergic_rash": Zone.SHOULDERS})
    assert result.blocked_zones == {Zone.SHOULDERS}
    assert result.blocked_types == {"cupping"}
    assert {f.rule for f in result.findings} == {"R3", "R4"}


def test_r4_honey_allergy_blocks_honey_massage() -> None:
    from_answer = outcome({"honey_allergy": ""})
    from_record = outcome(allergic_to_honey=True)
    for result in (from_answer, from_record):
        assert result.blocked_types == {"honey"}
        assert not may_receive(result, "honey")
        assert may_receive(result, "classical")


def test_r4_honey_allergy_noted_after_the_screening_still_blocks() -> None:
    assert not may_receive(outcome(), "honey", allergic_to_honey=True)


def test_r4_doctor_clearance_keeps_the_type_specific_block() -> None:
    result = outcome({"blood_disease": ""}, cleared_codes=["blood_disease"])
    assert may_receive(result, "classical")
    assert not may_receive(result, "cupping")


def test_r5_exacerbation_blocks_until_over() -> None:
    result = outcome({"chronic_exacerbation": ""})
    assert result.status == Status.BLOCKED
    assert [(f.rule, f.code) for f in result.reasons] == [("R5", "chronic_exacerbation")]
    assert not may_receive(result, "relaxing")


def test_r6_uncertain_diagnosis_needs_doctor_until_cleared() -> None:
    waiting = outcome({"uncertain_diagnosis": ""})
    assert waiting.status == Status.NEEDS_DOCTOR
    assert [(f.rule, f.effect) for f in waiting.reasons] == [("R6", Effect.DOCTOR)]
    assert not may_receive(waiting, "classical")

    cleared = outcome({"uncertain_diagnosis": ""}, cleared_codes=["uncertain_diagnosis"])
    assert cleared.status == Status.RESTRICTED
    assert may_receive(cleared, "classical")


def test_r6_absolute_beats_needs_doctor() -> None:
    assert outcome({"uncertain_diagnosis": "", "oncology": ""}).status == Status.BLOCKED


def test_r7_hypertensive_needs_both_readings() -> None:
    assert set(missing_measurements(hypertensive=True, systolic=None, diastolic=None)) == {
        "systolic",
        "diastolic",
    }
    assert set(missing_measurements(hypertensive=True, systolic=150, diastolic=None)) == {
        "diastolic"
    }
    assert missing_measurements(hypertensive=True, systolic=150, diastolic=90) == {}
    assert missing_measurements(hypertensive=False, systolic=None, diastolic=None) == {}


def test_r8_systolic_over_160_blocks_today_only() -> None:
    result = outcome(systolic=161)
    assert result.status == Status.BLOCKED
    assert [(f.rule, f.code, f.day_only) for f in result.reasons] == [
        ("R8", "systolic_over_160", True)
    ]
    assert not may_receive(result, "classical", on=TODAY)
    assert may_receive(result, "classical", on=TODAY + timedelta(days=1))
    # 160 itself does not block; the high reading is only R7's warning.
    assert outcome(systolic=160).reasons == ()


def test_r7_a_high_reading_warns_and_suggests_the_hypertensive_flag() -> None:
    # Given a patient not flagged hypertensive, screened at 150/95 with "hypertension: no"
    result = outcome(systolic=150, diastolic=95)

    # Then nothing is blocked (R8 is over 160 only), but the reading is a warning, not "cleared"
    assert result.reasons == ()
    assert result.status == Status.RESTRICTED
    (warning,) = result.warnings
    assert (warning.rule, warning.code) == ("R7", "high_blood_pressure")
    assert "150/95" in warning.text
    assert "hypertensive" in warning.text
    assert may_receive(result, "vibration")


def test_r7_no_warning_for_a_normal_reading_or_a_flagged_patient() -> None:
    assert outcome(systolic=135, diastolic=85).status == Status.CLEARED
    assert not any(f.rule == "R7" for f in outcome(systolic=150, hypertensive=True).findings)
    assert outcome(systolic=120, diastolic=92).warnings[0].rule == "R7"


def test_r8_a_day_block_blocks_every_type_with_or_without_a_screening() -> None:
    block = day_block_finding(
        systolic=165, diastolic=100, measured_at=time(9, 12), source="check-in"
    )
    assert "165/100" in block.text
    assert "09:12" in block.text

    with_screening = eligibility(
        outcome=outcome(),
        screened_on=TODAY,
        on=TODAY,
        massage_type_code="classical",
        day_blocks=[block],
    )
    without = eligibility(
        outcome=None, screened_on=None, on=TODAY, massage_type_code="classical", day_blocks=[block]
    )

    assert with_screening.reasons == (block,)
    assert with_screening.blocks == (block,)
    assert [f.rule for f in without.reasons] == ["R1", "R8"]
    assert without.blocks == (block,)


def test_r8_the_day_block_names_the_reading_rather_than_the_screening() -> None:
    # A screening over the limit that day and the reading it left: one R8 reason, the one
    # naming the reading and its time.
    block = day_block_finding(
        systolic=170, diastolic=None, measured_at=time(8, 5), source="screening"
    )
    result = eligibility(
        outcome=outcome(systolic=170),
        screened_on=TODAY,
        on=TODAY,
        massage_type_code="classical",
        day_blocks=[block],
    )
    assert result.reasons == (block,)


def test_r8_hypertensive_gets_no_vibration() -> None:
    result = outcome(hypertensive=True)
    assert result.blocked_types == {"vibration"}
    assert not may_receive(result, "vibration")
    assert may_receive(result, "classical")
    assert not may_receive(outcome(), "vibration", hypertensive=True)
    assert not may_receive(outcome({"hypertension": ""}), "vibration")


def test_unknown_item_is_refused() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        screening_outcome(catalogue=CATALOGUE, answers=[Answer("nonsense", True)])


def test_outcome_survives_json_round_trip() -> None:
    result = outcome({"allergic_rash": Zone.NECK, "tuberculosis": ""}, systolic=170)
    assert Outcome.from_json(result.as_json()) == result


# --- Properties over the whole catalogue -----------------------------------------------------

answer_sets = st.fixed_dictionaries(
    {code: st.tuples(st.booleans(), st.sampled_from(Zone.values)) for code in CATALOGUE}
)
clearance_sets = st.sets(st.sampled_from(sorted(CATALOGUE)))


def _answers(chosen: dict[str, tuple[bool, str]]) -> list[Answer]:
    return [
        Answer(code, yes, zone if CATALOGUE[code].kind in (Kind.LOCAL, Kind.CAUTION) else "")
        for code, (yes, zone) in chosen.items()
    ]


@given(answer_sets, clearance_sets, st.sampled_from(ABSOLUTE))
def test_r2_any_answer_set_with_an_uncleared_absolute_yes_is_blocked(
    chosen: dict[str, tuple[bool, str]], cleared: set[str], absolute: str
) -> None:
    chosen = {**chosen, absolute: (True, "")}
    cleared = cleared - {absolute}
    result = screening_outcome(catalogue=CATALOGUE, answers=_answers(chosen), cleared_codes=cleared)
    assert result.status == Status.BLOCKED
    assert ("R2", absolute) in {(f.rule, f.code) for f in result.reasons}
    assert not any(may_receive(result, code) for code in MASSAGE_TYPES)


@given(answer_sets, clearance_sets)
def test_r2_oncology_or_fever_yes_is_blocked_whatever_the_clearances(
    chosen: dict[str, tuple[bool, str]], cleared: set[str]
) -> None:
    for code in ("oncology", "fever"):
        answers = _answers({**chosen, code: (True, "")})
        result = screening_outcome(catalogue=CATALOGUE, answers=answers, cleared_codes=cleared)
        assert result.status == Status.BLOCKED


@given(answer_sets, clearance_sets, st.booleans(), st.booleans())
def test_outcome_status_follows_its_findings(
    chosen: dict[str, tuple[bool, str]], cleared: set[str], hypertensive: bool, honey: bool
) -> None:
    result = screening_outcome(
        catalogue=CATALOGUE,
        answers=_answers(chosen),
        cleared_codes=cleared,
        hypertensive=hypertensive,
        allergic_to_honey=honey,
    )
    said_yes = any(yes for yes, _zone in chosen.values())
    # Nothing said and no flags: cleared; anything said yes leaves a trace with a rule id.
    assert (result.status == Status.CLEARED) == (not said_yes and not hypertensive and not honey)
    assert all(f.rule in {"R2", "R3", "R4", "R5", "R6", "R8"} for f in result.findings)
    if result.status in (Status.CLEARED, Status.RESTRICTED):
        assert not result.reasons
        assert may_receive(result, "classical") is True
    else:
        assert not any(may_receive(result, code) for code in MASSAGE_TYPES)
    assert isinstance(result.findings, tuple)
    assert all(isinstance(f, Finding) for f in result.findings)


def test_r2_oncology_stays_blocked_even_if_a_catalogue_row_says_clearable() -> None:
    tampered = {**CATALOGUE, "oncology": replace(CATALOGUE["oncology"], clearable=True)}
    answers = [Answer(code, code == "oncology") for code in tampered]
    result = screening_outcome(catalogue=tampered, answers=answers, cleared_codes=["oncology"])
    assert result.status == Status.BLOCKED


def test_r4_a_stored_finding_reads_in_the_readers_language_whoever_wrote_it() -> None:
    with translation.override("en"):
        stored = outcome({"pregnancy": ""}).as_json()

    with translation.override("ru"):
        (finding,) = Outcome.from_json(stored).findings
        assert finding.text == ("Беременность: противопоказаны виды массажа: Баночный (вакуумный).")
    with translation.override("en"):
        assert finding.text == "Pregnancy: not for Cupping / vacuum massage."


def test_r2_a_finding_stored_as_text_before_templates_is_shown_as_written() -> None:
    legacy = {"rule": "R2", "code": "x", "message": "Old text: 100% as typed.", "effect": "block"}

    with translation.override("ru"):
        assert Finding.from_json(legacy).text == "Old text: 100% as typed."
