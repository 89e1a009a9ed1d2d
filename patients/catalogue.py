"""The default contraindication catalogue, from domain-rules.md R2-R6 and R8 (source: the
contraindications sections of seed/back-massage-guide.txt).

A data migration loads it as the shared default (rows without a practice); each practice may
add its own items and switch off the ones it does not ask about, except the absolute ones.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_noop

from patients.screening import CatalogueItem


class DefaultItem(NamedTuple):
    code: str
    name: str
    question: str
    kind: str
    blocks_types: tuple[str, ...] = ()
    clearable: bool = False


DEFAULT_CONTRAINDICATIONS: tuple[DefaultItem, ...] = (
    # R2: absolute. A doctor's clearance can lift all but oncology and fever.
    DefaultItem(
        "oncology",
        gettext_noop("Oncology"),
        gettext_noop(
            "Do you have, or are you being treated for, cancer or a tumour (anywhere in the body)?"
        ),
        "absolute",
        ("cupping",),
    ),
    DefaultItem(
        "tuberculosis",
        gettext_noop("Tuberculosis"),
        gettext_noop("Do you have tuberculosis?"),
        "absolute",
        clearable=True,
    ),
    DefaultItem(
        "blood_disease",
        gettext_noop("Blood disease or bleeding"),
        gettext_noop("Do you have a blood disease, a bleeding disorder, or any bleeding now?"),
        "absolute",
        ("cupping",),
        clearable=True,
    ),
    DefaultItem(
        "acute_infection",
        gettext_noop("Acute infection"),
        gettext_noop("Do you have an acute infection (flu, a cold with fever, an inflammation)?"),
        "absolute",
        clearable=True,
    ),
    DefaultItem(
        "fever",
        gettext_noop("Elevated temperature"),
        gettext_noop("Do you have a raised temperature or feel feverish today?"),
        "absolute",
        ("cupping",),
    ),
    DefaultItem(
        "skin_infection",
        gettext_noop("Infectious or fungal skin disease"),
        gettext_noop("Do you have an infectious or fungal skin disease?"),
        "absolute",
        clearable=True,
    ),
    DefaultItem(
        "spinal_injury",
        gettext_noop("Serious spinal injury"),
        gettext_noop("Have you ever had a serious injury to your spine?"),
        "absolute",
        clearable=True,
    ),
    # R3: local. They block the zone, not the session.
    DefaultItem(
        "inflamed_skin",
        gettext_noop("Inflamed skin"),
        gettext_noop("Is the skin inflamed anywhere we would massage?"),
        "local",
    ),
    DefaultItem(
        "wound",
        gettext_noop("Fresh wound or injury"),
        gettext_noop("Do you have a fresh wound or injury anywhere we would massage?"),
        "local",
    ),
    DefaultItem(
        "allergic_rash",
        gettext_noop("Allergic rash"),
        gettext_noop("Do you have an allergic rash?"),
        "local",
        ("cupping",),
    ),
    DefaultItem(
        "moles",
        gettext_noop("Moles"),
        gettext_noop("Do you have moles where we would massage?"),
        "caution",
    ),
    # R4 and R8: type-specific.
    DefaultItem(
        "pregnancy",
        gettext_noop("Pregnancy"),
        gettext_noop("Are you pregnant?"),
        "type_specific",
        ("cupping",),
    ),
    DefaultItem(
        "honey_allergy",
        gettext_noop("Honey allergy"),
        gettext_noop("Are you allergic to honey?"),
        "type_specific",
        ("honey",),
    ),
    DefaultItem(
        "hypertension",
        gettext_noop("High blood pressure"),
        gettext_noop("Do you have high blood pressure (hypertension)?"),
        "type_specific",
        ("vibration",),
    ),
    # R5
    DefaultItem(
        "chronic_exacerbation",
        gettext_noop("Exacerbation of a chronic disease"),
        gettext_noop(
            "Is a chronic disease of yours worse than usual right now (an acute flare-up)?"
        ),
        "exacerbation",
    ),
    # R6
    DefaultItem(
        "uncertain_diagnosis",
        gettext_noop("Uncertain diagnosis"),
        gettext_noop(
            "Do you have back pain whose cause is unclear (for example a suspected kidney or "
            "liver problem)?"
        ),
        "needs_doctor",
        clearable=True,
    ),
)


def default_catalogue() -> dict[str, CatalogueItem]:
    """The default catalogue as the pure rules see it (for tests and documentation)."""
    return {
        item.code: CatalogueItem(
            code=item.code,
            name=item.name,
            kind=item.kind,
            blocks_types=frozenset(item.blocks_types),
            clearable=item.clearable,
        )
        for item in DEFAULT_CONTRAINDICATIONS
    }
