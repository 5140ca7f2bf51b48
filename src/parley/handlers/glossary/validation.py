"""Checking what an organiser submits: one entry's fields, and the ``lang=rendering``
syntax its translations are written in (in the form and in a CSV cell). Every problem is
reported at once, keyed by field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parley.errors import InvalidInput
from parley.handlers.dialogues import clean_text
from parley.handlers.glossary.rules import ANY, NOTE_MAX, RENDERING_MAX, TERM_MAX, TERM_MIN, TRANSLATIONS_MAX, term_key
from parley.handlers.patch import merged
from parley.reference import normalise_language
from parley.storage.stores.glossary import EntryText

# Characters the translation placeholders and the CSV cell syntax cannot carry.
_FORBIDDEN_IN_RENDERING = frozenset("\\;")
_FORBIDDEN_IN_TERM = frozenset("\\")


@dataclass(frozen=True)
class EntryInput:
    """What an organiser submits. ``translations`` is a mapping or text: ``lang=rendering``
    items separated by ``;`` or new lines (the CSV cell and form syntax)."""

    term: str = ""
    language: str = ANY
    translations: Mapping[str, str] | str = field(default_factory=dict)
    note: str = ""

    def merged(self, changes: Mapping[str, Any]) -> EntryInput:
        return merged(self, changes)


# A validated entry is what the store writes.
CleanEntry = EntryText


def parse_translations(text: str) -> tuple[dict[str, str], str | None]:
    """``fr=la Ceinture et la Route; es=la Franja y la Ruta`` -> mapping, or an error code."""
    out: dict[str, str] = {}
    for raw in text.replace("\r\n", "\n").replace("\n", ";").split(";"):
        item = raw.strip()
        if not item:
            continue
        code, sep, rendering = item.partition("=")
        if not sep:
            return {}, "syntax"
        key = code.strip()
        if key in out:
            return {}, "duplicate_language"
        out[key] = rendering.strip()
    return out, None


def format_translations(translations: Mapping[str, str], sep: str = "; ") -> str:
    return sep.join(f"{code}={text}" for code, text in sorted(translations.items()))


def _language(raw: object, *, allow_any: bool = True) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if allow_any and text in ("", ANY):
        return ANY
    return normalise_language(text) if text else None


def _clean_translations(value: object, language: str | None) -> tuple[dict[str, str], str | None]:
    """Renderings keyed by canonical language code, or the first problem's code."""
    if isinstance(value, str):
        raw, problem = parse_translations(value)
        if problem:
            return {}, problem
    elif isinstance(value, Mapping):
        raw = dict(value)
    else:
        return {}, "invalid"
    if len(raw) > TRANSLATIONS_MAX:
        return {}, "count"
    out: dict[str, str] = {}
    for code, text in raw.items():
        lang = ANY if code == ANY else _language(code, allow_any=False)
        rendering = clean_text(text)
        if lang is None:
            return {}, "unknown_language"
        if rendering is None:
            return {}, "invalid"
        if not 1 <= len(rendering) <= RENDERING_MAX:
            return {}, "length"
        if any(ch in _FORBIDDEN_IN_RENDERING for ch in rendering):
            return {}, "invalid_character"
        if language not in (None, ANY) and lang == language:
            return {}, "same_language"
        if lang in out:
            return {}, "duplicate_language"
        out[lang] = rendering
    return out, None


def validate_entry(data: EntryInput) -> CleanEntry:
    """Check every field and report all problems at once, keyed by field name."""
    errors: dict[str, str] = {}

    term = clean_text(data.term)
    if term is None:
        errors["term"] = "invalid"
    elif not term:
        errors["term"] = "required"
    elif not TERM_MIN <= len(term) <= TERM_MAX:
        errors["term"] = "length"
    elif any(ch in _FORBIDDEN_IN_TERM for ch in term):
        errors["term"] = "invalid_character"
    elif not any(ch.isalnum() for ch in term):
        errors["term"] = "invalid"

    language = _language(data.language)
    if language is None:
        errors["language"] = "unknown_language"

    translations, problem = _clean_translations(data.translations, language)
    if problem:
        errors["translations"] = problem

    note = clean_text(data.note, multiline=True)
    if note is None:
        errors["note"] = "invalid"
    elif len(note) > NOTE_MAX:
        errors["note"] = "length"

    if errors:
        raise InvalidInput("Some fields need attention.", fields=errors)
    assert term is not None and language is not None and note is not None
    return CleanEntry(term=term, term_key=term_key(term), language=language, translations=translations, note=note)
