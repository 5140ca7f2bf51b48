"""Words on the pages that misled people walking the journeys (issue 13), checked where they
come from: the catalogues, the templates, the facilitator's interpretation figures."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

from babel.messages.pofile import read_po

from parley.handlers.interpretation.facts import SessionFacts
from parley.handlers.interpretation.health import languages_status
from parley.handlers.interpretation.state import MeetingSession

SRC = Path(__file__).resolve().parents[2] / "src" / "parley"
LANGUAGES = ("fr", "es", "ar", "ru", "zh")


def catalogue(lang: str) -> dict[str, str]:
    with (SRC / "locale" / lang / "LC_MESSAGES" / "parley.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id and isinstance(m.id, str) and m.string}


def test_french_writes_a_with_its_accent_where_it_means_at() -> None:
    """ "A la parole" read as a misspelt "À la parole"; French capitals keep their accents."""
    wrong = {mid: text for mid, text in catalogue("fr").items() if re.search(r"(?<![\w'’])A (la|l['’]|partir)\b", text)}
    assert wrong == {}
    assert catalogue("fr")["Has the floor"] == "Au micro"


def test_an_interpreter_s_language_is_chosen_by_name_not_typed_as_a_code() -> None:
    """The field once asked for a code ("e.g. fr", a placeholder cut short in some languages):
    now a list of the languages by name, so there is no code to know and no placeholder to cut."""
    form = (SRC / "web" / "templates" / "dialogues" / "form.html").read_text()
    assert re.search(r'<select id="f-interpreter-lang-[^"]*" name="interpreter_language"', form)
    assert 'name="interpreter_language" value=' not in form and "e.g. fr" not in form


def test_no_median_delay_is_shown_before_the_first_caption_line() -> None:
    session = MeetingSession(dialogue_id=1, meeting_id=1, room_id=1, languages=("en", "fr"), targets=("en", "fr"))
    session.lag = {"fr": deque([0.2]), "en": deque([0.4, 0.6])}  # partials measured, no final line in French yet
    session.captions = {"en": 2}
    rows = {row["language"]: (row["captions"], row["median_lag_s"])
            for row in languages_status(SessionFacts.of(session), [])}
    assert rows == {"en": (2, 0.5), "fr": (0, None)}


def test_the_analysis_notes_are_paragraphs_of_their_own() -> None:
    """They ran into the sentence before ("re-coded.Translation: ...")."""
    parts = (SRC / "web" / "templates" / "analysis" / "_parts.html").read_text()
    for note in ("Sentiment is hidden until", "Translation: none available yet"):
        line = next(x for x in parts.splitlines() if note in x)
        assert re.search(r'<p class="hint">\{\{ _\("' + re.escape(note), line), line


def test_lists_of_languages_are_joined_the_way_each_language_joins_them() -> None:
    """Arabic joins with و, not a Latin comma; Chinese with 、 and 和; English with "and"."""
    from gettext import NullTranslations

    from parley.i18n import Lang

    def joined(code: str, items: list[str]) -> str:
        joints = Lang(code, NullTranslations()).list_joints(len(items))
        return "".join(item + (joints[i] if i < len(joints) else "") for i, item in enumerate(items))

    assert joined("en", ["English", "French"]) == "English and French"
    assert joined("en", ["English", "French", "Arabic"]) == "English, French, and Arabic"
    assert joined("ar", ["الإنجليزية", "الفرنسية"]) == "الإنجليزية والفرنسية"
    assert joined("zh", ["英语", "法语", "阿拉伯语"]) == "英语、法语和阿拉伯语"
    assert joined("fr", ["anglais"]) == "anglais"
