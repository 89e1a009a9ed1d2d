"""The back-massage catalogues as data: techniques, zones, pressure levels, directions.

Everything here comes from `shared/seed/back-massage-guide.txt` and the rules R8, R14-R17 in
`shared/domain-rules.md`. The choices classes serve serializers, forms and model fields; the
tables below them are what `sessions.records.protocol` and `sessions.records.validation`
read, so a rule about a technique or a zone is changed here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from patients.screening import Zone as ScreeningZone


class TechniqueGroup(models.TextChoices):
    """The four groups of the Russian school (vibration and percussion counted apart, R8)."""

    STROKING = "stroking", _("Warming / stroking")
    RUBBING = "rubbing", _("Rubbing")
    KNEADING = "kneading", _("Kneading")
    VIBRATION = "vibration", _("Vibration")
    PERCUSSION = "percussion", _("Percussion")


# R15: the order a protocol follows between the opening and the closing stroking.
GROUP_ORDER: tuple[TechniqueGroup, ...] = (
    TechniqueGroup.STROKING,
    TechniqueGroup.RUBBING,
    TechniqueGroup.KNEADING,
    TechniqueGroup.VIBRATION,
    TechniqueGroup.PERCUSSION,
)


class Technique(models.TextChoices):
    STROKING = "stroking", _("Stroking")
    RUBBING = "rubbing", _("Rubbing")
    SHADING = "shading", _("Shading")
    SAWING = "sawing", _("Sawing")
    PLANING = "planing", _("Planing")
    KNEADING = "kneading", _("Kneading")
    SQUEEZING = "squeezing", _("Squeezing")
    ROLLING = "rolling", _("Rolling")
    PINCHING = "pinching", _("Pinching")
    CUPPING = "cupping", _("Cupping (moving cups)")
    HONEY_PULLING = "honey_pulling", _("Honey pulling (press and lift off)")
    VIBRATION = "vibration", _("Vibration")
    SHAKING = "shaking", _("Shaking (sifting)")
    CHOPPING = "chopping", _("Chopping")
    PATTING = "patting", _("Patting")
    TAPPING = "tapping", _("Tapping")


TECHNIQUE_GROUP: Mapping[str, TechniqueGroup] = MappingProxyType(
    {
        Technique.STROKING: TechniqueGroup.STROKING,
        # The guide calls sawing and planing rubbing done with the palm's edge or the fingers.
        Technique.RUBBING: TechniqueGroup.RUBBING,
        Technique.SHADING: TechniqueGroup.RUBBING,
        Technique.SAWING: TechniqueGroup.RUBBING,
        Technique.PLANING: TechniqueGroup.RUBBING,
        Technique.KNEADING: TechniqueGroup.KNEADING,
        Technique.SQUEEZING: TechniqueGroup.KNEADING,
        Technique.ROLLING: TechniqueGroup.KNEADING,
        Technique.PINCHING: TechniqueGroup.KNEADING,
        # Cups and honey lift and shift the deep tissue as kneading does, and neither beats or
        # shakes it, so R8 does not exclude them for a hypertensive patient.
        Technique.CUPPING: TechniqueGroup.KNEADING,
        Technique.HONEY_PULLING: TechniqueGroup.KNEADING,
        Technique.VIBRATION: TechniqueGroup.VIBRATION,
        Technique.SHAKING: TechniqueGroup.VIBRATION,
        Technique.CHOPPING: TechniqueGroup.PERCUSSION,
        Technique.PATTING: TechniqueGroup.PERCUSSION,
        Technique.TAPPING: TechniqueGroup.PERCUSSION,
    }
)


def techniques_in(group: TechniqueGroup) -> tuple[Technique, ...]:
    return tuple(Technique(code) for code, g in TECHNIQUE_GROUP.items() if g == group)


class BackZone(models.TextChoices):
    """Zones of the back a session works on, and the areas R17 keeps hands off."""

    GLUTEAL = "gluteal", _("Gluteal")
    SACRUM = "sacrum", _("Sacrum")
    LUMBAR = "lumbar", _("Lumbar")
    SIDES = "sides", _("Sides")
    LOWER_THORACIC = "lower_thoracic", _("Lower thoracic")
    INTERSCAPULAR = "interscapular", _("Between the shoulder blades")
    SCAPULAR = "scapular", _("Shoulder blades")
    UPPER_THORACIC = "upper_thoracic", _("Upper thoracic")
    SHOULDERS = "shoulders", _("Shoulders")
    CERVICAL = "cervical", _("Neck (cervical)")
    # R17: areas, not working zones; a record may name them only to be refused.
    SPINE = "spine", _("Spine (direct)")
    KIDNEYS = "kidneys", _("Kidney area")
    HEART = "heart", _("Heart area")
    LYMPH_NODES = "lymph_nodes", _("Lymph nodes")


# R16: "from the lower border of the spinal region with a gradual transition to the shoulders
# and neck". A protocol lists its zones in this order, reversed for a hypertensive patient (R8).
WORKING_ZONES_BOTTOM_UP: tuple[BackZone, ...] = (
    BackZone.GLUTEAL,
    BackZone.SACRUM,
    BackZone.LUMBAR,
    BackZone.SIDES,
    BackZone.LOWER_THORACIC,
    BackZone.INTERSCAPULAR,
    BackZone.SCAPULAR,
    BackZone.UPPER_THORACIC,
    BackZone.SHOULDERS,
    BackZone.CERVICAL,
)


class Pressure(models.TextChoices):
    LIGHT = "light", _("Light")
    MEDIUM = "medium", _("Medium")
    DEEP = "deep", _("Deep")


PRESSURE_RANK: Mapping[str, int] = MappingProxyType(
    {Pressure.LIGHT: 1, Pressure.MEDIUM: 2, Pressure.DEEP: 3}
)


def gentler(a: Pressure, b: Pressure) -> Pressure:
    return a if PRESSURE_RANK[a] <= PRESSURE_RANK[b] else b


class Direction(models.TextChoices):
    BOTTOM_UP = "bottom_up", _("Bottom-up: sacrum to neck (R16)")
    TOP_DOWN = "top_down", _("Top-down: neck to tailbone (R8, hypertensive)")


def direction_for(*, hypertensive: bool) -> Direction:
    # R8: strokes toward the heart would "pump" the blood up and raise the pressure.
    return Direction.TOP_DOWN if hypertensive else Direction.BOTTOM_UP


ALL_GROUPS = frozenset(TechniqueGroup)


@dataclass(frozen=True)
class ZoneRestriction:
    """What R17 forbids on one area: some technique groups (all of them for the spine and the
    lymph nodes), or more than `max_pressure`."""

    zone: BackZone
    rule: str
    forbidden_groups: frozenset[TechniqueGroup]
    max_pressure: Pressure | None
    message: str | Promise

    @property
    def forbids_all_work(self) -> bool:
        return self.forbidden_groups == ALL_GROUPS


ZONE_RESTRICTIONS: tuple[ZoneRestriction, ...] = (
    ZoneRestriction(
        BackZone.SPINE,
        "R17",
        ALL_GROUPS,
        None,
        _("R17: no direct work on the spine; massage along it, never on it."),
    ),
    ZoneRestriction(
        BackZone.LYMPH_NODES,
        "R17",
        ALL_GROUPS,
        None,
        _("R17: no work on the lymph nodes (armpits, groin, popliteal, inner elbow)."),
    ),
    # The guide forbids patting and tapping over the kidneys and, in another passage, vibrating
    # there too ("It is forbidden to vibrate in the area of the heart and kidneys"); it allows
    # only light, gentle movements in that area.
    ZoneRestriction(
        BackZone.KIDNEYS,
        "R17",
        frozenset({TechniqueGroup.PERCUSSION, TechniqueGroup.VIBRATION}),
        Pressure.LIGHT,
        _("R17: no percussion or vibration over the kidneys; light strokes only."),
    ),
    ZoneRestriction(
        BackZone.HEART,
        "R17",
        frozenset({TechniqueGroup.VIBRATION}),
        None,
        _("R17: no vibration over the heart."),
    ),
    ZoneRestriction(
        BackZone.INTERSCAPULAR,
        "R17",
        frozenset(),
        Pressure.MEDIUM,
        _("R17: no maximum force between the shoulder blades."),
    ),
)

RESTRICTION_OF_ZONE: Mapping[str, ZoneRestriction] = MappingProxyType(
    {restriction.zone: restriction for restriction in ZONE_RESTRICTIONS}
)

# R3: a screening blocks coarse zones (patients.screening.Zone); these are the back zones each
# one covers. Zones off the back map to nothing: a back massage does not touch them. Blocking
# the kidney area with the lower and middle back errs toward leaving an inflamed area alone.
SCREENING_ZONE_AREAS: Mapping[str, frozenset[BackZone]] = MappingProxyType(
    {
        ScreeningZone.NECK: frozenset({BackZone.CERVICAL}),
        ScreeningZone.SHOULDERS: frozenset({BackZone.SHOULDERS}),
        ScreeningZone.UPPER_BACK: frozenset(
            {BackZone.UPPER_THORACIC, BackZone.SCAPULAR, BackZone.INTERSCAPULAR}
        ),
        ScreeningZone.MIDDLE_BACK: frozenset({BackZone.LOWER_THORACIC, BackZone.KIDNEYS}),
        ScreeningZone.LOWER_BACK: frozenset({BackZone.LUMBAR, BackZone.KIDNEYS}),
        ScreeningZone.SACRUM: frozenset({BackZone.SACRUM}),
        ScreeningZone.ARMS: frozenset(),
        ScreeningZone.LEGS: frozenset(),
        ScreeningZone.CHEST: frozenset(),
        ScreeningZone.ABDOMEN: frozenset(),
    }
)


def expand_blocked_zones(codes: Iterable[str]) -> frozenset[BackZone]:
    """The back zones a screening's blocked zones cover (R3).

    Accepts screening zone codes ("upper_back") and back zone codes ("scapular") alike, since
    a therapist may note a finding precisely. An unknown code is a programming error, not a
    zone to ignore: silently ignoring it would let a blocked zone be massaged.
    """
    zones: set[BackZone] = set()
    for code in codes:
        if code in SCREENING_ZONE_AREAS:
            zones |= SCREENING_ZONE_AREAS[code]
        elif code in BackZone.values:
            zones.add(BackZone(code))
        else:
            raise ValueError(f"Unknown zone code {code!r}.")
    return frozenset(zones)
