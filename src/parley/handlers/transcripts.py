"""A dialogue's transcript after (or during) the meeting: read, translate, export, delete.

    interpretation worker --add--> transcript_segments --Transcripts.get--> page / VTT / SRT / JSON / text
                                                       <--delete / delete_mine--

Who sees what:

- The dialogue's organiser, its facilitator and admins (those who *run* it) read the whole
  transcript with speakers' names, and may delete it at any time (its report quotes and analysis
  codings go with it, through the foreign keys; lines a live meeting adds afterwards are kept).
- Its interpreters (the rest of its staff) and observers (an explicit, audited grant: see
  `parley.handlers.access`) read it too, but participants' names are replaced by ``#1``,
  ``#2``... (staff keep theirs), as in the report's transcript. Each read by an observer is
  written to the access audit log.
- A participant reads only their own lines, in any of the dialogue's languages, and may delete
  them. Participants agreed that "a written transcript of what I say may be kept", not that it
  is handed to the other participants, and dialogues have no setting that shares it with them;
  such a setting would widen `can_read` and nothing else.
- Everyone else, organisers of other dialogues included, gets ``transcript_not_allowed``.

Lines whose speaker is registered and no longer allows a transcript are left out of the whole
transcript (consent is checked again at read time); speakers without a registration (staff, a
guest on a shared microphone) were recorded only because they consented when they joined.
A participant's own view shows all their lines, consent or not, so they can delete them.

In a chosen language each line uses the caption translation stored with it, else a machine
translation when a translator is given (the analysis's, shared) and covers the pair, else the
original marked as untranslated; nothing is ever presented as a translation that is not one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.access import SEES_CONTENT, DialogueRole, dialogue_role, note_use
from parley.handlers.dialogues import check_id, runs
from parley.handlers.transcript_formats import (
    MEDIA_TYPES,
    UNTRANSLATED,
    Document,
    Format,
    Line,
    Translation,
    TranslationStatus,
    content_disposition,
    filename,
    render,
)
from parley.reference import N_, normalise_language
from parley.storage.access_models import AuditAction
from parley.storage.analysis_models import TranscriptSegment
from parley.storage.database import Database
from parley.storage.models import Dialogue, DialogueState
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as reg_store
from parley.storage.stores import transcripts as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)

Scope = Literal["all", "mine"]


class TextTranslator(Protocol):
    """What the transcript needs from machine translation: the analysis's translator (an
    adapter over `parley.interpretation.mt.registry.Translator`, with its pivots and glossary)
    fits, as does ``RegistryTranslator(Translator([...]))`` built for the purpose."""

    def engine_for(self, source: str, target: str) -> str | None:
        """The engine (or route) that translates this pair, None when none does."""

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate a batch; raises EngineError when the pair is not covered or the engine fails."""


TranslatorSource = Callable[[], Awaitable[TextTranslator | None]]


@dataclass(frozen=True)
class DialogueBrief:
    id: int
    title: str
    state: DialogueState
    time_zone: str
    languages: list[str]
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class TranscriptPermissions:
    can_read_all: bool = False
    can_delete: bool = False
    names: bool = False


@dataclass(frozen=True)
class TranscriptView:
    dialogue: DialogueBrief
    scope: Scope
    language: str | None
    lines: list[Line]
    permissions: TranscriptPermissions
    # Where lines stayed untranslated: ``translation_unavailable:<source>-<target>``.
    notices: list[str] = field(default_factory=list)
    # Per dialogue language, how many lines have neither that language nor a stored caption
    # translation into it: what choosing it machine-translates during the request (page or
    # file), told up front so nobody waits without knowing why.
    to_machine: dict[str, int] = field(default_factory=dict)

    @property
    def origin(self) -> datetime:
        """Where cue times count from: the meeting's start (else the first line)."""
        if self.dialogue.started_at is not None:
            return self.dialogue.started_at
        return self.lines[0].started_at if self.lines else datetime.fromtimestamp(0, UTC)

    def document(self) -> Document:
        return Document(dialogue_id=self.dialogue.id, title=self.dialogue.title, started_at=self.origin,
                        lines=self.lines, language=self.language, languages=self.dialogue.languages)


@dataclass(frozen=True)
class Export:
    body: str
    media_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        return content_disposition(self.filename)


# --- rules ---------------------------------------------------------------------------------------


def can_read(role: DialogueRole) -> bool:
    """The whole transcript: the dialogue's staff and its observers (`access.dialogue_role`)."""
    return role in SEES_CONTENT


def can_delete(user: Account, d: Dialogue) -> bool:
    """Deleting the whole transcript: the dialogue's organiser, facilitator and admins."""
    return runs(user, d)


def _key(seg: TranscriptSegment) -> str:
    """One speaker: their account, or for a guest the name they gave."""
    return f"user:{seg.speaker_user_id}" if seg.speaker_user_id is not None else f"guest:{seg.speaker_name}"


def base_language(code: str) -> str:
    return code.split("-")[0].lower()


def needs_machine(line: Line, target: str) -> bool:
    """The line is neither in ``target`` nor captioned into it: only an engine can give it."""
    return base_language(line.language) != base_language(target) and _stored(line.translations, target) is None


def _stored(translations: Mapping[str, str], language: str) -> str | None:
    """The caption translation into ``language`` (exact tag first, then any of its region)."""
    if translations.get(language, "").strip():
        return translations[language]
    base = base_language(language)
    for code, text in sorted(translations.items()):
        if base_language(code) == base and text.strip():
            return text
    return None


class Transcripts:
    def __init__(self, db: Database, clock: Clock, *, translator: TranslatorSource | None = None) -> None:
        self.db = db
        self.clock = clock
        self._translator = translator

    # --- reading -----------------------------------------------------------------------------------

    async def get(self, actor: Account, dialogue_id: int, *, language: str | None = None,
                  scope: Scope | None = "all", purpose: str = "view") -> TranscriptView:
        """The transcript (``all``) or the actor's own lines (``mine``; None: the whole one
        when the actor may read it, else their own), optionally in one of the dialogue's languages.
        ``purpose`` (``view`` or an export format) is what an observer's read is logged as."""
        async with self.db.session() as s:
            d = await self._dialogue(s, dialogue_id)
            target = self._target(d, language)
            role = await dialogue_role(s, actor, d)
            perms = TranscriptPermissions(can_read_all=can_read(role), can_delete=can_delete(actor, d),
                                          names=runs(actor, d))
            if scope is None:
                scope = "all" if perms.can_read_all else "mine"
            segments = await store.for_dialogue(s, d.id)
            if scope == "mine":
                segments = [seg for seg in segments if seg.speaker_user_id == actor.id]
                if not segments and not perms.can_read_all and not await self._involved(s, actor, d):
                    raise Forbidden(N_("This transcript is for the dialogue's organisers."),
                                    code="transcript_not_allowed")
                names = {f"user:{actor.id}": actor.display_name}
            else:
                if not perms.can_read_all:
                    raise Forbidden(N_("This transcript is for the dialogue's organisers."),
                                    code="transcript_not_allowed")
                segments, names = await self._visible(s, d, segments, with_names=perms.names)
                await note_use(s, self.clock.now(), actor, d, role, AuditAction.READ_TRANSCRIPT, purpose)
            brief = DialogueBrief(id=d.id, title=d.title, state=d.state, time_zone=d.time_zone,
                                  languages=list(d.languages), started_at=d.started_at, ended_at=d.ended_at)
            lines = [Line(id=seg.id, speaker=names.get(_key(seg), seg.speaker_name), language=seg.language,
                          started_at=seg.started_at, ended_at=seg.ended_at, text=seg.text,
                          translations=dict(seg.translations or {}))
                     for seg in segments]
        notices: list[str] = []
        to_machine = {code: sum(needs_machine(line, code) for line in lines) for code in brief.languages}
        if target is not None:
            renditions = await self._renditions(lines, target, notices)
            lines = [dataclasses.replace(line, translation=t) for line, t in zip(lines, renditions, strict=True)]
        return TranscriptView(dialogue=brief, scope=scope, language=target, lines=lines, permissions=perms,
                              notices=notices, to_machine=to_machine)

    async def export(self, actor: Account, dialogue_id: int, fmt: Format, *, language: str | None = None,
                     scope: Scope = "all", untranslated: str = UNTRANSLATED) -> Export:
        """The transcript as a file; ``untranslated`` marks lines no engine could translate
        (the caller passes it in the reader's language)."""
        view = await self.get(actor, dialogue_id, language=language, scope=scope, purpose=fmt.value)
        doc = view.document()
        return Export(body=render(doc, fmt, untranslated=untranslated), media_type=MEDIA_TYPES[fmt],
                      filename=filename(doc, fmt, mine=scope == "mine"))

    # --- deleting ----------------------------------------------------------------------------------

    async def delete(self, actor: Account, dialogue_id: int) -> int:
        """Delete every line of the dialogue; returns how many."""
        async with self.db.session() as s:
            d = await self._dialogue(s, dialogue_id)
            if not can_delete(actor, d):
                raise Forbidden(N_("Only the dialogue's organiser or facilitator can delete its transcript."),
                                code="transcript_delete_not_allowed")
            count = await store.delete_for_dialogue(s, d.id)
        log.info("transcript of dialogue %s deleted by user %s (%d lines)", dialogue_id, actor.id, count)
        return count

    async def delete_mine(self, actor: Account, dialogue_id: int) -> int:
        """Delete what the actor said in this dialogue; returns how many lines."""
        async with self.db.session() as s:
            d = await self._dialogue(s, dialogue_id)
            count = await store.delete_by_speaker(s, actor.id, dialogue_id=d.id)
        log.info("user %s deleted their %d transcript lines of dialogue %s", actor.id, count, dialogue_id)
        return count

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    async def _dialogue(s: AsyncSession, dialogue_id: int) -> Dialogue:
        check_id(dialogue_id)
        d = await dialogue_store.dialogue(s, dialogue_id)
        if d is None:
            raise NotFound(N_("No such dialogue."), code="dialogue_not_found")
        return d

    @staticmethod
    def _target(d: Dialogue, language: str | None) -> str | None:
        if not language:
            return None
        code = normalise_language(language)  # dialogue languages are stored normalised
        if code is None or code not in d.languages:
            raise InvalidInput(N_("Choose one of the dialogue's languages."), code="language_not_in_dialogue",
                               fields={"lang": "not_dialogue_language"})
        return code

    @staticmethod
    async def _involved(s: AsyncSession, actor: Account, d: Dialogue) -> bool:
        """Registered, or an interpreter of this dialogue."""
        if await reg_store.registration(s, d.id, actor.id) is not None:
            return True
        interpreters = await dialogue_store.interpreters(s, [d.id])
        return any(u.id == actor.id for _, u in interpreters[d.id])

    @staticmethod
    async def _visible(s: AsyncSession, d: Dialogue, segments: Sequence[TranscriptSegment], *, with_names: bool
                       ) -> tuple[list[TranscriptSegment], dict[str, str]]:
        """The lines consent allows, and the name to show per speaker (`_key`): pseudonyms
        for participants and guests when the reader does not run the dialogue."""
        registrations = {r.user_id: r for r in await reg_store.of_dialogue(s, d.id)}
        kept = [seg for seg in segments
                if seg.speaker_user_id is None or seg.speaker_user_id not in registrations
                or registrations[seg.speaker_user_id].consent_transcript]
        staff = {uid for uid in (d.organiser_id, d.facilitator_id) if uid is not None}
        staff |= {u.id for _, u in (await dialogue_store.interpreters(s, [d.id]))[d.id]}
        names: dict[str, str] = {}
        pseudonyms = 0
        for seg in kept:
            key = _key(seg)
            if key in names:
                continue
            uid = seg.speaker_user_id
            if with_names or (uid is not None and uid in staff):
                reg = registrations.get(uid) if uid is not None else None
                names[key] = seg.speaker_name or (reg.user.display_name if reg else "")
            else:
                pseudonyms += 1
                names[key] = f"#{pseudonyms}"
        return kept, names

    async def _renditions(self, lines: Sequence[Line], target: str, notices: list[str]) -> list[Translation]:
        """Each line in ``target``: the original, the stored caption, a machine translation
        (one batch per source language), or the original marked untranslated."""
        out: list[Translation | None] = [None] * len(lines)
        wanted: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            if base_language(line.language) == base_language(target):
                out[i] = Translation(target, line.text, TranslationStatus.ORIGINAL)
                continue
            stored = _stored(line.translations, target)
            if stored is not None:
                out[i] = Translation(target, stored, TranslationStatus.CAPTION)
                continue
            wanted.setdefault(base_language(line.language), []).append(i)
        if wanted:
            translator = await self._translator() if self._translator is not None else None
            for source, ids in wanted.items():
                made = await self._machine(translator, [lines[i].text for i in ids], source, target)
                if made is None:
                    notices.append(f"translation_unavailable:{source}-{base_language(target)}")
                for k, i in enumerate(ids):
                    out[i] = (Translation(target, lines[i].text, TranslationStatus.UNTRANSLATED) if made is None
                              else Translation(target, made[k][1], TranslationStatus.MACHINE, engine=made[k][0]))
        return [t for t in out if t is not None]

    @staticmethod
    async def _machine(translator: TextTranslator | None, texts: list[str], source: str, target: str
                       ) -> list[tuple[str, str]] | None:
        """(engine, translation) per text, or None when no engine covers the pair or it failed."""
        dest = base_language(target)
        engine = translator.engine_for(source, dest) if translator is not None else None
        if translator is None or engine is None:
            return None
        try:
            translated = await translator.translate(texts, source, dest)
        except EngineError as exc:
            log.warning("transcript translation %s->%s failed (%s, retryable=%s)", source, dest, exc.engine,
                        exc.retryable)
            return None
        if len(translated) != len(texts):
            log.warning("transcript translation %s->%s returned %d texts for %d", source, dest, len(translated),
                        len(texts))
            return None
        return [(engine, text) for text in translated]
