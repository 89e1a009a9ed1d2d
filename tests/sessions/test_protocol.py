"""The planned protocol of a session (R3, R8, R14-R17): pure, no database."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.rules import r14_minutes
from patients.screening import Finding
from patients.screening import Zone as ScreeningZone
from sessions.records.protocol import TYPE_PLANS, SessionProtocol, session_protocol
from sessions.records.techniques import (
    GROUP_ORDER,
    PRESSURE_RANK,
    SCREENING_ZONE_AREAS,
    TECHNIQUE_GROUP,
    WORKING_ZONES_BOTTOM_UP,
    BackZone,
    Direction,
    Pressure,
    Technique,
    TechniqueGroup,
    expand_blocked_zones,
)

# The autouse settings fixture only resets settings and the cache; sharing it across the
# examples of one test is harmless.
pure = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

TYPES = [*TYPE_PLANS, "practice_special"]
FORBIDDEN_AREAS = {BackZone.SPINE, BackZone.KIDNEYS, BackZone.HEART, BackZone.LYMPH_NODES}


def protocol(**overrides: object) -> SessionProtocol:
    values: dict[str, object] = {
        "massage_type": "classical",
        "default_minutes": 15,
        "position": 5,
        "course_length": 10,
        "hypertensive": False,
    }
    values.update(overrides)
    return session_protocol(**values)  # type: ignore[arg-type]


def worked_zones(p: SessionProtocol) -> set[BackZone]:
    return {zone for step in p.steps for zone in step.zones}


def test_r14_first_session_of_a_course_lasts_ten_minutes_and_is_gentle() -> None:
    p = protocol(massage_type="therapeutic", default_minutes=30, position=1)

    assert p.minutes == 10
    assert {step.pressure for step in p.steps} == {Pressure.LIGHT}
    assert any(note.rule == "R14" for note in p.notes)


def test_r14_second_session_lasts_fifteen_then_the_type_default() -> None:
    minutes = [
        protocol(massage_type="therapeutic", default_minutes=30, position=n).minutes
        for n in (1, 2, 3, 10)
    ]

    assert minutes == [10, 15, 30, 30]


def test_r14_a_single_session_lasts_the_type_default() -> None:
    p = protocol(massage_type="relaxing", default_minutes=20, position=None, course_length=None)

    assert p.minutes == 20
    assert not any(note.rule == "R14" for note in p.notes)


@pure
@given(position=st.integers(1, 15), default=st.integers(5, 120))
def test_r14_ramp_is_the_course_planners_ramp(position: int, default: int) -> None:
    # Planning (courses.planning) books the slot with this length; the protocol must agree.
    p = protocol(default_minutes=default, position=position, course_length=15)

    assert p.minutes == r14_minutes(position, default)


def test_r14_only_the_first_session_is_capped_at_light_pressure() -> None:
    later = protocol(position=2)

    assert Pressure.DEEP in {step.pressure for step in later.steps}


@pure
@given(
    massage_type=st.sampled_from(TYPES),
    position=st.one_of(st.none(), st.integers(1, 10)),
    hypertensive=st.booleans(),
    blocked=st.sets(st.sampled_from(ScreeningZone.values), max_size=3),
)
def test_r15_every_protocol_opens_and_closes_with_light_stroking_and_grows_after_warming(
    massage_type: str, position: int | None, hypertensive: bool, blocked: set[str]
) -> None:
    p = protocol(
        massage_type=massage_type,
        position=position,
        course_length=None if position is None else 10,
        hypertensive=hypertensive,
        blocked_zones=frozenset(blocked),
    )
    if not p.allowed:
        assert p.steps == ()
        return

    first, last = p.steps[0], p.steps[-1]
    assert (first.group, first.techniques, first.pressure) == (
        TechniqueGroup.STROKING,
        (Technique.STROKING,),
        Pressure.LIGHT,
    )
    assert (last.group, last.techniques, last.pressure) == (
        TechniqueGroup.STROKING,
        (Technique.STROKING,),
        Pressure.LIGHT,
    )
    # Then rubbing, kneading, vibration/percussion, in that order.
    middle = [GROUP_ORDER.index(step.group) for step in p.steps[1:-1]]
    assert middle == sorted(middle)
    assert TechniqueGroup.STROKING not in {step.group for step in p.steps[1:-1]}
    for step in p.steps:
        assert all(TECHNIQUE_GROUP[t] == step.group for t in step.techniques)


def test_r15_pressure_rises_above_light_only_after_the_warming_stroking() -> None:
    p = protocol(position=6)

    ranks = [PRESSURE_RANK[step.pressure] for step in p.steps]
    assert ranks[0] == 1
    assert max(ranks) == 3
    assert p.steps[ranks.index(3)].group == TechniqueGroup.KNEADING
    assert any(note.rule == "R15" for note in p.notes)


def test_r16_a_normotensive_patient_is_worked_bottom_up() -> None:
    p = protocol()

    assert p.direction == Direction.BOTTOM_UP
    assert p.steps[0].zones == WORKING_ZONES_BOTTOM_UP
    assert p.steps[0].zones[0] == BackZone.GLUTEAL
    assert p.steps[0].zones[-1] == BackZone.CERVICAL
    assert any(note.rule == "R16" for note in p.notes)


def test_r8_a_hypertensive_patient_is_worked_top_down_without_vibration_or_percussion() -> None:
    p = protocol(hypertensive=True)

    assert p.direction == Direction.TOP_DOWN
    assert p.steps[0].zones == tuple(reversed(WORKING_ZONES_BOTTOM_UP))
    groups = {step.group for step in p.steps}
    assert TechniqueGroup.VIBRATION not in groups
    assert TechniqueGroup.PERCUSSION not in groups
    excluded = {e.technique: e.rule for e in p.excluded}
    for technique in (
        Technique.VIBRATION,
        Technique.SHAKING,
        Technique.CHOPPING,
        Technique.PATTING,
        Technique.TAPPING,
    ):
        assert excluded[technique] == "R8"
    assert all("R8" in e.message for e in p.excluded)


def test_r8_a_normotensive_patient_keeps_vibration_and_percussion() -> None:
    p = protocol()

    assert {TechniqueGroup.VIBRATION, TechniqueGroup.PERCUSSION} <= {s.group for s in p.steps}
    assert p.excluded == ()


def test_r7_a_hypertensive_patients_protocol_asks_for_blood_pressure_before_and_after() -> None:
    assert any(note.rule == "R7" for note in protocol(hypertensive=True).notes)
    assert not any(note.rule == "R7" for note in protocol().notes)


def test_r8_vibration_massage_is_refused_for_a_hypertensive_patient() -> None:
    p = protocol(massage_type="vibration", hypertensive=True)

    assert not p.allowed
    assert [note.rule for note in p.blocked_by] == ["R8"]
    assert "R8" in p.blocked_by[0].message
    assert p.steps == ()


def test_r8_honey_massage_for_a_hypertensive_patient_carries_the_guides_caution() -> None:
    p = protocol(massage_type="honey", hypertensive=True)

    assert p.allowed
    assert any(note.rule == "R8" and "honey" in note.message for note in p.notes)


def test_r17_forbidden_areas_are_listed_with_what_they_forbid() -> None:
    avoid = {a.zone: a for a in protocol().avoid if a.rule == "R17"}

    assert set(avoid) == FORBIDDEN_AREAS | {BackZone.INTERSCAPULAR}
    assert avoid[BackZone.SPINE].groups == frozenset(TechniqueGroup)
    assert avoid[BackZone.LYMPH_NODES].groups == frozenset(TechniqueGroup)
    assert TechniqueGroup.PERCUSSION in avoid[BackZone.KIDNEYS].groups
    assert avoid[BackZone.HEART].groups == {TechniqueGroup.VIBRATION}
    assert avoid[BackZone.INTERSCAPULAR].max_pressure == Pressure.MEDIUM
    assert all(a.message.startswith("R17") for a in avoid.values())


@pure
@given(massage_type=st.sampled_from(TYPES), position=st.integers(1, 10))
def test_r17_no_step_works_a_forbidden_area(massage_type: str, position: int) -> None:
    p = protocol(massage_type=massage_type, position=position)

    assert not worked_zones(p) & FORBIDDEN_AREAS


def test_r17_no_maximum_force_between_the_shoulder_blades() -> None:
    p = protocol(position=6)

    deep = [step for step in p.steps if step.pressure == Pressure.DEEP]
    assert deep
    assert all(BackZone.INTERSCAPULAR not in step.zones for step in deep)
    # The zone is still kneaded, in its own gentler step.
    kneading_there = [
        step
        for step in p.steps
        if step.group == TechniqueGroup.KNEADING and BackZone.INTERSCAPULAR in step.zones
    ]
    assert [step.pressure for step in kneading_there] == [Pressure.MEDIUM]


def test_r3_a_zone_the_screening_blocks_is_avoided_and_never_worked() -> None:
    p = protocol(blocked_zones=frozenset({ScreeningZone.UPPER_BACK}))

    upper = {BackZone.UPPER_THORACIC, BackZone.SCAPULAR, BackZone.INTERSCAPULAR}
    assert not worked_zones(p) & upper
    assert {a.zone for a in p.avoid if a.rule == "R3"} == upper
    assert BackZone.LUMBAR in worked_zones(p)


def test_r3_a_back_zone_code_blocks_just_that_zone() -> None:
    p = protocol(blocked_zones=frozenset({BackZone.SCAPULAR}))

    assert BackZone.SCAPULAR not in worked_zones(p)
    assert BackZone.INTERSCAPULAR in worked_zones(p)


def test_r3_a_screening_that_blocks_every_zone_of_the_back_blocks_the_session() -> None:
    everything = frozenset(
        {ScreeningZone.NECK, ScreeningZone.SHOULDERS, ScreeningZone.UPPER_BACK}
        | {ScreeningZone.MIDDLE_BACK, ScreeningZone.LOWER_BACK, ScreeningZone.SACRUM}
        | {BackZone.GLUTEAL, BackZone.SIDES}
    )

    p = protocol(blocked_zones=everything)

    assert not p.allowed
    assert [note.rule for note in p.blocked_by] == ["R3"]
    assert p.steps == ()


def test_r3_every_screening_zone_has_a_decided_meaning_on_the_back() -> None:
    # A zone added to the screening must be mapped here, or expand_blocked_zones refuses it.
    assert set(SCREENING_ZONE_AREAS) == set(ScreeningZone.values)
    assert expand_blocked_zones({ScreeningZone.LEGS}) == frozenset()


def test_an_unknown_zone_code_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="elbow"):
        protocol(blocked_zones=frozenset({"elbow"}))


def test_screening_warnings_are_shown_with_their_rule() -> None:
    mole = Finding("R3", "moles", "Moles: massage with caution.", "warn", zone="upper_back")

    p = protocol(warnings=[mole])

    assert any(n.rule == "R3" and n.message == "Moles: massage with caution." for n in p.notes)


@pytest.mark.parametrize(("position", "length"), [(0, 10), (11, 10), (3, None)])
def test_a_position_outside_the_course_is_a_programming_error(
    position: int, length: int | None
) -> None:
    with pytest.raises(ValueError, match="course"):
        protocol(position=position, course_length=length)


def test_a_practice_defined_type_gets_the_classical_plan() -> None:
    assert protocol(massage_type="practice_special").steps == protocol().steps


def test_every_technique_belongs_to_a_group() -> None:
    assert set(TECHNIQUE_GROUP) == set(Technique.values)
    assert {TECHNIQUE_GROUP[t] for t in ("chopping", "patting", "tapping")} == {
        TechniqueGroup.PERCUSSION
    }


def test_the_protocol_serialises_to_plain_json() -> None:
    data = json.loads(json.dumps(protocol(hypertensive=True).as_json()))

    assert data["direction"] == "top_down"
    assert data["steps"][0]["techniques"] == ["stroking"]
    assert data["allowed"] is True
    assert {"zone": "spine", "rule": "R17"}.items() <= data["avoid"][0].items()
