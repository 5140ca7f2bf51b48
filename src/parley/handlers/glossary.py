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
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley import spreadsheet
from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import ID_MAX, can_see, check_id, clean_text, dialogue_topic, runs, sees_everything
from parley.handlers.patch import merged
from parley.interpretation.mt.base import Glossary
from parley.reference import normalise_language
from parley.storage.database import Database
from parley.storage.glossary_models import GlossaryEntry
from parley.storage.models import STAFF_ROLES, Dialogue, Role, User
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import glossary as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)

ANY = "*"
INSTALLATION_TOPIC = "glossary"
TERM_MIN, TERM_MAX = 2, 100
RENDERING_MAX = 200
NOTE_MAX = 500
TRANSLATIONS_MAX = 30
ENTRIES_MAX = 2000  # per glossary
CSV_MAX_CHARS = 400_000
CSV_HEADER = ("term", "language", "translations", "note")
# Whisper reads at most half its 448-token context as a prompt; a few hundred characters
# of names stay well inside it and do not drown the audio.
HOTWORDS_MAX_CHARS = 400
# Characters the translation placeholders and the CSV cell syntax cannot carry.
_FORBIDDEN_IN_RENDERING = frozenset("\\;")
_FORBIDDEN_IN_TERM = frozenset("\\")


def glossary_topic(dialogue_id: int | None) -> str:
    return INSTALLATION_TOPIC if dialogue_id is None else dialogue_topic(dialogue_id)


def term_key(term: str) -> str:
    """What makes two terms the same entry: case and spacing do not count."""
    return " ".join(term.split()).casefold()


# --- input ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class CleanEntry:
    term: str
    term_key: str
    language: str
    translations: dict[str, str]
    note: str


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


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str


@dataclass(frozen=True)
class EntryView:
    id: int
    dialogue_id: int | None
    term: str
    language: str
    translations: dict[str, str]
    note: str
    created_by: Person | None
    created_at: datetime
    updated_at: datetime

    @property
    def keeps_term(self) -> bool:
        """True when the term is kept as written in every language."""
        return not self.translations


@dataclass(frozen=True)
class GlossaryListing:
    """One glossary as a viewer may see it. For a dialogue, ``installation`` holds the
    installation's entries too, and ``overridden`` the ids of those the dialogue replaces."""

    dialogue_id: int | None
    entries: list[EntryView]
    can_edit: bool
    installation: list[EntryView] = field(default_factory=list)
    overridden: frozenset[int] = frozenset()
    dialogue_title: str = ""
    dialogue_languages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    deleted: int


# --- the effective glossary ----------------------------------------------------------------


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


# --- CSV -----------------------------------------------------------------------------------


def to_csv(entries: Iterable[EntryView]) -> str:
    buf = io.StringIO()
    writer = spreadsheet.writer(buf)
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow([e.term, e.language, format_translations(e.translations, sep=";"), e.note])
    return buf.getvalue()


def parse_csv(text: str) -> list[CleanEntry]:
    """Rows of ``term,language,translations[,note]`` (a header row is optional; a blank
    language means "*"; tab-separated text pasted from a spreadsheet works too). Every
    problem is reported at once as ``line.<n>.<field>``; nothing is partially read."""
    if len(text) > CSV_MAX_CHARS:
        raise InvalidInput("The list is too long.", fields={"csv": "length"}, code="invalid_csv")
    text = text.lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), "")
    dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
    errors: dict[str, str] = {}
    out: list[CleanEntry] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    except csv.Error:
        raise InvalidInput("The list is not valid CSV.", fields={"csv": "syntax"}, code="invalid_csv") from None
    for n, row in enumerate(rows, start=1):
        cells = [spreadsheet.restore_cell(c.strip()) for c in row]
        if not any(cells):
            continue
        if not out and not errors and tuple(c.lower() for c in cells[:3]) == CSV_HEADER[:3]:
            continue
        if len(cells) > len(CSV_HEADER):
            errors[f"line.{n}"] = "columns"
            continue
        cells += [""] * (len(CSV_HEADER) - len(cells))
        try:
            clean = validate_entry(EntryInput(term=cells[0], language=cells[1], translations=cells[2], note=cells[3]))
        except InvalidInput as exc:
            for name, code in exc.fields.items():
                errors[f"line.{n}.{name}"] = code
            continue
        key = (clean.language, clean.term_key)
        if key in seen:
            errors[f"line.{n}.term"] = "duplicate"
            continue
        seen[key] = n
        out.append(clean)
    if not out and not errors:
        errors["csv"] = "required"  # an empty paste, with "replace", would wipe the glossary
    if len(out) > ENTRIES_MAX:
        errors["csv"] = "count"
    if errors:
        raise InvalidInput("Some lines of the list need attention.", fields=errors, code="invalid_csv")
    return out


# --- the handler ---------------------------------------------------------------------------


def edits_installation(user: Account) -> bool:
    return user.role in (Role.ADMIN, Role.ORGANISER)


class Glossaries:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # --- reading ------------------------------------------------------------------------

    async def listing(self, actor: Account, dialogue_id: int | None = None) -> GlossaryListing:
        async with self.db.session() as s:
            d = await self._access(s, actor, dialogue_id, write=False)
            rows = await store.entries(s, dialogue_id)
            inherited = await store.entries(s, None) if dialogue_id is not None else []
            people = await dialogue_store.users_by_ids(
                s, {r.created_by_id for r in [*rows, *inherited] if r.created_by_id}
            )
            can_edit = self._may_write(actor, d, dialogue_id)
        own = {(r.language, r.term_key) for r in rows}
        overridden = frozenset(r.id for r in inherited if replaced(r.language, r.term_key, own))
        return GlossaryListing(
            dialogue_id=dialogue_id,
            entries=[_view(r, people) for r in rows],
            can_edit=can_edit,
            installation=[_view(r, people) for r in inherited],
            overridden=overridden,
            dialogue_title=d.title if d is not None else "",
            dialogue_languages=list(d.languages) if d is not None else [],
        )

    async def get(self, actor: Account, dialogue_id: int | None, entry_id: int) -> EntryView:
        async with self.db.session() as s:
            await self._access(s, actor, dialogue_id, write=False)
            row = await self._entry(s, dialogue_id, entry_id)
            people = await dialogue_store.users_by_ids(s, [row.created_by_id] if row.created_by_id else [])
            return _view(row, people)

    async def export_csv(self, actor: Account, dialogue_id: int | None = None) -> str:
        listing = await self.listing(actor, dialogue_id)
        return to_csv(listing.entries)

    async def effective(self, dialogue_id: int, languages: Collection[str] | None = None) -> DialogueGlossary:
        """The glossary interpretation uses for a dialogue: the installation's entries
        overridden by the dialogue's, over the dialogue's languages (or ``languages``).
        No permission check: this is for the pipeline, not for people."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await dialogue_store.dialogue(s, dialogue_id)
            if d is None:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            rows = await store.effective_rows(s, dialogue_id)
            langs = list(languages) if languages is not None else list(d.languages)
        terms = [Term(r.term, r.language, dict(r.translations), dialogue=r.dialogue_id is not None) for r in rows]
        return build_glossary(terms, langs)

    # --- writing ------------------------------------------------------------------------

    async def create(self, actor: Account, dialogue_id: int | None, data: EntryInput) -> EntryView:
        clean = validate_entry(data)
        now = self.clock.now()
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                if await store.find(s, dialogue_id, clean.language, clean.term_key) is not None:
                    raise _duplicate()
                if await store.count(s, dialogue_id) >= ENTRIES_MAX:
                    raise Conflict("This glossary is full.", code="glossary_full")
                row = await store.add(s, GlossaryEntry(
                    dialogue_id=dialogue_id,
                    term=clean.term,
                    term_key=clean.term_key,
                    language=clean.language,
                    translations=clean.translations,
                    note=clean.note,
                    created_by_id=actor.id,
                    created_at=now,
                    updated_at=now,
                ))
                entry_id = row.id
        except IntegrityError:
            raise _duplicate() from None
        log.info("glossary entry %s added to %s by user %s", entry_id, _scope_name(dialogue_id), actor.id)
        await self._announce(dialogue_id)
        return await self.get(actor, dialogue_id, entry_id)

    async def update(self, actor: Account, dialogue_id: int | None, entry_id: int,
                     changes: Mapping[str, Any]) -> EntryView:
        """Apply ``changes`` (field name -> new value, as in `EntryInput`) to an entry."""
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                row = await self._entry(s, dialogue_id, entry_id)
                current = EntryInput(term=row.term, language=row.language, translations=dict(row.translations),
                                     note=row.note)
                clean = validate_entry(current.merged(changes))
                other = await store.find(s, dialogue_id, clean.language, clean.term_key)
                if other is not None and other.id != row.id:
                    raise _duplicate()
                row.term = clean.term
                row.term_key = clean.term_key
                row.language = clean.language
                row.translations = clean.translations
                row.note = clean.note
                row.updated_at = self.clock.now()
        except IntegrityError:
            raise _duplicate() from None
        await self._announce(dialogue_id)
        return await self.get(actor, dialogue_id, entry_id)

    async def delete(self, actor: Account, dialogue_id: int | None, entry_id: int) -> None:
        async with self.db.session() as s:
            await self._access(s, actor, dialogue_id, write=True)
            row = await self._entry(s, dialogue_id, entry_id)
            await store.delete_one(s, row)
        log.info("glossary entry %s deleted from %s by user %s", entry_id, _scope_name(dialogue_id), actor.id)
        await self._announce(dialogue_id)

    async def import_csv(self, actor: Account, dialogue_id: int | None, text: str, *,
                         replace: bool = False) -> ImportResult:
        """Add the listed entries and update those already there (same term and language).
        With ``replace``, entries not in the list are deleted. All or nothing."""
        if not isinstance(text, str):
            raise InvalidInput("The list is not valid CSV.", fields={"csv": "syntax"}, code="invalid_csv")
        async with self.db.session() as s:
            # Permission before content: someone who may not edit learns nothing from errors.
            await self._access(s, actor, dialogue_id, write=True)
        rows = parse_csv(text)
        now = self.clock.now()
        created = updated = unchanged = deleted = 0
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                existing = {(r.language, r.term_key): r for r in await store.entries(s, dialogue_id)}
                listed = set()
                new: list[GlossaryEntry] = []
                for clean in rows:
                    key = (clean.language, clean.term_key)
                    listed.add(key)
                    row = existing.get(key)
                    if row is None:
                        new.append(GlossaryEntry(
                            dialogue_id=dialogue_id, term=clean.term, term_key=clean.term_key,
                            language=clean.language, translations=clean.translations, note=clean.note,
                            created_by_id=actor.id, created_at=now, updated_at=now,
                        ))
                        created += 1
                    elif (row.term, dict(row.translations), row.note) == (clean.term, clean.translations, clean.note):
                        unchanged += 1
                    else:
                        row.term, row.translations, row.note = clean.term, clean.translations, clean.note
                        row.updated_at = now
                        updated += 1
                store.add_all(s, new)
                if replace:
                    stale = [r.id for key, r in existing.items() if key not in listed]
                    deleted = await store.delete_ids(s, dialogue_id, stale)
                kept = len(existing) - deleted + created
                if kept > ENTRIES_MAX:
                    raise Conflict("This glossary is full.", code="glossary_full")
        except IntegrityError:
            raise Conflict("The glossary changed while the list was imported; try again.",
                           code="glossary_changed") from None
        log.info("glossary %s imported by user %s: %s new, %s updated, %s deleted",
                 _scope_name(dialogue_id), actor.id, created, updated, deleted)
        if created or updated or deleted:
            await self._announce(dialogue_id)
        return ImportResult(created=created, updated=updated, unchanged=unchanged, deleted=deleted)

    # --- helpers ------------------------------------------------------------------------

    async def _access(self, s: AsyncSession, actor: Account, dialogue_id: int | None, *,
                      write: bool) -> Dialogue | None:
        """The dialogue (None for the installation's glossary), if ``actor`` may read it
        (and change it, with ``write``)."""
        if actor.role not in STAFF_ROLES:
            raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")
        if dialogue_id is None:
            if write and not edits_installation(actor):
                raise Forbidden("Only organisers can change the installation glossary.", code="role_required")
            return None
        check_id(dialogue_id)
        d = await dialogue_store.dialogue(s, dialogue_id)
        if d is None:
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if not (sees_everything(actor) or runs(actor, d) or await _interprets(s, actor, d)):
            if await can_see(s, actor, d):
                raise Forbidden("Only the dialogue's staff can see its glossary.", code="not_dialogue_staff")
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if write and not runs(actor, d):
            raise Forbidden("Only the dialogue's organiser or facilitator can change its glossary.",
                            code="not_allowed")
        return d

    @staticmethod
    def _may_write(actor: Account, d: Dialogue | None, dialogue_id: int | None) -> bool:
        return edits_installation(actor) if dialogue_id is None else d is not None and runs(actor, d)

    @staticmethod
    async def _entry(s: AsyncSession, dialogue_id: int | None, entry_id: int) -> GlossaryEntry:
        row = await store.entry(s, dialogue_id, entry_id) if 0 < entry_id <= ID_MAX else None
        if row is None:
            raise NotFound("No such glossary entry.", code="glossary_entry_not_found")
        return row

    async def _announce(self, dialogue_id: int | None) -> None:
        await self.bus.publish(glossary_topic(dialogue_id), {"type": "glossary.updated", "dialogue_id": dialogue_id})


async def _interprets(s: AsyncSession, user: Account, d: Dialogue) -> bool:
    if user.role != Role.INTERPRETER:
        return False
    interpreters = await dialogue_store.interpreters(s, [d.id])
    return any(u.id == user.id for _, u in interpreters[d.id])


def _duplicate() -> Conflict:
    return Conflict("This term is already in the glossary for that language.", code="duplicate_term",
                    fields={"term": "duplicate"})


def _scope_name(dialogue_id: int | None) -> str:
    return "the installation" if dialogue_id is None else f"dialogue {dialogue_id}"


def _view(row: GlossaryEntry, people: Mapping[int, User]) -> EntryView:
    author = people.get(row.created_by_id) if row.created_by_id else None
    return EntryView(
        id=row.id,
        dialogue_id=row.dialogue_id,
        term=row.term,
        language=row.language,
        translations=dict(row.translations),
        note=row.note,
        created_by=Person(author.id, author.display_name) if author else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
