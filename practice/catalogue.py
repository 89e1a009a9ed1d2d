"""The default massage type catalogue from domain-rules.md, copied into every new practice.

Each practice then edits its own copy in the admin (names, minutes, rotation order, active).
"""

from __future__ import annotations

from typing import NamedTuple


class DefaultMassageType(NamedTuple):
    code: str
    name: str
    default_minutes: int


# The order is the default rotation order (R12): a course of one type is followed by the next.
DEFAULT_MASSAGE_TYPES: tuple[DefaultMassageType, ...] = (
    DefaultMassageType("classical", "Classical", 15),
    DefaultMassageType("relaxing", "Relaxing", 20),
    DefaultMassageType("therapeutic", "Therapeutic", 30),
    DefaultMassageType("sports", "Sports", 30),
    DefaultMassageType("cupping", "Cupping / vacuum", 15),
    DefaultMassageType("vibration", "Vibration", 15),
    DefaultMassageType("lymphatic", "Lymphatic drainage", 30),
    DefaultMassageType("honey", "Honey", 20),
    DefaultMassageType("self", "Self-massage (taught)", 25),
)
