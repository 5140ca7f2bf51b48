"""Facilitator reports: pre-drafted from the transcript, edited, submitted, reopened.

    dialogue ended --start--> draft (pre-drafted) --save (autosave)--> draft --submit--> submitted
                                ^                                                          |
                                +--------------------- reopen (organisers) ----------------+

The pre-draft reads only transcript lines whose speaker allows a transcript. It splits them
into the dialogue's three phases by time (the future people want, whether we are on track,
what action is needed), picks each phase's most representative sentences (closest to the
phase's mean embedding; word overlap when the embedder is missing) and proposes quotes from
speakers who also allow quotes. Sentences and quotes are translated into the report's
language where a translation engine covers the pair, else kept in the original and marked.

Submitting moves the dialogue to ``report_submitted`` through `Dialogues.transition` (which
also checks the actor runs the dialogue) and locks the report; it becomes a source for the
analysis. Reopening unlocks it and withdraws it from the analysis until it is submitted again;
the dialogue stays ``report_submitted`` (the dialogue state machine has no way back).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.bus.base import Bus
from parley.clock import Clock
from parley.consultation.drafting import Drafting, DraftProgress, Step
from parley.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from parley.handlers.access import SEES_CONTENT, DialogueRole, dialogue_role, dialogue_roles, note_use
from parley.handlers.dialogues import Action, manages, runs
from parley.reference import normalise_language
from parley.storage.access_models import AuditAction
from parley.storage.analysis_models import OnTrack, Report, ReportQuote, ReportStatus, TranscriptSegment
from parley.storage.database import Database
from parley.storage.models import Dialogue, DialogueState, Role, User
from parley.storage.stores import analysis as analysis_store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import reports as store
from parley.storage.stores import transcripts as transcript_store
from parley.tasks import TaskOwner

if TYPE_CHECKING:
    from parley.consultation.analysis.embeddings import FloatArray
    from parley.consultation.themes import Analysis, TextTranslator
    from parley.handlers.dialogues import Dialogues

log = logging.getLogger(__name__)

PHASES: tuple[str, ...] = ("future", "on_track", "actions")
HELD = frozenset({DialogueState.ENDED, DialogueState.REPORT_SUBMITTED})
TEXT_MAX = 20_000
QUOTE_MAX = 2_000
QUOTES_MAX = 40
PARTICIPANTS_MAX = 100_000
PER_PHASE = 3
CANDIDATES = 6
CANDIDATES_PER_SPEAKER = 2
QUOTE_LENGTH = (30, 400)
EMBED_CHUNK = 64  # lines embedded between two progress steps
LINES_MAX = 3_000  # a 90-minute dialogue has a few hundred
REDUNDANT = 0.92  # a second pick this similar to a first says nothing new


def N_(message: str) -> str:
    return message


# --- input and views -----------------------------------------------------------------------


@dataclass
class QuoteInput:
    """A change to one quote (``id``) or a new one typed by the facilitator (no ``id``)."""

    id: int | None = None
    included: bool | None = None
    translation: str | None = None
    remove: bool = False
    speaker_user_id: int | None = None
    text: str | None = None
    language: str | None = None


@dataclass
class ReportInput:
    """What a save changes; None leaves a field as it is."""

    version: int | None = None
    language: str | None = None
    future: str | None = None
    on_track: str | None = None  # "" clears it
    on_track_text: str | None = None
    actions: str | None = None
    notes: str | None = None
    participant_count: int | str | None = None
    languages: list[str] | None = None
    quotes: list[QuoteInput] = field(default_factory=list)


@dataclass(frozen=True)
class DialogueBrief:
    id: int
    title: str
    questions: list[str]
    state: DialogueState
    country: str | None
    time_zone: str
    languages: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    facilitator_name: str | None


@dataclass(frozen=True)
class QuoteView:
    id: int
    included: bool
    speaker_user_id: int
    speaker_name: str
    text: str
    language: str
    translation: str | None
    translation_language: str | None
    translation_engine: str | None
    segment_id: int | None
    started_at: datetime | None
    # The speaker's registration allows quotes (always true: others are never shown).
    consent_quotes: bool = True

    @property
    def link(self) -> str | None:
        return f"#segment-{self.segment_id}" if self.segment_id else None


@dataclass(frozen=True)
class Speaker:
    user_id: int
    name: str
    language: str


@dataclass(frozen=True)
class ReportPermissions:
    can_edit: bool = False
    can_start: bool = False
    can_submit: bool = False
    can_reopen: bool = False


@dataclass(frozen=True)
class ReportView:
    dialogue: DialogueBrief
    permissions: ReportPermissions
    id: int | None = None
    status: ReportStatus | None = None
    language: str = "en"
    future: str = ""
    on_track: OnTrack | None = None
    on_track_text: str = ""
    actions: str = ""
    notes: str = ""
    participant_count: int | None = None
    languages: list[str] = field(default_factory=list)
    version: int = 0
    drafted_at: datetime | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    reopened_at: datetime | None = None
    quotes: list[QuoteView] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    # Codes about the last pre-draft: no_transcript, engine_missing, translation_unavailable:fr-en
    notices: list[str] = field(default_factory=list)
    drafting: DraftProgress | None = None  # a pre-draft running in this process

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def locked(self) -> bool:
        return self.status == ReportStatus.SUBMITTED


@dataclass(frozen=True)
class ReportSummary:
    dialogue_id: int
    title: str
    state: DialogueState
    ended_at: datetime | None
    facilitator_name: str | None
    status: ReportStatus | None
    submitted_at: datetime | None
    updated_at: datetime | None


@dataclass
class Draft:
    sections: dict[str, str]
    candidates: list[ReportQuote]
    participant_count: int
    languages: list[str]
    notices: list[str]


# --- rules -----------------------------------------------------------------------------------


def can_view(role: DialogueRole) -> bool:
    """The dialogue's staff and its observers (`access.dialogue_role`); admins are staff."""
    return role in SEES_CONTENT


def can_edit(user: User, d: Dialogue) -> bool:
    return runs(user, d)


def can_reopen(user: User, d: Dialogue) -> bool:
    """Admins and the dialogue's owner."""
    return manages(user, d)


def _brief(d: Dialogue) -> DialogueBrief:
    return DialogueBrief(
        id=d.id, title=d.title, questions=list(d.questions), state=d.state, country=d.country,
        time_zone=d.time_zone, languages=list(d.languages), started_at=d.started_at, ended_at=d.ended_at,
        facilitator_name=d.facilitator.display_name if d.facilitator else None,
    )


def _clean(value: str | None, limit: int, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors[name] = "length"
    return text


def _language(value: str | None, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    code = normalise_language(value)
    if code is None:
        errors[name] = "unknown_language"
    return code


def _mt_code(code: str) -> str:
    return code.split("-")[0].lower()


class Reports:
    def __init__(self, db: Database, clock: Clock, bus: Bus, dialogues: Dialogues,
                 analysis: Analysis | None = None, *, tasks: TaskOwner | None = None) -> None:
        """``tasks`` owns background pre-drafts (the server's, so they stop with it)."""
        self.db = db
        self.clock = clock
        self.bus = bus
        self.dialogues = dialogues
        self.analysis = analysis
        self.drafting = Drafting(clock, tasks or TaskOwner("reports"))

    # --- reading ----------------------------------------------------------------------------

    async def _dialogue(self, s: Any, actor: User, dialogue_id: int) -> Dialogue:
        return (await self._with_role(s, actor, dialogue_id))[0]

    async def _with_role(self, s: Any, actor: User, dialogue_id: int) -> tuple[Dialogue, DialogueRole]:
        d = await dialogue_store.dialogue(s, dialogue_id) if 0 < dialogue_id < 2**31 else None
        if d is None:
            raise NotFound(N_("No such dialogue."), code="dialogue_not_found")
        role = await dialogue_role(s, actor, d)
        if not can_view(role):
            raise Forbidden(N_("Only the dialogue's staff and its observers see its report."),
                            code="report_not_allowed")
        return d, role

    async def get(self, actor: User, dialogue_id: int, *, notices: Sequence[str] = ()) -> ReportView:
        async with self.db.session() as s:
            d, role = await self._with_role(s, actor, dialogue_id)
            await note_use(s, self.clock.now(), actor, d, role, AuditAction.READ_REPORT)
            report = await store.for_dialogue(s, d.id)
            quotes = list(await store.quotes(s, report.id)) if report else []
            speakers = await self._speakers(s, d.id)
            starts = await self._segment_times(s, [q.segment_id for q in quotes if q.segment_id])
        editable = can_edit(actor, d) and d.state in HELD
        perms = ReportPermissions(
            can_edit=editable and report is not None and report.status == ReportStatus.DRAFT,
            can_start=editable and report is None,
            can_submit=editable and report is not None and report.status == ReportStatus.DRAFT,
            can_reopen=can_reopen(actor, d) and report is not None and report.status == ReportStatus.SUBMITTED,
        )
        drafting = self.drafting.progress(d.id)
        if drafting is not None:  # nothing to edit or start until the pre-draft is saved
            perms = ReportPermissions(can_edit=False, can_start=False, can_submit=False, can_reopen=False)
        if report is None:
            return ReportView(dialogue=_brief(d), permissions=perms, speakers=speakers, notices=list(notices),
                              drafting=drafting)
        return ReportView(
            dialogue=_brief(d), permissions=perms, id=report.id, status=report.status, language=report.language,
            future=report.future, on_track=report.on_track, on_track_text=report.on_track_text,
            actions=report.actions, notes=report.notes, participant_count=report.participant_count,
            languages=list(report.languages or []), version=report.version, drafted_at=report.drafted_at,
            updated_at=report.updated_at, submitted_at=report.submitted_at, reopened_at=report.reopened_at,
            quotes=[QuoteView(
                id=q.id, included=q.included, speaker_user_id=q.speaker_user_id, speaker_name=q.speaker_name,
                text=q.text, language=q.language, translation=q.translation,
                translation_language=q.translation_language, translation_engine=q.translation_engine,
                segment_id=q.segment_id, started_at=starts.get(q.segment_id or 0),
            ) for q in quotes],
            speakers=speakers, notices=list(notices), drafting=drafting,
        )

    async def _speakers(self, s: Any, dialogue_id: int) -> list[Speaker]:
        """Registered participants who allow quotes (and the transcript quotes come from)."""
        rows = await store.registrations(s, dialogue_id)
        return [Speaker(r.user_id, r.user.display_name, r.preferred_language) for r in rows
                if r.consent_quotes and r.consent_transcript]

    async def _segment_times(self, s: Any, ids: Sequence[int | None]) -> dict[int, datetime]:
        found = await transcript_store.by_ids(s, [i for i in ids if i])
        return {i: seg.started_at for i, seg in found.items()}

    async def listing(self, actor: User) -> list[ReportSummary]:
        """Ended dialogues and their reports: all for admins, for others those they are staff
        or observers of (`access.dialogue_roles`)."""
        if actor.role not in (Role.ADMIN, Role.ORGANISER, Role.FACILITATOR):
            raise Forbidden(N_("Reports are for facilitators and organisers."), code="report_not_allowed")
        async with self.db.session() as s:
            everything = actor.role == Role.ADMIN
            rows = await store.listing(s, facilitator_id=None if actor.role != Role.FACILITATOR else actor.id)
            if not everything:
                roles = await dialogue_roles(s, actor, [d for d, _ in rows])
                rows = [(d, r) for d, r in rows if roles[d.id] in SEES_CONTENT]
            return [ReportSummary(
                dialogue_id=d.id, title=d.title, state=d.state, ended_at=d.ended_at,
                facilitator_name=d.facilitator.display_name if d.facilitator else None,
                status=r.status if r else None, submitted_at=r.submitted_at if r else None,
                updated_at=r.updated_at if r else None,
            ) for d, r in rows]

    # --- writing ----------------------------------------------------------------------------

    async def start_in_background(self, actor: User, dialogue_id: int, *, language: str | None = None) -> None:
        """`start` as a background task whose stage `get` shows (`drafting`); refusals (not
        allowed, not ended) are raised here, at once."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            if await store.for_dialogue(s, d.id) is not None:
                return

        async def work(step: Step) -> list[str]:
            return (await self.start(actor, dialogue_id, language=language, step=step)).notices

        self.drafting.start(d.id, work)

    async def redraft_in_background(self, actor: User, dialogue_id: int) -> None:
        """`redraft` as a background task (see `start_in_background`)."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            await self._draft_report(s, d)

        async def work(step: Step) -> list[str]:
            return (await self.redraft(actor, dialogue_id, step=step)).notices

        self.drafting.start(d.id, work)

    async def start(self, actor: User, dialogue_id: int, *, language: str | None = None,
                    step: Step | None = None) -> ReportView:
        """Create the draft, pre-drafted from the transcript; the existing one if there is one."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            if await store.for_dialogue(s, d.id) is not None:
                return await self.get(actor, dialogue_id)
            facilitator_locale = actor.locale
        lang = normalise_language(language or "") or normalise_language(facilitator_locale or "") or (
            d.languages[0] if d.languages else "en")
        draft = await self._predraft(d, lang, step or _quiet)
        (step or _quiet)("saving", 0, 0)
        now = self.clock.now()
        async with self.db.session() as s:
            if await store.for_dialogue(s, d.id, lock=True) is not None:
                return await self.get(actor, dialogue_id)
            report = await store.add(s, Report(
                dialogue_id=d.id, status=ReportStatus.DRAFT, language=lang,
                future=draft.sections.get("future", ""), on_track=None,
                on_track_text=draft.sections.get("on_track", ""), actions=draft.sections.get("actions", ""),
                notes="", participant_count=draft.participant_count, languages=draft.languages, version=1,
                drafted_at=now, created_at=now, updated_at=now, updated_by_id=actor.id,
            ))
            for q in draft.candidates:
                q.report_id = report.id
            store.add_quotes(s, draft.candidates)
        log.info("report for dialogue %d started by user %d (%d candidate quotes)", d.id, actor.id,
                 len(draft.candidates))
        return await self.get(actor, dialogue_id, notices=draft.notices)

    async def redraft(self, actor: User, dialogue_id: int, *, step: Step | None = None) -> ReportView:
        """Pre-draft again: fills empty sections and replaces the quote candidates not chosen."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            report = await self._draft_report(s, d)
            language = report.language
        draft = await self._predraft(d, language, step or _quiet)
        (step or _quiet)("saving", 0, 0)
        async with self.db.session() as s:
            report = await self._draft_report(s, d, lock=True)
            for phase, column in (("future", "future"), ("on_track", "on_track_text"), ("actions", "actions")):
                if not str(getattr(report, column)).strip() and draft.sections.get(phase):
                    setattr(report, column, draft.sections[phase])
            await store.delete_candidates(s, report.id)
            kept = {(q.segment_id, q.text) for q in await store.quotes(s, report.id, consented_only=False)}
            fresh = [q for q in draft.candidates if (q.segment_id, q.text) not in kept]
            for q in fresh:
                q.report_id = report.id
            store.add_quotes(s, fresh)
            report.drafted_at = report.updated_at = self.clock.now()
            report.version += 1
        return await self.get(actor, dialogue_id, notices=draft.notices)

    async def save(self, actor: User, dialogue_id: int, data: ReportInput) -> ReportView:
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            report = await self._draft_report(s, d, lock=True)
            await self._apply(s, actor, d, report, data)
        return await self.get(actor, dialogue_id)

    async def submit(self, actor: User, dialogue_id: int, data: ReportInput | None = None) -> ReportView:
        """Save (if ``data``), check the report is complete, move the dialogue to
        ``report_submitted`` and lock the report."""
        if data is not None:
            await self.save(actor, dialogue_id, data)
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            report = await self._draft_report(s, d)
            errors: dict[str, str] = {}
            for name in ("future", "actions"):
                if not str(getattr(report, name)).strip():
                    errors[name] = "required"
            if report.on_track is None:
                errors["on_track"] = "required"
            if report.participant_count is None:
                errors["participant_count"] = "required"
            if errors:
                raise InvalidInput(N_("Complete the report before submitting it."), fields=errors,
                                   code="report_incomplete")
            state = d.state
        if state == DialogueState.ENDED:
            await self.dialogues.transition(actor, dialogue_id, Action.SUBMIT_REPORT)
        now = self.clock.now()
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            report = await self._draft_report(s, d, lock=True)
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = report.updated_at = now
            report.submitted_by_id = report.updated_by_id = actor.id
            report.version += 1
            await store.delete_candidates(s, report.id)
            report_id = report.id
        log.info("report %d (dialogue %d) submitted by user %d", report_id, dialogue_id, actor.id)
        if self.analysis is not None:
            await self.analysis.announce({"type": "analysis.sources", "source": "report", "report_id": report_id})
        return await self.get(actor, dialogue_id)

    async def reopen(self, actor: User, dialogue_id: int) -> ReportView:
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            if not can_reopen(actor, d):
                raise Forbidden(N_("Only organisers can reopen a submitted report."), code="not_organiser")
            report = await store.for_dialogue(s, d.id, lock=True)
            if report is None:
                raise NotFound(N_("This dialogue has no report yet."), code="report_not_found")
            if report.status != ReportStatus.SUBMITTED:
                raise Conflict(N_("This report is not submitted."), code="report_not_submitted")
            report.status = ReportStatus.DRAFT
            report.reopened_at = report.updated_at = self.clock.now()
            report.reopened_by_id = report.updated_by_id = actor.id
            report.version += 1
            await analysis_store.delete_for_report(s, report.id)
            report_id = report.id
        log.info("report %d reopened by user %d", report_id, actor.id)
        if self.analysis is not None:
            await self.analysis.announce({"type": "analysis.sources", "source": "report", "report_id": report_id})
        return await self.get(actor, dialogue_id)

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _check_edit(actor: User, d: Dialogue) -> None:
        if not can_edit(actor, d):
            raise Forbidden(N_("Only the dialogue's facilitator and organiser write its report."),
                            code="not_allowed")
        if d.state not in HELD:
            raise Conflict(N_("The report can be written once the dialogue has ended."), code="dialogue_not_ended")

    @staticmethod
    async def _draft_report(s: Any, d: Dialogue, *, lock: bool = False) -> Report:
        report = await store.for_dialogue(s, d.id, lock=lock)
        if report is None:
            raise NotFound(N_("This dialogue has no report yet."), code="report_not_found")
        if report.status != ReportStatus.DRAFT:
            raise Conflict(N_("The report has been submitted and is locked."), code="report_locked")
        return report

    async def _apply(self, s: Any, actor: User, d: Dialogue, report: Report, data: ReportInput) -> None:
        if data.version is not None and data.version != report.version:
            raise Conflict(N_("The report was changed elsewhere meanwhile. Reload it; your text is kept below."),
                           code="report_changed")
        errors: dict[str, str] = {}
        language = _language(data.language, "language", errors)
        texts = {name: _clean(getattr(data, name), TEXT_MAX, name, errors)
                 for name in ("future", "on_track_text", "actions", "notes")}
        on_track: OnTrack | None | bool = False  # False: unchanged
        if data.on_track is not None:
            try:
                on_track = OnTrack(data.on_track) if data.on_track else None
            except ValueError:
                errors["on_track"] = "invalid"
        count: int | None | bool = False
        if data.participant_count is not None:
            raw = str(data.participant_count).strip()
            if not raw:
                count = None
            elif raw.isascii() and raw.isdigit() and int(raw) <= PARTICIPANTS_MAX:
                count = int(raw)
            else:
                errors["participant_count"] = "range"
        languages: list[str] | None = None
        if data.languages is not None:
            codes = [normalise_language(c) for c in data.languages if c.strip()]
            if any(c is None for c in codes) or len(codes) > 50:
                errors["languages"] = "unknown_language"
            languages = sorted({c for c in codes if c})
        existing = {q.id: q for q in await store.quotes(s, report.id)}
        speakers = {sp.user_id: sp for sp in await self._speakers(s, d.id)}
        new_quotes: list[ReportQuote] = []
        for i, q in enumerate(data.quotes[:QUOTES_MAX]):
            if q.id is not None:
                row = existing.get(q.id)
                if row is None:
                    errors[f"quotes.{i}"] = "not_found"
                    continue
                if q.remove:
                    await store.delete_quote(s, row)
                    continue
                if q.included is not None:
                    row.included = q.included
                if q.translation is not None:
                    translation = q.translation.strip()[:QUOTE_MAX]
                    if translation != (row.translation or ""):
                        row.translation = translation or None
                        row.translation_language = report.language if translation else None
                        row.translation_engine = "" if translation else None
                continue
            if q.remove or not (q.text or "").strip():
                continue
            speaker = speakers.get(q.speaker_user_id or 0)
            if speaker is None:
                errors[f"quotes.{i}.speaker_user_id"] = "no_consent"
                continue
            text = (q.text or "").strip()
            quote_language = normalise_language(q.language or speaker.language)
            if len(text) > QUOTE_MAX:
                errors[f"quotes.{i}.text"] = "length"
            if quote_language is None:
                errors[f"quotes.{i}.language"] = "unknown_language"
                continue
            typed = (q.translation or "").strip()[:QUOTE_MAX] or None
            new_quotes.append(ReportQuote(
                report_id=report.id, position=len(existing) + len(new_quotes), included=True, segment_id=None,
                speaker_user_id=speaker.user_id, speaker_name=speaker.name, text=text, language=quote_language,
                translation=typed, translation_language=report.language if typed else None,
                translation_engine="" if typed else None, created_at=self.clock.now(),
            ))
        if errors:
            raise InvalidInput(N_("Some fields need attention."), fields=errors)
        if language is not None:
            report.language = language
        for name, value in texts.items():
            if value is not None:
                setattr(report, name, value)
        if on_track is not False:
            report.on_track = on_track if isinstance(on_track, OnTrack) else None
        if count is not False:
            report.participant_count = count if isinstance(count, int) and not isinstance(count, bool) else None
        if languages is not None:
            report.languages = languages
        store.add_quotes(s, new_quotes)
        report.version += 1
        report.updated_at = self.clock.now()
        report.updated_by_id = actor.id

    # --- the pre-draft ----------------------------------------------------------------------

    async def _predraft(self, d: Dialogue, language: str, step: Step) -> Draft:
        step("reading", 0, 0)
        async with self.db.session() as s:
            pairs = [(seg, reg) for seg, reg in await transcript_store.consented(s, d.id) if seg.text.strip()]
            regs = await store.registrations(s, d.id)
        pairs = pairs[:LINES_MAX]
        languages = sorted({r.preferred_language for r in regs} | {seg.language for seg, _ in pairs})
        draft = Draft(sections={}, candidates=[], participant_count=len(regs), languages=languages, notices=[])
        if not pairs:
            draft.notices.append("no_transcript")
            return draft
        texts = [seg.text for seg, _ in pairs]
        vectors = await self._embed(texts, step)
        if vectors is None:
            draft.notices.append("engine_missing")
        phases = _phases([seg for seg, _ in pairs], d.started_at, d.ended_at)
        picked: dict[str, list[int]] = {}
        for phase, members in zip(PHASES, phases, strict=True):
            picked[phase] = sorted(_central(members, texts, vectors, PER_PHASE))
        quotable = [i for i, (seg, reg) in enumerate(pairs)
                    if reg.consent_quotes and QUOTE_LENGTH[0] <= len(seg.text.strip()) <= QUOTE_LENGTH[1]]
        per_speaker: dict[int, int] = {}
        candidates: list[int] = []
        for i in _central(quotable, texts, vectors, len(quotable)):
            uid = pairs[i][1].user_id
            if per_speaker.get(uid, 0) < CANDIDATES_PER_SPEAKER:
                per_speaker[uid] = per_speaker.get(uid, 0) + 1
                candidates.append(i)
            if len(candidates) >= CANDIDATES:
                break
        wanted = sorted({i for ids in picked.values() for i in ids} | set(candidates))
        translated, engines = await self._translate([pairs[i][0] for i in wanted], language, draft.notices, step)
        by_index = dict(zip(wanted, zip(translated, engines, strict=True), strict=True))
        for phase, ids in picked.items():
            lines = []
            for i in ids:
                seg = pairs[i][0]
                text, _engine = by_index[i]
                lines.append(f"• {text}" if text is not None else f"• {seg.text.strip()} [{seg.language}]")
            if lines:
                draft.sections[phase] = "\n".join(lines)
        now = self.clock.now()
        for position, i in enumerate(sorted(candidates, key=lambda j: (pairs[j][0].started_at, j))):
            seg, reg = pairs[i]
            text, engine = by_index[i]
            draft.candidates.append(ReportQuote(
                position=position, included=False, segment_id=seg.id, speaker_user_id=reg.user_id,
                speaker_name=(seg.speaker_name or reg.user.display_name)[:120], text=seg.text.strip(),
                language=seg.language, translation=text if engine else None,
                translation_language=language if engine else None, translation_engine=engine, created_at=now,
            ))
        return draft

    async def _embed(self, texts: Sequence[str], step: Step) -> FloatArray | None:
        """The lines' embeddings, ``EMBED_CHUNK`` at a time so the page can count them; None
        without an analysis engine."""
        if self.analysis is None:
            return None
        import numpy as np

        parts = []
        step("choosing", 0, len(texts))
        for at in range(0, len(texts), EMBED_CHUNK):
            part = await self.analysis.embed(texts[at:at + EMBED_CHUNK])
            if part is None:
                return None
            parts.append(part)
            step("choosing", min(len(texts), at + EMBED_CHUNK), len(texts))
        return np.concatenate(parts) if parts else None

    async def _translate(self, segments: Sequence[TranscriptSegment], target: str, notices: list[str],
                         step: Step) -> tuple[list[str | None], list[str | None]]:
        """Each segment in ``target``: (text, engine); (None, None) where no engine covers the
        pair; (original, None) when it is in ``target`` already."""
        texts: list[str | None] = [None] * len(segments)
        engines: list[str | None] = [None] * len(segments)
        groups: dict[str, list[int]] = {}
        for i, seg in enumerate(segments):
            if _mt_code(seg.language) == _mt_code(target):
                texts[i] = seg.text.strip()
            else:
                groups.setdefault(_mt_code(seg.language), []).append(i)
        if not groups:
            return texts, engines
        total, done = sum(len(ids) for ids in groups.values()), 0
        step("translating", 0, total)
        translator: TextTranslator | None = await self.analysis.translator() if self.analysis is not None else None
        for source, ids in groups.items():
            done += len(ids)
            engine = translator.engine_for(source, _mt_code(target)) if translator is not None else None
            if translator is None or engine is None:
                notices.append(f"translation_unavailable:{source}-{_mt_code(target)}")
                continue
            try:
                out = await translator.translate([segments[i].text.strip() for i in ids], source, _mt_code(target))
            except EngineError as exc:
                log.warning("report translation %s->%s failed (%s)", source, target, exc.engine)
                notices.append(f"translation_unavailable:{source}-{_mt_code(target)}")
                continue
            for i, text in zip(ids, out, strict=True):
                texts[i], engines[i] = text, engine
            step("translating", done, total)
        return texts, engines


def _quiet(stage: str, done: int = 0, total: int = 0) -> None:
    """The step of a pre-draft nobody watches (the JSON API waits for the result)."""


def _phases(segments: Sequence[TranscriptSegment], started: datetime | None, ended: datetime | None
            ) -> list[list[int]]:
    """Segment indices per phase: the dialogue's time split in three equal parts (by count
    when the times are unusable)."""
    n = len(segments)
    start = started or segments[0].started_at
    end = ended or segments[-1].ended_at
    span = (end - start).total_seconds()
    out: list[list[int]] = [[] for _ in PHASES]
    for i, seg in enumerate(segments):
        position = (seg.started_at - start).total_seconds() / span if span > 0 else i / n
        out[min(len(PHASES) - 1, max(0, int(position * len(PHASES))))].append(i)
    return out


def _central(members: Sequence[int], texts: Sequence[str], vectors: FloatArray | None, k: int) -> list[int]:
    """Up to ``k`` of ``members``, most representative first, skipping near-repeats."""
    if not members or k <= 0:
        return []
    idx = list(members)
    if vectors is not None:
        import numpy as np

        from parley.consultation.analysis.embeddings import normalise

        sub = vectors[idx]
        centre = normalise(sub.mean(axis=0, keepdims=True))[0]
        scores = sub @ centre
        order = [idx[j] for j in np.argsort(-scores, kind="stable")]
        chosen: list[int] = []
        for i in order:
            if all(float(vectors[i] @ vectors[j]) < REDUNDANT for j in chosen):
                chosen.append(i)
            if len(chosen) >= k:
                break
        return chosen
    # Without embeddings: the lines sharing most words with the rest of their phase.
    bags = {i: _terms(texts[i]) for i in idx}
    def overlap(i: int) -> float:
        if not bags[i]:
            return 0.0
        return sum(len(bags[i] & bags[j]) / len(bags[i] | bags[j]) for j in idx if j != i and bags[j])
    ranked = sorted(idx, key=lambda i: (-overlap(i), i))
    seen: set[str] = set()
    out = []
    for i in ranked:
        key = " ".join(texts[i].split()).casefold()
        if key not in seen:
            seen.add(key)
            out.append(i)
        if len(out) >= k:
            break
    return out


_WORD = re.compile(r"[^\W\d_]{3,}")


def _terms(text: str) -> set[str]:
    """Lower-cased words of 3+ letters (no numpy needed, unlike the analysis package)."""
    return set(_WORD.findall(text.casefold()))
