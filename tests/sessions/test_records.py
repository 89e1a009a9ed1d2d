"""Validation of a completed session's record (R3, R7, R8, R15-R18, R20): pure, no database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.records.techniques import TECHNIQUE_GROUP, BackZone, Technique, TechniqueGroup
from sessions.records.validation import (
    BloodPressure,
    Violation,
    raise_for_violations,
    record_violations,
    validation_error,
)

pure = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

CLASSICAL = ["stroking", "rubbing", "kneading", "vibration", "patting", "stroking"]
HYPERTENSIVE_SAFE = ["stroking", "rubbing", "sawing", "kneading", "squeezing", "stroking"]
PERCUSSION = [t for t, g in TECHNIQUE_GROUP.items() if g == TechniqueGroup.PERCUSSION]
VIBRATION = [t for t, g in TECHNIQUE_GROUP.items() if g == TechniqueGroup.VIBRATION]
WORKING = ["lumbar", "sacrum", "lower_thoracic", "scapular", "cervical", "shoulders", "sides"]


def violations(**overrides: object) -> list[Violation]:
    values: dict[str, object] = {
        "techniques": CLASSICAL,
        "zones": ["lumbar", "scapular", "cervical"],
        "pressure": "medium",
        "direction": "bottom_up",
        "hypertensive": False,
        "pain_before": 4,
        "pain_after": 2,
    }
    values.update(overrides)
    return record_violations(**values)  # type: ignore[arg-type]


def hypertensive_record(**overrides: object) -> list[Violation]:
    values: dict[str, object] = {
        "techniques": HYPERTENSIVE_SAFE,
        "hypertensive": True,
        "direction": "top_down",
        "bp_before": BloodPressure(150, 90),
        "bp_after": BloodPressure(140, 85),
    }
    values.update(overrides)
    return violations(**values)


def rules(found: list[Violation]) -> set[tuple[str, str]]:
    return {(v.rule, v.field) for v in found}


def test_a_correct_classical_record_is_valid() -> None:
    assert violations() == []


def test_a_correct_hypertensive_record_is_valid() -> None:
    assert hypertensive_record() == []


def test_r15_a_record_must_start_with_stroking() -> None:
    found = violations(techniques=["rubbing", "kneading", "stroking"])

    assert [(v.rule, v.code) for v in found] == [("R15", "r15_start_with_stroking")]
    assert found[0].field == "techniques"
    assert "R15" in found[0].message


def test_r15_a_record_must_end_with_stroking() -> None:
    found = violations(techniques=["stroking", "rubbing", "kneading"])

    assert [(v.rule, v.code) for v in found] == [("R15", "r15_end_with_stroking")]


@pure
@given(
    techniques=st.lists(st.sampled_from(Technique.values), min_size=1, max_size=12).filter(
        lambda ts: ts[0] != "stroking" or ts[-1] != "stroking"
    )
)
def test_r15_any_record_not_opening_and_closing_with_stroking_is_refused(
    techniques: list[str],
) -> None:
    assert ("R15", "techniques") in rules(violations(techniques=techniques))


@pure
@given(middle=st.lists(st.sampled_from(Technique.values), max_size=10))
def test_r15_the_order_between_the_strokings_is_free(middle: list[str]) -> None:
    # The guide: "done in any order, but the session always begins and ends with stroking".
    found = violations(techniques=["stroking", *middle, "stroking"])

    assert not any(v.rule == "R15" for v in found)


@pure
@given(
    before=st.lists(st.sampled_from(Technique.values), max_size=4),
    percussion=st.sampled_from(PERCUSSION),
    after=st.lists(st.sampled_from(Technique.values), max_size=4),
    zones=st.sets(st.sampled_from(WORKING), max_size=4),
)
def test_r17_any_record_with_percussion_and_the_kidney_zone_is_refused(
    before: list[str], percussion: str, after: list[str], zones: set[str]
) -> None:
    found = violations(
        techniques=["stroking", *before, percussion, *after, "stroking"],
        zones=[*zones, "kidneys"],
    )

    assert any(v.rule == "R17" and v.code == "r17_kidneys" for v in found)


def test_r17_gentle_stroking_over_the_kidneys_is_allowed() -> None:
    found = violations(techniques=["stroking", "rubbing", "stroking"], zones=["kidneys", "lumbar"])

    assert found == []


@pytest.mark.parametrize("technique", VIBRATION)
def test_r17_vibration_over_the_heart_is_refused(technique: str) -> None:
    found = violations(techniques=["stroking", technique, "stroking"], zones=["heart"])

    assert [(v.rule, v.field, v.code) for v in found] == [("R17", "zones", "r17_heart")]
    assert "R17" in found[0].message


def test_r17_percussion_over_the_heart_area_is_not_the_heart_rule() -> None:
    found = violations(techniques=["stroking", "patting", "stroking"], zones=["heart"])

    assert found == []


@pytest.mark.parametrize("area", ["spine", "lymph_nodes"])
def test_r17_any_direct_work_on_the_spine_or_the_lymph_nodes_is_refused(area: str) -> None:
    found = violations(techniques=["stroking"], zones=["lumbar", area])

    assert [(v.rule, v.code) for v in found] == [("R17", f"r17_{area}")]


@pure
@given(technique=st.sampled_from(PERCUSSION + VIBRATION))
def test_r8_vibration_or_percussion_for_a_hypertensive_patient_is_refused(
    technique: str,
) -> None:
    found = hypertensive_record(techniques=["stroking", technique, "stroking"])

    assert [(v.rule, v.field, v.code) for v in found] == [
        ("R8", "techniques", "r8_no_vibration_or_percussion")
    ]


def test_r8_a_hypertensive_patients_strokes_must_run_top_down() -> None:
    found = hypertensive_record(direction="bottom_up")

    assert [(v.rule, v.field) for v in found] == [("R8", "direction")]
    assert "R16" in found[0].message


def test_r16_bottom_up_is_the_direction_for_a_normotensive_patient() -> None:
    assert violations(direction="bottom_up") == []


def test_r16_the_direction_must_be_recorded() -> None:
    found = violations(direction="")

    assert [(v.rule, v.field) for v in found] == [("R16", "direction")]


def test_r8_a_systolic_over_160_before_means_the_session_should_not_have_run() -> None:
    found = hypertensive_record(bp_before=BloodPressure(165, 95))

    assert [(v.rule, v.field, v.code) for v in found] == [
        ("R8", "bp_before", "r8_systolic_over_limit")
    ]


@pytest.mark.parametrize("missing", ["bp_before", "bp_after"])
def test_r7_a_hypertensive_patients_record_needs_blood_pressure_before_and_after(
    missing: str,
) -> None:
    found = hypertensive_record(**{missing: None})

    assert [(v.rule, v.field) for v in found] == [("R7", missing)]
    assert "R7" in found[0].message


def test_r7_blood_pressure_is_optional_for_a_normotensive_patient() -> None:
    assert violations(bp_before=None, bp_after=None) == []


@pytest.mark.parametrize("reading", [BloodPressure(400, 90), BloodPressure(120, 130)])
def test_r7_an_implausible_blood_pressure_is_refused(reading: BloodPressure) -> None:
    found = hypertensive_record(bp_after=reading)

    assert [(v.rule, v.field, v.code) for v in found] == [
        ("R7", "bp_after", "r7_blood_pressure_implausible")
    ]


def test_r3_a_zone_the_screening_blocked_is_refused() -> None:
    found = violations(zones=["lumbar", "scapular"], blocked_zones=frozenset({"upper_back"}))

    assert [(v.rule, v.field, v.code) for v in found] == [("R3", "zones", "r3_blocked_scapular")]
    assert "R3" in found[0].message


def test_r3_zones_the_screening_left_alone_are_fine() -> None:
    assert violations(zones=["lumbar"], blocked_zones=frozenset({"neck", "arms"})) == []


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [(None, 2, "pain_before"), (3, None, "pain_after"), (True, 2, "pain_before")],
)
def test_r18_both_pain_scores_are_required(before: object, after: object, field: str) -> None:
    found = violations(pain_before=before, pain_after=after)

    assert [(v.rule, v.field, v.code) for v in found] == [("R18", field, "r18_pain_required")]


@pure
@given(score=st.one_of(st.integers(max_value=-1), st.integers(min_value=11)))
def test_r18_a_pain_score_outside_0_to_10_is_refused(score: int) -> None:
    found = violations(pain_after=score)

    assert [(v.rule, v.field, v.code) for v in found] == [("R18", "pain_after", "r18_pain_range")]


@pure
@given(before=st.integers(0, 10), after=st.integers(0, 10))
def test_r18_any_pair_of_scores_from_0_to_10_is_accepted(before: int, after: int) -> None:
    assert violations(pain_before=before, pain_after=after) == []


def test_r20_a_record_needs_techniques_and_zones() -> None:
    found = violations(techniques=[], zones=[])

    assert {(v.rule, v.field) for v in found} == {("R20", "techniques"), ("R20", "zones")}


def test_r20_techniques_zones_and_pressure_come_from_the_catalogue() -> None:
    found = violations(
        techniques=["stroking", "karate", "stroking"], zones=["lumbar", "elbow"], pressure="max"
    )

    assert {(v.rule, v.code) for v in found} == {
        ("R20", "r20_unknown_technique"),
        ("R20", "r20_unknown_zone"),
        ("R20", "r20_pressure"),
    }
    assert any("karate" in v.message for v in found)


def test_r20_every_violation_is_reported_at_once() -> None:
    found = record_violations(
        techniques=["tapping"],
        zones=[BackZone.SPINE],
        pressure="deep",
        direction="bottom_up",
        hypertensive=True,
    )

    assert rules(found) >= {
        ("R15", "techniques"),
        ("R17", "zones"),
        ("R8", "techniques"),
        ("R8", "direction"),
        ("R7", "bp_before"),
        ("R7", "bp_after"),
        ("R18", "pain_before"),
        ("R18", "pain_after"),
    }


def test_violations_become_a_validation_error_keyed_by_field() -> None:
    found = hypertensive_record(bp_after=None, techniques=["rubbing", "stroking"])

    error = validation_error(found, field_names={"bp_after": "systolic_after"})

    assert set(error.message_dict) == {"techniques", "systolic_after"}
    assert error.message_dict["systolic_after"] == [found[-1].message]
    codes = {e.code for errors in error.error_dict.values() for e in errors}
    assert codes == {"r15_start_with_stroking", "r7_blood_pressure_required"}


def test_a_service_raises_only_when_there_is_a_violation() -> None:
    raise_for_violations([])

    with pytest.raises(ValidationError) as raised:
        raise_for_violations(violations(techniques=["kneading"]))
    assert "techniques" in raised.value.message_dict
