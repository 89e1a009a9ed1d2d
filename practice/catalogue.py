"""The default massage type catalogue from domain-rules.md, copied into every new practice.

Each practice then edits its own copy in the admin (names, minutes, rotation order, active).

Catalogue rows are data, stored in the language they were written in. The defaults' texts are
also message ids of the translation catalogues (marked below with `gettext_noop`), so
`translated()` shows a default in the reader's language, while a text a practice typed itself
is shown as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DefaultMassageType(NamedTuple):
    code: str
    name: str
    default_minutes: int


# The order is the default rotation order (R12): a course of one type is followed by the next.
DEFAULT_MASSAGE_TYPES: tuple[DefaultMassageType, ...] = (
    DefaultMassageType("classical", gettext_noop("Classical"), 15),
    DefaultMassageType("relaxing", gettext_noop("Relaxing"), 20),
    DefaultMassageType("therapeutic", gettext_noop("Therapeutic"), 30),
    DefaultMassageType("sports", gettext_noop("Sports"), 30),
    DefaultMassageType("cupping", gettext_noop("Cupping / vacuum"), 15),
    DefaultMassageType("vibration", gettext_noop("Vibration"), 15),
    DefaultMassageType("lymphatic", gettext_noop("Lymphatic drainage"), 30),
    DefaultMassageType("honey", gettext_noop("Honey"), 20),
    DefaultMassageType("self", gettext_noop("Self-massage (taught)"), 25),
)


_DEFAULT_TYPE_NAMES = {default.code: default.name for default in DEFAULT_MASSAGE_TYPES}


def default_type_name(code: str) -> str:
    """The default name of a massage type code (a message id), or the code for a type a
    practice added: what the rules name when they know a type by its code only (R4)."""
    return _DEFAULT_TYPE_NAMES.get(code, code)


def translated(text: str, translations: Mapping[str, str] | None = None) -> str:
    """A catalogue text in the active language: the practice's own translation of it when it
    gave one (`translations`, by language code), else the catalogues' when it is one of the
    defaults' texts, else as written."""
    if translations and (own := translations.get(get_language() or "")):
        return own
    # gettext("") would answer the catalogue's header.
    return gettext(text) if text else text


def validate_translations(value: object) -> None:
    """A row's own translations: {language code: text} for the languages the site offers."""
    languages = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, dict) or not all(
        isinstance(text, str) and text.strip() and len(text) <= 300 for text in value.values()
    ):
        raise ValidationError(
            _('Give the texts by language code, e.g. {"ru": "…"}.'), code="invalid"
        )
    if unknown := sorted(set(value) - languages):
        raise ValidationError(
            _("Not a language of the site: %(codes)s.") % {"codes": ", ".join(unknown)},
            code="invalid",
        )


# For texts rendered later under another language (reminders, in the practice's language).
translated_lazy = lazy(translated, str)


def translations_field(verbose_name: StrOrPromise, help_text: StrOrPromise) -> models.JSONField:
    """A catalogue row's own translations of one of its texts (`translated`)."""
    return models.JSONField(
        verbose_name,
        default=dict,
        blank=True,
        validators=[validate_translations],
        help_text=help_text,
    )
