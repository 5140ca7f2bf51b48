"""The reports service: reading, starting, saving, submitting and reopening a report.

See the package docstring for the report's life; the pre-draft is in `predraft`, a save's
checks in `editing`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parley.bus.base import Bus
from parley.clock import Clock
from parley.consultation.drafting import Drafting, Step
from parley.consultation.reports.editing import apply_input
from parley.consultation.reports.predraft import PreDrafter
from parley.consultation.reports.rules import HELD, N_, can_edit, can_reopen, can_view, quotable_speakers
from parley.consultation.reports.views import (
    DialogueBrief,
    QuoteView,
    ReportInput,
    ReportPermissions,
    ReportSummary,
    ReportView,
)
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.access import SEES_CONTENT, DialogueRole, dialogue_role, dialogue_roles, note_use
from parley.handlers.dialogues import Action
from parley.reference import normalise_language
from parley.storage.database import Database
from parley.storage.stores import analysis as analysis_store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import reports as store
from parley.storage.stores import transcripts as transcript_store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.reports import ReportInfo
from parley.tasks import TaskOwner
from parley.vocabulary import AuditAction, DialogueState, ReportStatus, Role

if TYPE_CHECKING:
    from parley.consultation.themes import Analysis
    from parley.handlers.dialogues import Dialogues

log = logging.getLogger(__name__)


def _brief(d: DialogueInfo) -> DialogueBrief:
    return DialogueBrief(
        id=d.id, title=d.title, questions=list(d.questions), state=d.state, country=d.country,
        time_zone=d.time_zone, languages=list(d.languages), started_at=d.started_at, ended_at=d.ended_at,
        facilitator_name=d.facilitator.display_name if d.facilitator else None,
    )


def _quiet(stage: str, done: int = 0, total: int = 0) -> None:
    """The step of a pre-draft nobody watches (the JSON API waits for the result)."""


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
        self.predrafter = PreDrafter(db, clock, analysis)

    # --- reading ----------------------------------------------------------------------------

    async def _dialogue(self, s: Any, actor: Account, dialogue_id: int) -> DialogueInfo:
        return (await self._with_role(s, actor, dialogue_id))[0]

    async def _with_role(self, s: Any, actor: Account, dialogue_id: int) -> tuple[DialogueInfo, DialogueRole]:
        d = await dialogue_store.info(s, dialogue_id) if 0 < dialogue_id < 2**31 else None
        if d is None:
            raise NotFound(N_("No such dialogue."), code="dialogue_not_found")
        role = await dialogue_role(s, actor, d)
        if not can_view(role):
            raise Forbidden(N_("Only the dialogue's staff and its observers see its report."),
                            code="report_not_allowed")
        return d, role

    async def get(self, actor: Account, dialogue_id: int, *, notices: Sequence[str] = ()) -> ReportView:
        async with self.db.session() as s:
            d, role = await self._with_role(s, actor, dialogue_id)
            await note_use(s, self.clock.now(), actor, d, role, AuditAction.READ_REPORT)
            report = await store.for_dialogue(s, d.id)
            quotes = list(await store.quotes(s, report.id)) if report else []
            speakers = await quotable_speakers(s, d.id)
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

    async def _segment_times(self, s: Any, ids: Sequence[int | None]) -> dict[int, datetime]:
        found = await transcript_store.by_ids(s, [i for i in ids if i])
        return {i: seg.started_at for i, seg in found.items()}

    async def listing(self, actor: Account) -> list[ReportSummary]:
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

    async def start_in_background(self, actor: Account, dialogue_id: int, *, language: str | None = None) -> None:
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

    async def redraft_in_background(self, actor: Account, dialogue_id: int) -> None:
        """`redraft` as a background task (see `start_in_background`)."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            await self._draft_report(s, d)

        async def work(step: Step) -> list[str]:
            return (await self.redraft(actor, dialogue_id, step=step)).notices

        self.drafting.start(d.id, work)

    async def start(self, actor: Account, dialogue_id: int, *, language: str | None = None,
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
        draft = await self.predrafter.draft(d, lang, step or _quiet)
        (step or _quiet)("saving", 0, 0)
        now = self.clock.now()
        async with self.db.session() as s:
            if await store.for_dialogue(s, d.id, lock=True) is not None:
                return await self.get(actor, dialogue_id)
            report = await store.add(
                s, dialogue_id=d.id, language=lang, future=draft.sections.get("future", ""),
                on_track_text=draft.sections.get("on_track", ""), actions=draft.sections.get("actions", ""),
                participant_count=draft.participant_count, languages=draft.languages, now=now, by=actor.id,
            )
            store.add_quotes(s, report.id, draft.candidates)
        log.info("report for dialogue %d started by user %d (%d candidate quotes)", d.id, actor.id,
                 len(draft.candidates))
        return await self.get(actor, dialogue_id, notices=draft.notices)

    async def redraft(self, actor: Account, dialogue_id: int, *, step: Step | None = None) -> ReportView:
        """Pre-draft again: fills empty sections and replaces the quote candidates not chosen."""
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            report = await self._draft_report(s, d)
            language = report.language
        draft = await self.predrafter.draft(d, language, step or _quiet)
        (step or _quiet)("saving", 0, 0)
        async with self.db.session() as s:
            report = await self._draft_report(s, d, lock=True)
            filled = {column: draft.sections[phase]
                      for phase, column in (("future", "future"), ("on_track", "on_track_text"), ("actions", "actions"))
                      if not str(getattr(report, column)).strip() and draft.sections.get(phase)}
            await store.delete_candidates(s, report.id)
            kept = {(q.segment_id, q.text) for q in await store.quotes(s, report.id, consented_only=False)}
            fresh = [q for q in draft.candidates if (q.segment_id, q.text) not in kept]
            store.add_quotes(s, report.id, fresh)
            now = self.clock.now()
            await store.revise(s, report.id, now, by=None, drafted_at=now, **filled)
        return await self.get(actor, dialogue_id, notices=draft.notices)

    async def save(self, actor: Account, dialogue_id: int, data: ReportInput) -> ReportView:
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            self._check_edit(actor, d)
            report = await self._draft_report(s, d, lock=True)
            await apply_input(s, self.clock, actor, d, report, data)
        return await self.get(actor, dialogue_id)

    async def submit(self, actor: Account, dialogue_id: int, data: ReportInput | None = None) -> ReportView:
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
            await store.revise(s, report.id, now, by=actor.id, status=ReportStatus.SUBMITTED, submitted_at=now,
                               submitted_by_id=actor.id)
            await store.delete_candidates(s, report.id)
            report_id = report.id
        log.info("report %d (dialogue %d) submitted by user %d", report_id, dialogue_id, actor.id)
        if self.analysis is not None:
            await self.analysis.announce({"type": "analysis.sources", "source": "report", "report_id": report_id})
        return await self.get(actor, dialogue_id)

    async def reopen(self, actor: Account, dialogue_id: int) -> ReportView:
        async with self.db.session() as s:
            d = await self._dialogue(s, actor, dialogue_id)
            if not can_reopen(actor, d):
                raise Forbidden(N_("Only organisers can reopen a submitted report."), code="not_organiser")
            report = await store.for_dialogue(s, d.id, lock=True)
            if report is None:
                raise NotFound(N_("This dialogue has no report yet."), code="report_not_found")
            if report.status != ReportStatus.SUBMITTED:
                raise Conflict(N_("This report is not submitted."), code="report_not_submitted")
            now = self.clock.now()
            await store.revise(s, report.id, now, by=actor.id, status=ReportStatus.DRAFT, reopened_at=now,
                               reopened_by_id=actor.id)
            await analysis_store.delete_for_report(s, report.id)
            report_id = report.id
        log.info("report %d reopened by user %d", report_id, actor.id)
        if self.analysis is not None:
            await self.analysis.announce({"type": "analysis.sources", "source": "report", "report_id": report_id})
        return await self.get(actor, dialogue_id)

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _check_edit(actor: Account, d: DialogueInfo) -> None:
        if not can_edit(actor, d):
            raise Forbidden(N_("Only the dialogue's facilitator and organiser write its report."),
                            code="not_allowed")
        if d.state not in HELD:
            raise Conflict(N_("The report can be written once the dialogue has ended."), code="dialogue_not_ended")

    @staticmethod
    async def _draft_report(s: Any, d: DialogueInfo, *, lock: bool = False) -> ReportInfo:
        report = await store.for_dialogue(s, d.id, lock=lock)
        if report is None:
            raise NotFound(N_("This dialogue has no report yet."), code="report_not_found")
        if report.status != ReportStatus.DRAFT:
            raise Conflict(N_("The report has been submitted and is locked."), code="report_locked")
        return report

