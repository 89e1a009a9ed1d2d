"""A session's planned protocol (R8, R14-R17): what the therapist does, in which order, where,
how hard, and what to avoid, shown before the session starts.

`session_protocol()` is pure: the service loads the massage type, the course position and the
screening's eligibility, and passes plain values. Per-type plans are data (`TYPE_PLANS`); the
rules that shape every plan (open and close with stroking, the ramp, the direction, the
exclusions) are applied in one place, `session_protocol()`, so no plan can skip them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.rules import r14_minutes
from patients.screening import VIBRATION as VIBRATION_TYPE
from sessions.records.techniques import (
    ALL_GROUPS,
    GROUP_ORDER,
    RESTRICTION_OF_ZONE,
    WORKING_ZONES_BOTTOM_UP,
    ZONE_RESTRICTIONS,
    BackZone,
    Direction,
    Pressure,
    Technique,
    TechniqueGroup,
    direction_for,
    expand_blocked_zones,
    gentler,
    techniques_in,
)

# R8: groups a hypertensive patient never gets.
HYPERTENSION_EXCLUDED_GROUPS = frozenset({TechniqueGroup.VIBRATION, TechniqueGroup.PERCUSSION})
# R8: massage types that are nothing but an excluded group; the screening blocks them too (R4).
HYPERTENSION_BLOCKED_TYPES = frozenset({VIBRATION_TYPE})
# R14: "the first massage is carried out using a gentle influence".
FIRST_SESSION_MAX_PRESSURE = Pressure.LIGHT


class RuleMessage(Protocol):
    """Anything carrying a rule id and a message to show, e.g. `patients.screening.Finding`."""

    @property
    def rule(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Note:
    rule: str
    message: str


@dataclass(frozen=True)
class ProtocolStep:
    group: TechniqueGroup
    techniques: tuple[Technique, ...]
    zones: tuple[BackZone, ...]
    pressure: Pressure


@dataclass(frozen=True)
class ZoneAvoidance:
    """A zone to leave alone (`groups` = every group) or to work only without `groups`, or
    no harder than `max_pressure`."""

    zone: BackZone
    rule: str
    groups: frozenset[TechniqueGroup]
    max_pressure: Pressure | None
    message: str


@dataclass(frozen=True)
class TechniqueExclusion:
    technique: Technique
    rule: str
    message: str


@dataclass(frozen=True)
class SessionProtocol:
    massage_type: str
    minutes: int
    direction: Direction
    steps: tuple[ProtocolStep, ...]
    avoid: tuple[ZoneAvoidance, ...]
    excluded: tuple[TechniqueExclusion, ...]
    notes: tuple[Note, ...]
    # Rules that forbid the session as planned; the steps are empty then.
    blocked_by: tuple[Note, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.blocked_by

    def as_json(self) -> dict[str, Any]:
        def note(n: Note) -> dict[str, str]:
            return {"rule": n.rule, "message": n.message}

        return {
            "massage_type": self.massage_type,
            "minutes": self.minutes,
            "direction": str(self.direction),
            "allowed": self.allowed,
            "blocked_by": [note(n) for n in self.blocked_by],
            "steps": [
                {
                    "group": str(step.group),
                    "techniques": [str(t) for t in step.techniques],
                    "zones": [str(z) for z in step.zones],
                    "pressure": str(step.pressure),
                }
                for step in self.steps
            ],
            "avoid": [
                {
                    "zone": str(a.zone),
                    "rule": a.rule,
                    "groups": sorted(str(g) for g in a.groups),
                    "max_pressure": str(a.max_pressure) if a.max_pressure else None,
                    "message": a.message,
                }
                for a in self.avoid
            ],
            "excluded": [
                {"technique": str(e.technique), "rule": e.rule, "message": e.message}
                for e in self.excluded
            ],
            "notes": [note(n) for n in self.notes],
        }


@dataclass(frozen=True)
class StepPlan:
    group: TechniqueGroup
    techniques: tuple[Technique, ...]
    pressure: Pressure


@dataclass(frozen=True)
class TypePlan:
    """The middle of a type's session; the opening and closing stroking are added for every
    type by `session_protocol()` (R15)."""

    middle: tuple[StepPlan, ...]
    max_pressure: Pressure
    # (rule, text): the type's own guidance; the rule is "" where the guide says it unasked.
    notes: tuple[tuple[str, Promise], ...] = field(default=())
    hypertensive_notes: tuple[tuple[str, Promise], ...] = field(default=())


T = Technique
G = TechniqueGroup
P = Pressure

# The classical sequence of the guide, grouped as R15 orders it. "Classical underlies all
# other types" (R20), so an unknown practice-defined type gets this plan.
CLASSICAL = TypePlan(
    middle=(
        StepPlan(G.RUBBING, (T.RUBBING, T.SAWING, T.PLANING), P.MEDIUM),
        StepPlan(G.KNEADING, (T.KNEADING, T.SQUEEZING), P.DEEP),
        StepPlan(G.VIBRATION, (T.VIBRATION, T.SHAKING), P.MEDIUM),
        StepPlan(G.PERCUSSION, (T.TAPPING, T.CHOPPING, T.PATTING), P.MEDIUM),
    ),
    max_pressure=P.DEEP,
)

TYPE_PLANS: Mapping[str, TypePlan] = MappingProxyType(
    {
        "classical": CLASSICAL,
        "therapeutic": TypePlan(
            CLASSICAL.middle,
            P.DEEP,
            (("R18", _("Work the painful areas; ease the pressure where the pain is acute.")),),
        ),
        "sports": CLASSICAL,
        "relaxing": TypePlan(
            (
                StepPlan(G.RUBBING, (T.RUBBING,), P.MEDIUM),
                StepPlan(G.KNEADING, (T.PINCHING, T.KNEADING), P.MEDIUM),
                StepPlan(G.VIBRATION, (T.VIBRATION,), P.LIGHT),
            ),
            P.MEDIUM,
            (("", _("Use massage oil; keep the rhythm slow and even.")),),
        ),
        "cupping": TypePlan(
            (
                StepPlan(G.RUBBING, (T.RUBBING,), P.MEDIUM),
                StepPlan(G.KNEADING, (T.CUPPING,), P.MEDIUM),
            ),
            P.MEDIUM,
            (
                ("", _("Oil the back first; stroke and rub before the cups go on.")),
                ("R17", _("Move the cups from the spine to the sides, never over the kidneys.")),
                ("R18", _("Bruises are allowed; stop if the pain becomes severe.")),
            ),
        ),
        "vibration": TypePlan(
            (
                StepPlan(G.RUBBING, (T.RUBBING,), P.MEDIUM),
                StepPlan(G.KNEADING, (T.KNEADING,), P.MEDIUM),
                StepPlan(G.VIBRATION, (T.VIBRATION, T.SHAKING), P.MEDIUM),
            ),
            P.MEDIUM,
        ),
        "lymphatic": TypePlan(
            (StepPlan(G.RUBBING, (T.RUBBING,), P.LIGHT),),
            P.LIGHT,
            (("R17", _("Follow the lymph flow toward the nodes, without working on them.")),),
        ),
        "honey": TypePlan(
            (
                StepPlan(G.RUBBING, (T.RUBBING,), P.MEDIUM),
                StepPlan(G.KNEADING, (T.HONEY_PULLING,), P.MEDIUM),
            ),
            P.MEDIUM,
            (
                ("", _("Only on skin warmed by a classical or cupping massage; warm the honey.")),
                ("", _("Cover with film for at most 30 minutes afterwards, never overnight.")),
            ),
            # The guide limits honey massage "for people prone to sudden surges in pressure".
            (("R8", _("Prone to pressure surges: keep the honey pulls gentle and short.")),),
        ),
        "self": TypePlan(
            (
                StepPlan(G.RUBBING, (T.RUBBING, T.SAWING), P.MEDIUM),
                StepPlan(G.KNEADING, (T.KNEADING, T.SQUEEZING), P.MEDIUM),
                StepPlan(G.PERCUSSION, (T.PATTING,), P.LIGHT),
            ),
            P.MEDIUM,
            (("R16", _("Teach the patient: start at the lower back, rise to the shoulders.")),),
        ),
    }
)


def plan_for(massage_type: str) -> TypePlan:
    return TYPE_PLANS.get(massage_type, CLASSICAL)


def _split_by_zone_caps(
    group: TechniqueGroup,
    techniques: tuple[Technique, ...],
    zones: tuple[BackZone, ...],
    pressure: Pressure,
) -> list[ProtocolStep]:
    """One step per pressure actually allowed, so a capped zone (R17: no maximum force between
    the shoulder blades) gets its own gentler step instead of lowering the whole step."""
    by_pressure: dict[Pressure, list[BackZone]] = {}
    for zone in zones:
        restriction = RESTRICTION_OF_ZONE.get(zone)
        cap = restriction.max_pressure if restriction else None
        by_pressure.setdefault(gentler(pressure, cap) if cap else pressure, []).append(zone)
    return [
        ProtocolStep(group, techniques, tuple(zone_list), zone_pressure)
        for zone_pressure, zone_list in by_pressure.items()
    ]


def _validate_position(position: int | None, course_length: int | None) -> None:
    if position is None:
        return
    if course_length is None:
        raise ValueError("A course position needs the course length.")
    if not 1 <= position <= course_length:
        raise ValueError(f"Position {position} is outside a course of {course_length}.")


def _notes(
    *,
    plan: TypePlan,
    minutes: int,
    first_of_course: bool,
    hypertensive: bool,
    warnings: Iterable[RuleMessage],
) -> list[Note]:
    notes = [
        Note("R15", gettext("Start and end with stroking; pressure grows only after warming.")),
        Note("R8", gettext("Work top-down, from the neck to the tailbone."))
        if hypertensive
        else Note("R16", gettext("Work bottom-up, from the sacrum and lower back to the neck.")),
        Note(
            "R18",
            gettext(
                "Ask for the pain score (0–10) before and after; pain lowers the intensity "
                "or stops the session."
            ),
        ),
    ]
    if first_of_course:
        notes.append(
            Note(
                "R14",
                gettext("First session of the course: gentle, light pressure, %(n)d minutes.")
                % {"n": minutes},
            )
        )
    if hypertensive:
        notes.append(Note("R7", gettext("Measure the blood pressure before and after.")))
        notes.extend(Note(rule, str(text)) for rule, text in plan.hypertensive_notes)
    notes.extend(Note(rule, str(text)) for rule, text in plan.notes)
    notes.extend(Note(w.rule, w.text) for w in warnings)
    return notes


def _avoid(blocked: frozenset[BackZone]) -> list[ZoneAvoidance]:
    """The screening's blocked zones (R3), then the areas R17 always restricts."""
    avoid = [
        ZoneAvoidance(
            zone,
            "R3",
            ALL_GROUPS,
            None,
            gettext("R3: the screening blocks this zone; do not massage it."),
        )
        for zone in BackZone
        if zone in blocked
    ]
    avoid.extend(
        ZoneAvoidance(r.zone, r.rule, r.forbidden_groups, r.max_pressure, str(r.message))
        for r in ZONE_RESTRICTIONS
    )
    return avoid


def _excluded(*, hypertensive: bool) -> list[TechniqueExclusion]:
    if not hypertensive:
        return []
    message = gettext("R8: no vibration or percussion for a hypertensive patient.")
    return [
        TechniqueExclusion(technique, "R8", message)
        for group in GROUP_ORDER
        if group in HYPERTENSION_EXCLUDED_GROUPS
        for technique in techniques_in(group)
    ]


def _steps(
    *, plan: TypePlan, zones: tuple[BackZone, ...], first_of_course: bool, hypertensive: bool
) -> list[ProtocolStep]:
    ceiling = plan.max_pressure
    if first_of_course:
        ceiling = gentler(ceiling, FIRST_SESSION_MAX_PRESSURE)
    # R15: every type opens and closes with light stroking, whatever its plan says.
    stroking = StepPlan(G.STROKING, (T.STROKING,), P.LIGHT)
    middle = [
        s for s in plan.middle if not (hypertensive and s.group in HYPERTENSION_EXCLUDED_GROUPS)
    ]
    steps: list[ProtocolStep] = []
    for step in (stroking, *middle, stroking):
        pressure = gentler(step.pressure, ceiling)
        steps.extend(_split_by_zone_caps(step.group, step.techniques, zones, pressure))
    return steps


def session_protocol(
    *,
    massage_type: str,
    default_minutes: int,
    position: int | None,
    course_length: int | None,
    hypertensive: bool,
    blocked_zones: Iterable[str] = frozenset(),
    warnings: Iterable[RuleMessage] = (),
) -> SessionProtocol:
    """The planned protocol of one session.

    `massage_type` is the type's code (an unknown one gets the classical plan). `position` is
    the session's 1-based place in its course of `course_length`, None for a single session,
    which lasts the type's default. `blocked_zones` are the screening's (R3), in screening or
    back zone codes; `warnings` (e.g. the eligibility's) are shown with the notes. When a rule
    forbids the session as planned, `blocked_by` names it and there are no steps.
    """
    _validate_position(position, course_length)
    plan = plan_for(massage_type)
    direction = direction_for(hypertensive=hypertensive)
    # R14: the same ramp the course planner books the slots with.
    minutes = default_minutes if position is None else r14_minutes(position, default_minutes)
    first_of_course = position == 1
    blocked = expand_blocked_zones(blocked_zones)
    order = WORKING_ZONES_BOTTOM_UP
    if direction == Direction.TOP_DOWN:
        order = tuple(reversed(order))
    zones = tuple(zone for zone in order if zone not in blocked)

    blocked_by: list[Note] = []
    if hypertensive and massage_type in HYPERTENSION_BLOCKED_TYPES:
        blocked_by.append(
            Note("R8", gettext("R8: this massage type is not for a hypertensive patient."))
        )
    if not zones:
        blocked_by.append(Note("R3", gettext("R3: the screening blocks every zone of the back.")))
    steps = (
        []
        if blocked_by
        else _steps(
            plan=plan, zones=zones, first_of_course=first_of_course, hypertensive=hypertensive
        )
    )
    return SessionProtocol(
        massage_type=massage_type,
        minutes=minutes,
        direction=direction,
        steps=tuple(steps),
        avoid=tuple(_avoid(blocked)),
        excluded=tuple(_excluded(hypertensive=hypertensive)),
        notes=tuple(
            _notes(
                plan=plan,
                minutes=minutes,
                first_of_course=first_of_course,
                hypertensive=hypertensive,
                warnings=warnings,
            )
        ),
        blocked_by=tuple(blocked_by),
    )
