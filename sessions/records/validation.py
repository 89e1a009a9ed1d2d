"""Validation of a completed session's record (R3, R7, R8, R15-R18, R20), as a pure function.

`record_violations()` takes plain values and returns every violation at once, each with the
rule id, the field it concerns and a message naming the rule, so the therapist can fix the
whole form in one go. `validation_error()` turns them into the `ValidationError` a service
raises. The record's pressure is one level for the whole session, so zone pressure caps (R17:
no maximum force between the shoulder blades, light strokes only over the kidneys) are planned
in `sessions.records.protocol` rather than checked here: a session kneaded deep on the lumbar
zone and stroked lightly between the shoulder blades is correct, and its record would look the
same.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from patients.screening import DIASTOLIC_RANGE, SYSTOLIC_LIMIT, SYSTOLIC_RANGE
from sessions.records.techniques import (
    RESTRICTION_OF_ZONE,
    TECHNIQUE_GROUP,
    BackZone,
    Direction,
    Pressure,
    Technique,
    TechniqueGroup,
    expand_blocked_zones,
)

PAIN_MIN, PAIN_MAX = 0, 10  # R18


@dataclass(frozen=True)
class BloodPressure:
    systolic: int
    diastolic: int


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str
    code: str
    message: str


def _groups(techniques: Iterable[str]) -> frozenset[TechniqueGroup]:
    return frozenset(TECHNIQUE_GROUP[t] for t in techniques if t in TECHNIQUE_GROUP)


def _catalogue_violations(
    techniques: Sequence[str], zones: Collection[str], pressure: str, direction: str
) -> list[Violation]:
    """R20: a record keeps techniques in order, zones and pressure, each from the catalogue."""
    found: list[Violation] = []
    if not techniques:
        found.append(
            Violation(
                "R20", "techniques", "r20_no_techniques", gettext("R20: record the techniques.")
            )
        )
    unknown = [t for t in techniques if t not in Technique.values]
    if unknown:
        found.append(
            Violation(
                "R20",
                "techniques",
                "r20_unknown_technique",
                gettext("R20: unknown techniques: %(codes)s.") % {"codes": ", ".join(unknown)},
            )
        )
    if not zones:
        found.append(
            Violation("R20", "zones", "r20_no_zones", gettext("R20: record the zones worked."))
        )
    unknown_zones = sorted(z for z in zones if z not in BackZone.values)
    if unknown_zones:
        found.append(
            Violation(
                "R20",
                "zones",
                "r20_unknown_zone",
                gettext("R20: unknown zones: %(codes)s.") % {"codes": ", ".join(unknown_zones)},
            )
        )
    if pressure not in Pressure.values:
        found.append(
            Violation(
                "R20",
                "pressure",
                "r20_pressure",
                gettext("R20: record the pressure level: light, medium or deep."),
            )
        )
    if direction not in Direction.values:
        found.append(
            Violation(
                "R16",
                "direction",
                "r16_direction",
                gettext("R16: record the direction: bottom-up or top-down."),
            )
        )
    return found


def _r15_stroking_violations(techniques: Sequence[str]) -> list[Violation]:
    # R15: "stroking is the initial and final manipulation"; the order in between is free
    # (the guide: "done in any order, but the session always begins and ends with stroking").
    if not techniques:
        return []
    found = []
    if techniques[0] != Technique.STROKING:
        found.append(
            Violation(
                "R15",
                "techniques",
                "r15_start_with_stroking",
                gettext("R15: the session must start with stroking."),
            )
        )
    if techniques[-1] != Technique.STROKING:
        found.append(
            Violation(
                "R15",
                "techniques",
                "r15_end_with_stroking",
                gettext("R15: the session must end with stroking."),
            )
        )
    return found


def _r17_zone_violations(
    zones: Collection[str], groups: frozenset[TechniqueGroup]
) -> list[Violation]:
    """R17: the spine and the lymph nodes are never worked; kidneys get no percussion or
    vibration, the heart no vibration. A record does not say which technique went where,
    so a forbidden group anywhere in a session that worked such an area is refused."""
    found = []
    for zone in BackZone:
        restriction = RESTRICTION_OF_ZONE.get(zone)
        if zone not in zones or restriction is None:
            continue
        if restriction.forbids_all_work or groups & restriction.forbidden_groups:
            found.append(
                Violation(restriction.rule, "zones", f"r17_{zone}", str(restriction.message))
            )
    return found


def _r7_r8_violations(
    *,
    hypertensive: bool,
    groups: frozenset[TechniqueGroup],
    direction: str,
    bp_before: BloodPressure | None,
    bp_after: BloodPressure | None,
) -> list[Violation]:
    found = []
    for name, reading in (("bp_before", bp_before), ("bp_after", bp_after)):
        if reading is None:
            if hypertensive:
                found.append(
                    Violation(
                        "R7",
                        name,
                        "r7_blood_pressure_required",
                        gettext(
                            "R7: the patient is hypertensive; record the blood pressure "
                            "before and after the session."
                        ),
                    )
                )
            continue
        if not (
            SYSTOLIC_RANGE[0] <= reading.systolic <= SYSTOLIC_RANGE[1]
            and DIASTOLIC_RANGE[0] <= reading.diastolic <= DIASTOLIC_RANGE[1]
            and reading.diastolic < reading.systolic
        ):
            found.append(
                Violation(
                    "R7",
                    name,
                    "r7_blood_pressure_implausible",
                    gettext("R7: %(s)s/%(d)s mmHg is not a plausible blood pressure.")
                    % {"s": reading.systolic, "d": reading.diastolic},
                )
            )
    if bp_before is not None and bp_before.systolic > SYSTOLIC_LIMIT:
        found.append(
            Violation(
                "R8",
                "bp_before",
                "r8_systolic_over_limit",
                gettext("R8: systolic over %(limit)s mmHg before the session; no massage today.")
                % {"limit": SYSTOLIC_LIMIT},
            )
        )
    if hypertensive:
        if groups & {TechniqueGroup.VIBRATION, TechniqueGroup.PERCUSSION}:
            found.append(
                Violation(
                    "R8",
                    "techniques",
                    "r8_no_vibration_or_percussion",
                    gettext("R8: no vibration or percussion for a hypertensive patient."),
                )
            )
        if direction in Direction.values and direction != Direction.TOP_DOWN:
            found.append(
                Violation(
                    "R8",
                    "direction",
                    "r8_top_down",
                    gettext(
                        "R8: for a hypertensive patient the strokes run top-down, from the "
                        "neck to the tailbone (the exception to R16)."
                    ),
                )
            )
    return found


def _r18_pain_violations(pain_before: int | None, pain_after: int | None) -> list[Violation]:
    found = []
    for name, score in (("pain_before", pain_before), ("pain_after", pain_after)):
        # bool is an int in Python; True must not pass as a pain score of 1.
        if score is None or isinstance(score, bool) or not isinstance(score, int):
            found.append(
                Violation(
                    "R18",
                    name,
                    "r18_pain_required",
                    gettext("R18: record the pain score (0–10) before and after the session."),
                )
            )
        elif not PAIN_MIN <= score <= PAIN_MAX:
            found.append(
                Violation(
                    "R18",
                    name,
                    "r18_pain_range",
                    gettext("R18: the pain score is from 0 to 10."),
                )
            )
    return found


def record_violations(
    *,
    techniques: Sequence[str],
    zones: Collection[str],
    pressure: str,
    direction: str,
    hypertensive: bool,
    blocked_zones: Iterable[str] = frozenset(),
    bp_before: BloodPressure | None = None,
    bp_after: BloodPressure | None = None,
    pain_before: int | None = None,
    pain_after: int | None = None,
) -> list[Violation]:
    """Everything wrong with a completed session's record; an empty list means valid.

    `techniques` are technique codes in the order used, `zones` back zone codes worked,
    `blocked_zones` the screening's (screening or back zone codes, R3).
    """
    zone_set = frozenset(zones)
    groups = _groups(techniques)
    found = _catalogue_violations(techniques, zone_set, pressure, direction)
    found += _r15_stroking_violations(techniques)
    found += _r17_zone_violations(zone_set, groups)
    blocked = expand_blocked_zones(blocked_zones)
    found += [
        Violation(
            "R3",
            "zones",
            f"r3_blocked_{zone}",
            gettext("R3: the screening blocks the zone “%(zone)s”.") % {"zone": zone.label},
        )
        for zone in BackZone
        if zone in blocked and zone in zone_set
    ]
    found += _r7_r8_violations(
        hypertensive=hypertensive,
        groups=groups,
        direction=direction,
        bp_before=bp_before,
        bp_after=bp_after,
    )
    found += _r18_pain_violations(pain_before, pain_after)
    return found


def validation_error(
    violations: Iterable[Violation], *, field_names: Mapping[str, str] | None = None
) -> ValidationError:
    """A `ValidationError` keyed by field, each message carrying the violation's code.

    `field_names` renames this module's fields to the form's or model's (e.g.
    {"bp_before": "systolic_before"}); fields not in it keep their names.
    """
    names = field_names or {}
    errors: dict[str, list[ValidationError]] = {}
    for v in violations:
        errors.setdefault(names.get(v.field, v.field), []).append(
            ValidationError(v.message, code=v.code)
        )
    return ValidationError(errors)


def raise_for_violations(
    violations: Sequence[Violation], *, field_names: Mapping[str, str] | None = None
) -> None:
    """Raise `validation_error()` when there is any violation; for the services layer."""
    if violations:
        raise validation_error(violations, field_names=field_names)
