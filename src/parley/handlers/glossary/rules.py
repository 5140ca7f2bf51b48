"""What makes a glossary entry: the "any language" code, the limits on its fields, the key
that makes two terms the same entry and the topic changes are announced on. Everything
else in the package reads these.
"""

from __future__ import annotations

from parley.handlers.dialogues import dialogue_topic

ANY = "*"
INSTALLATION_TOPIC = "glossary"
TERM_MIN, TERM_MAX = 2, 100
RENDERING_MAX = 200
NOTE_MAX = 500
TRANSLATIONS_MAX = 30
ENTRIES_MAX = 2000  # per glossary
CSV_MAX_CHARS = 400_000


def glossary_topic(dialogue_id: int | None) -> str:
    return INSTALLATION_TOPIC if dialogue_id is None else dialogue_topic(dialogue_id)


def term_key(term: str) -> str:
    """What makes two terms the same entry: case and spacing do not count."""
    return " ".join(term.split()).casefold()
