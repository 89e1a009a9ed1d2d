"""Contraindication rules R1-R8 as data plus pure functions: no database access here.

A screening's outcome is computed by `screening_outcome()` from the answers, the practice's
catalogue (plain `CatalogueItem` values), the vitals and the patient's flags; nobody types it.
`eligibility()` then answers the one question courses and sessions ask: may this patient have
this massage type on this day? Services load the rows, call these, and store the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from practice.catalogue import default_type_name, translated

DEFAULT_FEVER_THRESHOLD = Decimal("37.5")  # R2; each practice's own is in its settings
# R2: no doctor's clearance lifts these, whatever a catalogue row says.
NOT_CLEARABLE = frozenset({"oncology", "fever"})
SYSTOLIC_LIMIT = 160  # R8: above this (mmHg) no massage that day
# R7: from this reading on (mmHg, either value) a screening suggests flagging the patient
# hypertensive; it only warns, R8's limit alone blocks.
HIGH_SYSTOLIC = 140
HIGH_DIASTOLIC = 90
VIBRATION = "vibration"
NO_VALID_SCREENING = "no_valid_screening"  # R1's finding: staff may still book ahead of it
HONEY = "honey"

# Plausible ranges: a value outside is a typing error, refused with a 400, never stored.
TEMPERATURE_RANGE = (Decimal("30.0"), Decimal("45.0"))
SYSTOLIC_RANGE = (60, 300)
DIASTOLIC_RANGE = (30, 200)
PULSE_RANGE = (20, 250)


class Kind(models.TextChoices):
    """What a "yes" to a catalogue item does, and the rule that says so."""

    ABSOLUTE = "absolute", _("Absolute: blocks every massage type (R2)")
    LOCAL = "local", _("Local: blocks the affected zone (R3)")
    TYPE_SPECIFIC = "type_specific", _("Type-specific: blocks some massage types (R4)")
    EXACERBATION = "exacerbation", _("Acute exacerbation: blocks until over (R5)")
    NEEDS_DOCTOR = "needs_doctor", _("Uncertain diagnosis: needs a doctor (R6)")
    CAUTION = "caution", _("Caution only: a warning (R3)")


RULE_OF_KIND: dict[str, str] = {
    Kind.ABSOLUTE: "R2",
    Kind.LOCAL: "R3",
    Kind.TYPE_SPECIFIC: "R4",
    Kind.EXACERBATION: "R5",
    Kind.NEEDS_DOCTOR: "R6",
    Kind.CAUTION: "R3",
}
ZONED_KINDS = frozenset({Kind.LOCAL, Kind.CAUTION})


class Zone(models.TextChoices):
    """Body zones a local finding can block (R3)."""

    NECK = "neck", _("Neck")
    SHOULDERS = "shoulders", _("Shoulders")
    UPPER_BACK = "upper_back", _("Upper back")
    MIDDLE_BACK = "middle_back", _("Middle back")
    LOWER_BACK = "lower_back", _("Lower back")
    SACRUM = "sacrum", _("Sacrum")
    ARMS = "arms", _("Arms")
    LEGS = "legs", _("Legs")
    CHEST = "chest", _("Chest")
    ABDOMEN = "abdomen", _("Abdomen")


class Status(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    RESTRICTED = "restricted", _("Restricted")
    NEEDS_DOCTOR = "needs_doctor", _("Needs a doctor")
    BLOCKED = "blocked", _("Blocked")


class Effect(models.TextChoices):
    """What one finding does to the massage."""

    BLOCK = "block", _("blocks every massage type")
    DOCTOR = "doctor", _("blocks until a doctor's clearance")
    TYPES = "types", _("blocks some massage types")
    ZONE = "zone", _("blocks a zone")
    WARN = "warn", _("warning")


# A message's placeholders and their values; a tuple value is a list, joined when shown.
Params = tuple[tuple[str, str | tuple[str, ...]], ...]


def params(**values: object) -> Params:
    return tuple(
        sorted(
            (key, tuple(str(v) for v in value) if isinstance(value, tuple) else str(value))
            for key, value in values.items()
        )
    )


@dataclass(frozen=True)
class Finding:
    """One reason or warning, with the rule it comes from (e.g. "R2") and the catalogue item
    or check that raised it (e.g. "oncology", "fever", "no_valid_screening").

    `message` is the English message id, with `params` filling its placeholders; `text` is
    the message in the reader's language. Findings are stored (a screening's outcome, a
    check-in's blocks) and read later by someone who may read another language, so they keep
    what makes the text, not the text: the catalogue names among the params are translated
    too when they are defaults (`practice.catalogue.translated`). Rows stored before params
    existed hold the text itself, shown as written.
    """

    rule: str
    code: str
    message: str
    effect: str = Effect.BLOCK
    zone: str = ""
    massage_types: frozenset[str] = frozenset()
    # R8: a high blood pressure reading blocks the day it was taken, not the whole validity.
    day_only: bool = False
    params: Params = ()

    @property
    def text(self) -> str:
        if not self.params:
            return gettext(self.message)
        values = {
            key: ", ".join(map(translated, value))
            if isinstance(value, tuple)
            else translated(value)
            for key, value in self.params
        }
        return gettext(self.message) % values

    def __str__(self) -> str:
        return self.text

    def as_json(self) -> dict[str, Any]:
        """`message` is the text in the active language, for clients; `template` and
        `params` let a later reader see it in theirs."""
        return {
            "rule": self.rule,
            "code": self.code,
            "message": self.text,
            "template": self.message,
            "params": {key: list(v) if isinstance(v, tuple) else v for key, v in self.params},
            "effect": str(self.effect),
            "zone": self.zone,
            "massage_types": sorted(self.massage_types),
            "day_only": self.day_only,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            code=data["code"],
            message=data.get("template") or data["message"],
            effect=data.get("effect", Effect.BLOCK),
            zone=data.get("zone", ""),
            massage_types=frozenset(data.get("massage_types", ())),
            day_only=data.get("day_only", False),
            params=params(
                **{
                    key: tuple(value) if isinstance(value, list) else value
                    for key, value in data.get("params", {}).items()
                }
            ),
        )


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    name: str
    kind: str
    blocks_types: frozenset[str] = frozenset()
    clearable: bool = False

    @property
    def rule(self) -> str:
        return RULE_OF_KIND[self.kind]


@dataclass(frozen=True)
class Answer:
    code: str
    yes: bool
    zone: str = ""


@dataclass(frozen=True)
class Outcome:
    findings: tuple[Finding, ...] = ()

    @property
    def status(self) -> Status:
        effects = {finding.effect for finding in self.findings}
        if Effect.BLOCK in effects:
            return Status.BLOCKED
        if Effect.DOCTOR in effects:
            return Status.NEEDS_DOCTOR
        if effects:
            return Status.RESTRICTED
        return Status.CLEARED

    @property
    def reasons(self) -> tuple[Finding, ...]:
        """What blocks every massage type (status blocked or needs_doctor)."""
        return tuple(f for f in self.findings if f.effect in (Effect.BLOCK, Effect.DOCTOR))

    @property
    def blocked_types(self) -> frozenset[str]:
        return frozenset().union(
            *(f.massage_types for f in self.findings if f.effect == Effect.TYPES)
        )

    @property
    def blocked_zones(self) -> frozenset[str]:
        return frozenset(f.zone for f in self.findings if f.effect == Effect.ZONE)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.effect == Effect.WARN)

    def on(self, day: date, screened_on: date) -> Outcome:
        """The outcome as it stands on `day`: day-only findings (R8) lapse after their day."""
        if day == screened_on:
            return self
        return replace(self, findings=tuple(f for f in self.findings if not f.day_only))

    def as_json(self) -> dict[str, Any]:
        return {"findings": [finding.as_json() for finding in self.findings]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(findings=tuple(Finding.from_json(item) for item in data.get("findings", ())))


@dataclass(frozen=True)
class Eligibility:
    """The answer to "may this patient have this massage type on this day?"."""

    allowed: bool
    reasons: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    blocked_zones: frozenset[str] = field(default_factory=frozenset)
    screening_id: int | None = None

    @property
    def blocks(self) -> tuple[Finding, ...]:
        """What refuses even a booking made ahead of the screening: what a valid screening
        blocks (R2-R6, R8) and R8's day block; everything but R1's missing screening."""
        return tuple(reason for reason in self.reasons if reason.code != NO_VALID_SCREENING)


def _item_findings(item: CatalogueItem, answer: Answer, cleared: bool) -> list[Finding]:
    """What a "yes" to one catalogue item means."""
    named = params(item=item.name)
    findings: list[Finding] = []
    if item.kind == Kind.ABSOLUTE:
        if cleared and item.clearable and item.code not in NOT_CLEARABLE:
            # R2: a doctor's written clearance lifts a named item (never oncology or fever,
            # which the catalogue marks as not clearable).
            message = gettext_noop("%(item)s: lifted by a doctor's clearance.")
            findings.append(Finding("R2", item.code, message, Effect.WARN, params=named))
        else:
            message = gettext_noop("%(item)s: no massage of any type.")
            findings.append(Finding("R2", item.code, message, Effect.BLOCK, params=named))
    elif item.kind == Kind.NEEDS_DOCTOR:
        if cleared:
            message = gettext_noop("%(item)s: cleared by a doctor.")
            findings.append(Finding("R6", item.code, message, Effect.WARN, params=named))
        else:
            message = gettext_noop("%(item)s: no massage until a doctor's clearance is recorded.")
            findings.append(Finding("R6", item.code, message, Effect.DOCTOR, params=named))
    elif item.kind == Kind.EXACERBATION:
        message = gettext_noop("%(item)s: no massage until the exacerbation is over.")
        findings.append(Finding("R5", item.code, message, Effect.BLOCK, params=named))
    elif item.kind == Kind.LOCAL:
        message = gettext_noop("%(item)s: do not massage the affected zone.")
        findings.append(
            Finding("R3", item.code, message, Effect.ZONE, zone=answer.zone, params=named)
        )
    elif item.kind == Kind.CAUTION:
        message = gettext_noop("%(item)s: massage with caution.")
        findings.append(
            Finding("R3", item.code, message, Effect.WARN, zone=answer.zone, params=named)
        )
    # R4: an item of any kind may also name massage types it blocks (pregnancy and allergic
    # rash block cupping). They stay blocked even when a doctor lifts the R2 block.
    if item.blocks_types:
        findings.append(
            Finding(
                "R4",
                item.code,
                gettext_noop("%(item)s: not for %(types)s massage."),
                Effect.TYPES,
                massage_types=item.blocks_types,
                params=params(
                    item=item.name,
                    types=tuple(default_type_name(code) for code in sorted(item.blocks_types)),
                ),
            )
        )
    return findings


def patient_flag_findings(*, hypertensive: bool, allergic_to_honey: bool) -> list[Finding]:
    """Findings that follow from the patient's record rather than from the answers."""
    findings = []
    if hypertensive:
        findings.append(
            Finding(
                "R8",
                "hypertensive",
                gettext_noop(
                    "Hypertensive: no vibration or percussion; strokes run top-down, "
                    "neck to tailbone."
                ),
                Effect.TYPES,
                massage_types=frozenset({VIBRATION}),
            )
        )
    if allergic_to_honey:
        findings.append(
            Finding(
                "R4",
                "allergic_to_honey",
                gettext_noop("Allergic to honey: no honey massage."),
                Effect.TYPES,
                massage_types=frozenset({HONEY}),
            )
        )
    return findings


def fever_finding(temperature: Decimal | None, threshold: Decimal) -> Finding | None:
    """R2: an elevated body temperature blocks every type; no clearance lifts it."""
    if temperature is None or temperature < threshold:
        return None
    return Finding(
        "R2",
        "fever",
        gettext_noop("Temperature %(value)s °C (from %(limit)s °C): no massage of any type."),
        Effect.BLOCK,
        params=params(value=temperature, limit=threshold),
    )


def _reading(systolic: int, diastolic: int | None) -> str:
    return f"{systolic}/{diastolic}" if diastolic is not None else str(systolic)


def high_pressure_finding(
    systolic: int | None, diastolic: int | None, hypertensive: bool
) -> Finding | None:
    """R7: a high reading of a patient not flagged hypertensive is shown as a warning with the
    suggestion to flag them (then R7 and R8 apply); it blocks nothing by itself."""
    if hypertensive or systolic is None:
        return None
    if systolic < HIGH_SYSTOLIC and (diastolic is None or diastolic < HIGH_DIASTOLIC):
        return None
    return Finding(
        "R7",
        "high_blood_pressure",
        gettext_noop(
            "Blood pressure %(reading)s mmHg is high: consider flagging the patient as "
            "hypertensive."
        ),
        Effect.WARN,
        params=params(reading=_reading(systolic, diastolic)),
    )


def day_block_finding(
    *, systolic: int, diastolic: int | None, measured_at: time, source: str
) -> Finding:
    """R8's day block: a reading over the limit taken earlier that day (at a screening or a
    check-in), named with its time, blocks every session for the rest of the day."""
    return Finding(
        "R8",
        "systolic_over_160",
        gettext_noop(
            "Blood pressure %(reading)s mmHg at %(time)s (%(source)s), systolic over "
            "%(limit)s: no massage for the rest of the day."
        ),
        Effect.BLOCK,
        day_only=True,
        params=params(
            reading=_reading(systolic, diastolic),
            time=measured_at.strftime("%H:%M"),
            source=source,
            limit=SYSTOLIC_LIMIT,
        ),
    )


def blood_pressure_finding(systolic: int | None) -> Finding | None:
    """R8: systolic above 160 mmHg: no massage that day (the slot is released)."""
    if systolic is None or systolic <= SYSTOLIC_LIMIT:
        return None
    return Finding(
        "R8",
        "systolic_over_160",
        gettext_noop("Systolic %(value)s mmHg (over %(limit)s): no massage today."),
        Effect.BLOCK,
        day_only=True,
        params=params(value=systolic, limit=SYSTOLIC_LIMIT),
    )


def screening_outcome(
    *,
    catalogue: Mapping[str, CatalogueItem],
    answers: Iterable[Answer],
    cleared_codes: Iterable[str] = (),
    temperature: Decimal | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
    hypertensive: bool = False,
    allergic_to_honey: bool = False,
    fever_threshold: Decimal = DEFAULT_FEVER_THRESHOLD,
) -> Outcome:
    """The outcome of a screening, from the answers and the catalogue (R2-R8).

    `cleared_codes` are the items a doctor's clearance covers; a clearance lifts only the R2
    block of a clearable item and the R6 block, never a type-specific one (R4).
    """
    cleared = frozenset(cleared_codes)
    findings: list[Finding] = []
    for answer in answers:
        try:
            item = catalogue[answer.code]
        except KeyError:
            raise ValueError(f"Unknown catalogue item {answer.code!r}.") from None
        if answer.yes:
            findings.extend(_item_findings(item, answer, answer.code in cleared))
    for finding in (
        fever_finding(temperature, fever_threshold),
        blood_pressure_finding(systolic),
        high_pressure_finding(systolic, diastolic, hypertensive),
    ):
        if finding is not None:
            findings.append(finding)
    findings.extend(
        patient_flag_findings(hypertensive=hypertensive, allergic_to_honey=allergic_to_honey)
    )
    return Outcome(findings=_unique(findings))


def _unique(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.rule, finding.code, finding.effect, finding.zone), finding)
    return tuple(seen.values())


def missing_measurements(
    *, hypertensive: bool, systolic: int | None, diastolic: int | None
) -> dict[str, str]:
    """R7: a hypertensive patient's screening needs a blood-pressure reading."""
    if not hypertensive:
        return {}
    message = gettext("R7: the patient is hypertensive; measure the blood pressure.")
    return {
        name: message
        for name, value in (("systolic", systolic), ("diastolic", diastolic))
        if value is None
    }


def no_valid_screening() -> Finding:
    return Finding(
        "R1",
        NO_VALID_SCREENING,
        gettext_noop("No valid screening: screen the patient first."),
        Effect.BLOCK,
    )


def eligibility(
    *,
    outcome: Outcome | None,
    screened_on: date | None,
    on: date,
    massage_type_code: str,
    hypertensive: bool = False,
    allergic_to_honey: bool = False,
    screening_id: int | None = None,
    day_blocks: Iterable[Finding] = (),
) -> Eligibility:
    """May the patient have `massage_type_code` on `on`, given their valid screening's outcome
    (None when there is none, R1)? The patient's current flags count too: a honey allergy or
    hypertension noted after the screening still blocks its type (R4, R8). `day_blocks` are
    R8's blocks of that day from readings over the limit (`day_block_finding`): they block
    with or without a screening, and come first so their message names the reading."""
    day_blocks = tuple(day_blocks)
    if outcome is None or screened_on is None:
        return Eligibility(allowed=False, reasons=(no_valid_screening(), *_unique(day_blocks)))
    current = outcome.on(on, screened_on)
    findings = _unique(
        (
            *day_blocks,
            *current.findings,
            *patient_flag_findings(hypertensive=hypertensive, allergic_to_honey=allergic_to_honey),
        )
    )
    reasons = tuple(
        f
        for f in findings
        if f.effect in (Effect.BLOCK, Effect.DOCTOR)
        or (f.effect == Effect.TYPES and massage_type_code in f.massage_types)
    )
    warnings = tuple(f for f in findings if f.effect in (Effect.WARN, Effect.ZONE))
    return Eligibility(
        allowed=not reasons,
        reasons=reasons,
        warnings=warnings,
        blocked_zones=frozenset(f.zone for f in findings if f.effect == Effect.ZONE),
        screening_id=screening_id,
    )
