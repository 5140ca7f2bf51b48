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

In a chosen language each line uses the caption translation stored with it, else its machine
translation, made once in the background (`parley.handlers.transcript_translations`, queued
when a meeting ends and when a reader asks for a language not ready), else the original marked
as untranslated (no engine covers the pair, or it failed in a way only a person can fix);
nothing is ever presented as a translation that is not one. While a language is being prepared
its lines are marked pending and the view says how far it is (`TranscriptView.progress`); a
download waits a bounded time for it, then says it is not ready rather than give a file with
lines missing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
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
from parley.handlers.transcript_translations import (
    LanguageProgress,
    TranscriptTranslations,
    base_language,
    caption,
    needs_machine,
    progress_of,
)
from parley.reference import N_, normalise_language
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as reg_store
from parley.storage.stores import transcript_translations as machine_store
from parley.storage.stores import transcripts as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.transcripts import SegmentInfo
from parley.vocabulary import AuditAction, DialogueState

log = logging.getLogger(__name__)

Scope = Literal["all", "mine"]


class TranslationNotReady(Conflict):
    """A download in a language still being translated (after waiting a while for it)."""

    def __init__(self, progress: LanguageProgress, retry_after: float) -> None:
        super().__init__(N_("The transcript is still being translated into this language. Try again in a minute: "
                            "the transcript page shows how far it is."), code="transcript_translation_pending")
        self.progress = progress
        self.retry_after = retry_after


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
    # Per dialogue language, how far the lines shown here are translated into it by machine
    # (those with neither that language nor a caption translation into it).
    progress: dict[str, LanguageProgress] = field(default_factory=dict)

    @property
    def preparing(self) -> LanguageProgress | None:
        """The chosen language's progress while it is being translated, else None."""
        chosen = self.progress.get(self.language) if self.language else None
        return chosen if chosen is not None and chosen.preparing else None

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


def can_delete(user: Account, d: DialogueInfo) -> bool:
    """Deleting the whole transcript: the dialogue's organiser, facilitator and admins."""
    return runs(user, d)


def _key(seg: SegmentInfo) -> str:
    """One speaker: their account, or for a guest the name they gave."""
    return f"user:{seg.speaker_user_id}" if seg.speaker_user_id is not None else f"guest:{seg.speaker_name}"


class Transcripts:
    def __init__(self, db: Database, clock: Clock, translations: TranscriptTranslations) -> None:
        self.db = db
        self.clock = clock
        self.translations = translations

    # --- reading -----------------------------------------------------------------------------------

    async def get(self, actor: Account, dialogue_id: int, *, language: str | None = None,
                  scope: Scope | None = "all", purpose: str | None = "view") -> TranscriptView:
        """The transcript (``all``) or the actor's own lines (``mine``; None: the whole one
        when the actor may read it, else their own), optionally in one of the dialogue's languages
        (queued for translation when it is not ready). ``purpose`` (``view`` or an export format)
        is what an observer's read is logged as (None: logged already)."""
        withheld = False  # the actor's own lines, kept without consent to a transcript: not translated
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
                reg = await reg_store.registration(s, d.id, actor.id)
                withheld = reg is not None and not reg.consent_transcript
                if not segments and not perms.can_read_all and not await self._involved(s, actor, d):
                    raise Forbidden(N_("This transcript is for the dialogue's organisers."),
                                    code="transcript_not_allowed")
                names = {f"user:{actor.id}": actor.display_name}
            else:
                if not perms.can_read_all:
                    raise Forbidden(N_("This transcript is for the dialogue's organisers."),
                                    code="transcript_not_allowed")
                segments, names = await self._visible(s, d, segments, with_names=perms.names)
                if purpose is not None:
                    await note_use(s, self.clock.now(), actor, d, role, AuditAction.READ_TRANSCRIPT, purpose)
            brief = DialogueBrief(id=d.id, title=d.title, state=d.state, time_zone=d.time_zone,
                                  languages=list(d.languages), started_at=d.started_at, ended_at=d.ended_at)
            lines = [Line(id=seg.id, speaker=names.get(_key(seg), seg.speaker_name), language=seg.language,
                          started_at=seg.started_at, ended_at=seg.ended_at, text=seg.text,
                          translations=dict(seg.translations or {}))
                     for seg in segments]
            done = await machine_store.translated_ids(s, d.id)
            jobs = await machine_store.jobs_of(s, d.id)
            made = await machine_store.translations(s, d.id, target) if target is not None else {}
        progress = {code: progress_of(code, [] if withheld else [
            (line.id, line.language) for line in lines if needs_machine(line.language, line.translations, code)],
            done.get(code, set()), jobs.get(code)) for code in brief.languages}
        if target is not None and progress[target].state == "waiting":
            await self.translations.queue(brief.id, [target])
            progress[target] = dataclasses.replace(progress[target], state="translating")
        notices: list[str] = []
        if target is not None:
            renditions = _renditions(lines, target, made, progress[target], notices, withheld=withheld)
            lines = [dataclasses.replace(line, translation=t) for line, t in zip(lines, renditions, strict=True)]
        return TranscriptView(dialogue=brief, scope=scope, language=target, lines=lines, permissions=perms,
                              notices=notices, progress=progress)

    async def export(self, actor: Account, dialogue_id: int, fmt: Format, *, language: str | None = None,
                     scope: Scope = "all", untranslated: str = UNTRANSLATED) -> Export:
        """The transcript as a file; ``untranslated`` marks lines no engine could translate
        (the caller passes it in the reader's language). A language being translated is waited
        for a while (`TranslationOptions.export_wait_s`), then refused (`TranslationNotReady`)."""
        view = await self.get(actor, dialogue_id, language=language, scope=scope, purpose=fmt.value)
        if view.language is not None and view.preparing is not None:
            await self.translations.wait_ready(view.dialogue.id, view.language,
                                               self.translations.options.export_wait_s)
            view = await self.get(actor, dialogue_id, language=language, scope=scope, purpose=None)
            if view.preparing is not None:
                raise TranslationNotReady(view.preparing, retry_after=30)
        doc = view.document()
        return Export(body=render(doc, fmt, untranslated=untranslated), media_type=MEDIA_TYPES[fmt],
                      filename=filename(doc, fmt, mine=scope == "mine"))

    async def retry(self, actor: Account, dialogue_id: int, language: str) -> LanguageProgress:
        """Translate into ``language`` again now (after a failure, or a model installed since):
        whoever may read the transcript may ask."""
        view = await self.get(actor, dialogue_id, language=language or "-", scope=None, purpose=None)
        assert view.language is not None  # `_target` refused anything else
        await self.translations.queue(view.dialogue.id, [view.language], again=True)
        return (await self.get(actor, dialogue_id, language=language, scope=None, purpose=None)).progress[
            view.language]

    async def progress(self, actor: Account, dialogue_id: int, *, scope: Scope | None = None
                       ) -> tuple[Scope, list[LanguageProgress]]:
        """How far the transcript (or the actor's own lines) is translated into each of the
        dialogue's languages; nothing is queued and no read is logged (no text is given)."""
        view = await self.get(actor, dialogue_id, scope=scope, purpose=None)
        return view.scope, [view.progress[code] for code in view.dialogue.languages]

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
    async def _dialogue(s: AsyncSession, dialogue_id: int) -> DialogueInfo:
        check_id(dialogue_id)
        d = await dialogue_store.info(s, dialogue_id)
        if d is None:
            raise NotFound(N_("No such dialogue."), code="dialogue_not_found")
        return d

    @staticmethod
    def _target(d: DialogueInfo, language: str | None) -> str | None:
        if not language:
            return None
        code = normalise_language(language)  # dialogue languages are stored normalised
        if code is None or code not in d.languages:
            raise InvalidInput(N_("Choose one of the dialogue's languages."), code="language_not_in_dialogue",
                               fields={"lang": "not_dialogue_language"})
        return code

    @staticmethod
    async def _involved(s: AsyncSession, actor: Account, d: DialogueInfo) -> bool:
        """Registered, or an interpreter of this dialogue."""
        if await reg_store.registration(s, d.id, actor.id) is not None:
            return True
        interpreters = await dialogue_store.interpreters(s, [d.id])
        return any(u.id == actor.id for _, u in interpreters[d.id])

    @staticmethod
    async def _visible(s: AsyncSession, d: DialogueInfo, segments: Sequence[SegmentInfo], *, with_names: bool
                       ) -> tuple[list[SegmentInfo], dict[str, str]]:
        """The lines consent allows, and the name to show per speaker (`_key`): pseudonyms
        for participants and guests when the reader does not run the dialogue."""
        registered = await reg_store.of_dialogue(s, d.id)
        consents = {r.user_id: r.consent_transcript for r, _ in registered}
        registered_names = {u.id: u.display_name for _, u in registered}
        # Lines of speakers not registered (staff, guests) are kept.
        kept = [seg for seg in segments if seg.speaker_user_id is None or consents.get(seg.speaker_user_id, True)]
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
                names[key] = seg.speaker_name or (registered_names.get(uid, "") if uid is not None else "")
            else:
                pseudonyms += 1
                names[key] = f"#{pseudonyms}"
        return kept, names



def _renditions(lines: Sequence[Line], target: str, made: Mapping[int, tuple[str, str]],
                progress: LanguageProgress, notices: list[str], *, withheld: bool) -> list[Translation]:
    """Each line in ``target``: the original, the stored caption, its machine translation, pending
    while the language is being prepared, or the original marked untranslated (no engine covers
    its language, the engine failed for good, or its speaker withheld consent to a transcript)."""
    out: list[Translation] = []
    dest = base_language(target)
    for line in lines:
        source = base_language(line.language)
        stored = caption(line.translations, target)
        if source == dest:
            out.append(Translation(target, line.text, TranslationStatus.ORIGINAL))
        elif stored is not None:
            out.append(Translation(target, stored, TranslationStatus.CAPTION))
        elif line.id in made:
            text, engine = made[line.id]
            out.append(Translation(target, text, TranslationStatus.MACHINE, engine=engine))
        elif withheld or source in progress.unavailable or progress.state == "failed":
            out.append(Translation(target, line.text, TranslationStatus.UNTRANSLATED))
            if not withheld:
                why = "unavailable" if source in progress.unavailable else "failed"
                notice = f"translation_{why}:{source}-{dest}"
                if notice not in notices:
                    notices.append(notice)
        else:
            out.append(Translation(target, line.text, TranslationStatus.PENDING))
    return out
