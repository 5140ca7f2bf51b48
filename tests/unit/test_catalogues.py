"""The interface catalogues are complete and their placeholders match the English."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from parley.i18n import LOCALE_DIR

pytestmark = pytest.mark.unit

LANGS = ["fr", "es", "ar", "ru", "zh"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|%s")


def catalogue(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "parley.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(lang: str) -> None:
    missing = [
        m.id for m in catalogue(lang)
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]
    assert not missing, f"{len(missing)} untranslated or fuzzy in {lang}: {missing[:5]}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match_the_english(lang: str) -> None:
    wrong = []
    for m in catalogue(lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            found = sorted(PLACEHOLDER.findall(s))
            # A plural form may drop the count (Arabic "one" form reads naturally without it).
            if found != expected and not (len(ids) > 1 and set(found) <= set(expected)):
                wrong.append((m.id, s))
    assert not wrong, wrong[:5]
