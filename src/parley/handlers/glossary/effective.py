"""The effective glossary of a dialogue: the installation's entries overridden by the
dialogue's, expanded over its languages into fixed renderings per (source, target) pair for
the translator, and the terms to listen for per spoken language for the recogniser
(`hotwords`). Storage-free, so the precedence rules are easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parley.handlers.glossary.rules import ANY, term_key
from parley.interpretation.mt.base import Glossary

# Whisper reads at most half its 448-token context as a prompt; a few hundred characters
# of names stay well inside it and do not drown the audio.
HOTWORDS_MAX_CHARS = 400


@dataclass(frozen=True)
class Term:
    """An entry as the merge sees it (storage-free, so the rules are easy to test)."""

    term: str
    language: str
    translations: Mapping[str, str]
    dialogue: bool = False  # a dialogue's entry overrides the installation's


def _matches(code: str, language: str) -> bool:
    """Does an entry's language code cover a spoken language (``pt`` covers ``pt-BR``)?"""
    return code == language or code == language.split("-")[0]


def _rendering(t: Term, target: str) -> str | None:
    """The fixed rendering of ``t`` in ``target``, or None when the engine translates it."""
    if not t.translations:
        return t.term
    if t.language != ANY and _matches(t.language, target):
        return t.term
    for code in (target, target.split("-")[0], ANY):
        if code in t.translations:
            return t.translations[code]
    return None


class DialogueGlossary(Glossary):
    """A `Glossary` for the translator that also knows, per spoken language, which terms to
    listen for (for `hotwords`). Built by `build_glossary`; `to_json`/`from_json` carry it
    to an interpretation worker."""

    def __init__(self, languages: Sequence[str] = ()) -> None:
        super().__init__()
        self.languages = list(languages)
        self.terms: dict[str, list[str]] = {}
        self._pairs: list[tuple[str, str, str, str]] = []

    def add(self, source: str, target: str, term: str, translation: str) -> None:
        super().add(source, target, term, translation)
        self._pairs.append((source, target, term, translation))

    def listen_for(self, language: str, term: str) -> None:
        known = self.terms.setdefault(language, [])
        if term_key(term) not in {term_key(t) for t in known}:
            known.append(term)

    def terms_for(self, language: str | None) -> list[str]:
        """Terms spoken in ``language`` (every language when None), most specific first."""
        if language is not None:
            return list(self.terms.get(language) or self.terms.get(language.split("-")[0]) or [])
        seen: set[str] = set()
        out: list[str] = []
        for terms in self.terms.values():
            for t in terms:
                if term_key(t) not in seen:
                    seen.add(term_key(t))
                    out.append(t)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"languages": self.languages, "terms": self.terms, "pairs": [list(p) for p in self._pairs]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DialogueGlossary:
        g = cls(list(data.get("languages", [])))
        for source, target, term, translation in data.get("pairs", []):
            g.add(str(source), str(target), str(term), str(translation))
        for language, terms in dict(data.get("terms", {})).items():
            for t in terms:
                g.listen_for(str(language), str(t))
        return g


def replaced(language: str, key: str, dialogue_entries: Iterable[tuple[str, str]]) -> bool:
    """Does one of the dialogue's (language, term key) replace a whole installation entry?
    Same term, in the same language or in "*" (a dialogue entry covering fewer languages
    than the installation's wins only in those, by precedence)."""
    return any(k == key and lang in (language, ANY) for lang, k in dialogue_entries)


def build_glossary(terms: Iterable[Term], languages: Sequence[str]) -> DialogueGlossary:
    """Expand entries over ``languages`` into fixed renderings per (source, target) pair.

    Precedence for the same term in the same pair: a dialogue's entry over the
    installation's; then an entry in that language over a "*" entry; then either over a
    rendering read backwards.
    """
    langs = list(dict.fromkeys(languages))
    terms = list(terms)
    # An installation entry the dialogue replaces is dropped whole, renderings read
    # backwards included.
    own = [(t.language, term_key(t.term)) for t in terms if t.dialogue]
    terms = [t for t in terms if t.dialogue or not replaced(t.language, term_key(t.term), own)]
    table: dict[tuple[str, str], dict[str, tuple[tuple[int, int], str, str]]] = {}
    heard: dict[str, dict[str, tuple[tuple[int, int], str]]] = {}

    def put(source: str, target: str, term: str, rendering: str, rank: tuple[int, int]) -> None:
        slot = table.setdefault((source, target), {})
        key = term_key(term)
        if key not in slot or rank >= slot[key][0]:
            slot[key] = (rank, term, rendering)

    def hear(language: str, term: str, rank: tuple[int, int]) -> None:
        slot = heard.setdefault(language, {})
        key = term_key(term)
        if key not in slot or rank > slot[key][0]:
            slot[key] = (rank, term)

    for t in terms:
        scope = 1 if t.dialogue else 0
        rank = (scope, 2 if t.language != ANY else 1)
        for source in (lang for lang in langs if t.language == ANY or _matches(t.language, lang)):
            hear(source, t.term, rank)
            for target in langs:
                rendering = _rendering(t, target) if target != source else None
                if rendering is not None:
                    put(source, target, t.term, rendering, rank)
        if t.language == ANY:
            continue
        backwards = (scope, 0)
        for code, said in t.translations.items():
            if code == ANY:
                continue
            for source in (lang for lang in langs if _matches(code, lang)):
                hear(source, said, backwards)
                for target in langs:
                    if target == source or _matches(code, target):
                        continue
                    rendering = _rendering(t, target)
                    if rendering is not None:
                        put(source, target, said, rendering, backwards)

    g = DialogueGlossary(langs)
    for (source, target), slot in table.items():
        for _rank, term, rendering in slot.values():
            g.add(source, target, term, rendering)
    for language, heard_here in heard.items():
        for _rank, term in sorted(heard_here.values(), key=lambda item: (-item[0][0], -item[0][1])):
            g.listen_for(language, term)
    return g


def hotwords(glossary: DialogueGlossary, language: str | None, *, limit: int = HOTWORDS_MAX_CHARS) -> str:
    """The recognition hint for faster-whisper's ``transcribe(hotwords=...)``: the terms
    spoken in ``language`` (all languages when it is being detected), the dialogue's first,
    comma-separated and cut to ``limit`` characters; "" when there are none."""
    out: list[str] = []
    size = 0
    for term in glossary.terms_for(language):
        extra = len(term) + (2 if out else 0)
        if size + extra > limit:
            break
        out.append(term)
        size += extra
    return ", ".join(out)
