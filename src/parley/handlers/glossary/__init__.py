"""Glossaries: names and terms interpretation must recognise and translate a fixed way.

Two scopes: the installation's glossary (admins and organisers manage it; every member of
staff reads it) and each dialogue's (its organiser and facilitator manage it; the campaign
team and the dialogue's interpreters read it). A dialogue's *effective* glossary is the
installation's entries overridden by the dialogue's own, expanded over the dialogue's
languages into what the interpretation pipeline uses:

    entries (installation, then dialogue) --effective()--> DialogueGlossary
        DialogueGlossary  -> Translator(glossary=...)       fixed renderings per (source, target)
        hotwords(g, lang) -> WhisperModel.transcribe(hotwords=...)   recognition hints

An entry is a term in one language (or "*": it reads the same in every language) with
fixed renderings per language. No renderings at all means the term is kept as written
everywhere ("UN75"); a "*" rendering covers the languages not listed; languages with no
rendering are left to the translation engine. The renderings also work backwards: when a
French speaker says "la Ceinture et la Route", English listeners read "Belt and Road".

Changes are announced as ``glossary.updated`` on ``dialogue:<id>`` (a dialogue's) or on
``glossary`` (the installation's), so running interpretation can reload.

    rules.py        the "*" code, the limits, term keys, the announcement topic
    validation.py   an entry's fields and the ``lang=rendering`` syntax
    views.py        entries, listings and import counts as returned
    effective.py    DialogueGlossary and its precedence rules, hotwords
    csv_format.py   a glossary written to and read from CSV
    service.py      Glossaries: access, reading, changes, imports
"""

from parley.handlers.glossary.csv_format import CSV_HEADER, parse_csv, to_csv
from parley.handlers.glossary.effective import (
    HOTWORDS_MAX_CHARS,
    DialogueGlossary,
    Term,
    build_glossary,
    hotwords,
    replaced,
)
from parley.handlers.glossary.rules import (
    ANY,
    CSV_MAX_CHARS,
    ENTRIES_MAX,
    INSTALLATION_TOPIC,
    NOTE_MAX,
    RENDERING_MAX,
    TERM_MAX,
    TERM_MIN,
    TRANSLATIONS_MAX,
    glossary_topic,
    term_key,
)
from parley.handlers.glossary.service import Glossaries, edits_installation
from parley.handlers.glossary.validation import (
    CleanEntry,
    EntryInput,
    format_translations,
    parse_translations,
    validate_entry,
)
from parley.handlers.glossary.views import EntryView, GlossaryListing, ImportResult, Person, view_of

__all__ = [
    "ANY",
    "CSV_HEADER",
    "CSV_MAX_CHARS",
    "CleanEntry",
    "DialogueGlossary",
    "ENTRIES_MAX",
    "EntryInput",
    "EntryView",
    "Glossaries",
    "GlossaryListing",
    "HOTWORDS_MAX_CHARS",
    "INSTALLATION_TOPIC",
    "ImportResult",
    "NOTE_MAX",
    "Person",
    "RENDERING_MAX",
    "TERM_MAX",
    "TERM_MIN",
    "TRANSLATIONS_MAX",
    "Term",
    "build_glossary",
    "edits_installation",
    "format_translations",
    "glossary_topic",
    "hotwords",
    "parse_csv",
    "parse_translations",
    "replaced",
    "term_key",
    "to_csv",
    "validate_entry",
    "view_of",
]
