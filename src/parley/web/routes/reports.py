"""Facilitator reports as JSON under /api/v1 (the pages, a plain form that works without
JavaScript, are `parley.web.pages.reports`; ``static/js/analysis.js`` autosaves through this API).

The rules live in `parley.consultation.reports`; this module maps HTTP onto those calls.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from parley.consultation.reports import (
    QuoteInput,
    ReportInput,
)
from parley.handlers.accounts import Account
from parley.vocabulary import DialogueState, OnTrack, ReportStatus
from parley.web.auth import require_user, server_of
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of

router = APIRouter()
TAGS: list[str | Enum] = ["reports"]


# --- error shapes ------------------------------------------------------------------------------


_ERROR_TEXT = {
    401: "Not logged in.",
    403: "Not the dialogue's facilitator, organiser or an organiser of the campaign (or missing CSRF token).",
    404: "No such dialogue, or no report yet.",
    409: "The dialogue has not ended, the report is locked, or it changed meanwhile (`report_changed`).",
    422: "Some fields are not valid (or missing for submission); `fields` says which.",
}


errors = error_docs(_ERROR_TEXT)


# --- JSON shapes -------------------------------------------------------------------------------


class DialogueBriefOut(ViewOut):
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


class QuoteOut(ViewOut):
    id: int
    included: bool = Field(description="In the report; false for a candidate the pre-draft proposed.")
    speaker_user_id: int
    speaker_name: str
    consent_quotes: bool = Field(description="The speaker allows quotes (always true: others are never listed).")
    text: str = Field(description="What was said, in its original language.")
    language: str
    translation: str | None = Field(description="In the report's language; null when no engine covers the pair.")
    translation_language: str | None
    translation_engine: str | None = Field(description="The engine; empty when the facilitator typed it.")
    segment_id: int | None = Field(description="The transcript line it comes from.")
    started_at: datetime | None


class SpeakerOut(ViewOut):
    user_id: int
    name: str
    language: str


class PermissionsOut(ViewOut):
    can_edit: bool
    can_start: bool
    can_submit: bool
    can_reopen: bool


class DraftingOut(ViewOut):
    stage: Literal["reading", "choosing", "translating", "saving"] = Field(
        description="choosing: the analysis engine reads the lines (done of total); translating: done of total lines.")
    done: int
    total: int
    since: datetime | None


class ReportOut(ViewOut):
    dialogue: DialogueBriefOut
    permissions: PermissionsOut
    exists: bool
    id: int | None
    status: ReportStatus | None
    language: str
    future: str = Field(description="The future participants want (first question).")
    on_track: OnTrack | None = Field(description="Are we on track to get there (second question)?")
    on_track_text: str
    actions: str = Field(description="Action proposed to close the gap (third question).")
    notes: str
    participant_count: int | None
    languages: list[str]
    version: int = Field(description="Send it back with a save; a stale one is refused (409 report_changed).")
    drafted_at: datetime | None
    updated_at: datetime | None
    submitted_at: datetime | None
    reopened_at: datetime | None
    quotes: list[QuoteOut]
    speakers: list[SpeakerOut] = Field(description="Participants who allow quotes: who may be quoted.")
    notices: list[str] = Field(description="About the last pre-draft: no_transcript, engine_missing, "
                                           "translation_unavailable:<from>-<to>.")
    drafting: DraftingOut | None = Field(None, description="A pre-draft the page started, still running.")


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(None, description="An existing quote; omit to add one.")
    included: bool | None = None
    translation: str | None = Field(None, max_length=2000)
    remove: bool = False
    speaker_user_id: int | None = Field(None, description="New quotes: a participant who allows quotes.")
    text: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, max_length=16)


class ReportIn(BaseModel):
    """Changes to the draft; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, description="The version you edited (from ReportOut).")
    language: str | None = Field(None, max_length=16)
    future: str | None = Field(None, max_length=20_000)
    on_track: str | None = Field(None, max_length=16, description="yes, partly, no, unsure; empty string clears it.")
    on_track_text: str | None = Field(None, max_length=20_000)
    actions: str | None = Field(None, max_length=20_000)
    notes: str | None = Field(None, max_length=20_000)
    participant_count: int | None = Field(None, ge=0, le=100_000)
    languages: list[str] | None = Field(None, max_length=50)
    quotes: list[QuoteIn] = Field(default_factory=list, max_length=40)

    def to_input(self) -> ReportInput:
        return ReportInput(
            version=self.version, language=self.language, future=self.future, on_track=self.on_track,
            on_track_text=self.on_track_text, actions=self.actions, notes=self.notes,
            participant_count=self.participant_count, languages=self.languages,
            quotes=[QuoteInput(**q.model_dump()) for q in self.quotes],
        )


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(None, max_length=16, description="The report's language (default: yours).")


class ReportSummaryOut(ViewOut):
    dialogue_id: int
    title: str
    state: DialogueState
    ended_at: datetime | None
    facilitator_name: str | None
    status: ReportStatus | None = Field(description="null: not started.")
    submitted_at: datetime | None
    updated_at: datetime | None


# --- API -----------------------------------------------------------------------------------------


@router.get("/api/v1/reports", response_model=list[ReportSummaryOut], tags=TAGS,
            summary="Ended dialogues and their reports", responses=errors(401, 403))
async def api_listing(request: Request, user: Account = Depends(require_user)) -> list[ReportSummaryOut]:
    """All for organisers and admins; a facilitator's own dialogues for facilitators."""
    return [ReportSummaryOut.of(r) for r in await server_of(request).reports.listing(user)]


@router.get("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
            summary="A dialogue's report (exists=false before it is started)", responses=errors(401, 403, 404))
async def api_get(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.get(user, dialogue_id))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
             summary="Start the report, pre-drafted from the consented transcript",
             responses=errors(401, 403, 404, 409, 422))
async def api_start(request: Request, dialogue_id: int, body: StartIn | None = None,
                    user: Account = Depends(require_user)) -> ReportOut:
    language = body.language if body and body.language else lang_of(request).code
    return ReportOut.of(await server_of(request).reports.start(user, dialogue_id, language=language))


@router.put("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
            summary="Save the draft (autosave)", responses=errors(401, 403, 404, 409, 422))
async def api_save(request: Request, dialogue_id: int, body: ReportIn, user: Account = Depends(require_user)
                   ) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.save(user, dialogue_id, body.to_input()))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/redraft", response_model=ReportOut, tags=TAGS,
             summary="Pre-draft again: fill empty sections, propose new quote candidates",
             responses=errors(401, 403, 404, 409))
async def api_redraft(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.redraft(user, dialogue_id))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/submit", response_model=ReportOut, tags=TAGS,
             summary="Submit: the dialogue becomes report_submitted and the report is locked",
             responses=errors(401, 403, 404, 409, 422))
async def api_submit(request: Request, dialogue_id: int, body: ReportIn | None = None,
                     user: Account = Depends(require_user)) -> ReportOut:
    data = body.to_input() if body is not None else None
    return ReportOut.of(await server_of(request).reports.submit(user, dialogue_id, data))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/reopen", response_model=ReportOut, tags=TAGS,
             summary="Reopen a submitted report for editing (organisers)", responses=errors(401, 403, 404, 409))
async def api_reopen(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.reopen(user, dialogue_id))
