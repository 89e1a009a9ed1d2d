"""The Russian catalogue translates every string the code marks for translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def entries() -> list[str]:
    text = CATALOGUE.read_text(encoding="utf-8")
    return [
        block
        for block in text.split("\n\n")
        if "\nmsgid " in f"\n{block}" and "Project-Id-Version" not in block
    ]


def test_every_russian_entry_is_translated_and_none_is_fuzzy() -> None:
    missing = [
        block
        for block in entries()
        if "#, fuzzy" in block or re.search(r'^msgstr(\[\d\])? ""$(?!\n")', block, re.M)
    ]

    assert missing == []


def test_no_entry_was_dropped_from_the_code() -> None:
    # An obsolete (#~) entry means a string lost its marking, e.g. under an alias xgettext
    # does not know (`_lazy`): it then shows in English.
    assert "#~ msgid" not in CATALOGUE.read_text(encoding="utf-8")


def test_translation_functions_keep_names_makemessages_knows() -> None:
    # xgettext finds `_`, `gettext_lazy`, `ngettext`…, not an alias such as `_lazy`: a string
    # marked through one never reaches the catalogue and shows in English.
    known = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "npgettext"}
    root = CATALOGUE.parents[3]
    aliases = [
        f"{path.relative_to(root)}: {name.name} as {name.asname}"
        for app in ("practice", "patients", "courses", "sessions")
        for path in (root / app).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for name in node.names
        if name.asname is not None and name.asname not in known
    ]

    assert aliases == []
