"""Facilitator reports over HTTP: JSON under /api/v1 and pages (a plain form that works
without JavaScript; ``static/js/analysis.js`` adds autosave through the JSON API).

The rules live in `parley.consultation.reports`; this module maps HTTP onto those calls.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.consultation.reports import (
    QuoteInput,
    ReportInput,
    ReportView,
)
from parley.errors import ClientError
from parley.reference import UN_LANGUAGES
from parley.storage.analysis_models import OnTrack, ReportStatus
from parley.storage.models import DialogueState, User
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.forms import flash_of, form_list, form_str, login_redirect, page_helpers
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of, render

router = APIRouter()
TAGS: list[str | Enum] = ["reports"]


def N_(message: str) -> str:
    return message


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
async def api_listing(request: Request, user: User = Depends(require_user)) -> list[ReportSummaryOut]:
    """All for organisers and admins; a facilitator's own dialogues for facilitators."""
    return [ReportSummaryOut.of(r) for r in await server_of(request).reports.listing(user)]


@router.get("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
            summary="A dialogue's report (exists=false before it is started)", responses=errors(401, 403, 404))
async def api_get(request: Request, dialogue_id: int, user: User = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.get(user, dialogue_id))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
             summary="Start the report, pre-drafted from the consented transcript",
             responses=errors(401, 403, 404, 409, 422))
async def api_start(request: Request, dialogue_id: int, body: StartIn | None = None,
                    user: User = Depends(require_user)) -> ReportOut:
    language = body.language if body and body.language else lang_of(request).code
    return ReportOut.of(await server_of(request).reports.start(user, dialogue_id, language=language))


@router.put("/api/v1/dialogues/{dialogue_id:int}/report", response_model=ReportOut, tags=TAGS,
            summary="Save the draft (autosave)", responses=errors(401, 403, 404, 409, 422))
async def api_save(request: Request, dialogue_id: int, body: ReportIn, user: User = Depends(require_user)
                   ) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.save(user, dialogue_id, body.to_input()))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/redraft", response_model=ReportOut, tags=TAGS,
             summary="Pre-draft again: fill empty sections, propose new quote candidates",
             responses=errors(401, 403, 404, 409))
async def api_redraft(request: Request, dialogue_id: int, user: User = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.redraft(user, dialogue_id))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/submit", response_model=ReportOut, tags=TAGS,
             summary="Submit: the dialogue becomes report_submitted and the report is locked",
             responses=errors(401, 403, 404, 409, 422))
async def api_submit(request: Request, dialogue_id: int, body: ReportIn | None = None,
                     user: User = Depends(require_user)) -> ReportOut:
    data = body.to_input() if body is not None else None
    return ReportOut.of(await server_of(request).reports.submit(user, dialogue_id, data))


@router.post("/api/v1/dialogues/{dialogue_id:int}/report/reopen", response_model=ReportOut, tags=TAGS,
             summary="Reopen a submitted report for editing (organisers)", responses=errors(401, 403, 404, 409))
async def api_reopen(request: Request, dialogue_id: int, user: User = Depends(require_user)) -> ReportOut:
    return ReportOut.of(await server_of(request).reports.reopen(user, dialogue_id))


# --- pages ---------------------------------------------------------------------------------------

DONE = {
    "started": N_("The report is started. Parley pre-drafted it from the transcript: check every section."),
    "saved": N_("Draft saved."),
    "submitted": N_("Report submitted. Thank you!"),
    "reopened": N_("The report is open for editing again."),
    "redrafted": N_("Pre-drafted again from the transcript."),
}
MESSAGES = {
    "required": N_("This is needed before you submit."),
    "length": N_("This is too long."),
    "range": N_("Enter a whole number."),
    "invalid": N_("Choose one of the answers."),
    "unknown_language": N_("Use language codes such as en, fr or pt-BR."),
    "no_consent": N_("Only participants who allow quotes can be quoted."),
    "not_found": N_("This quote no longer exists."),
}


def _messages(request: Request, exc: ClientError) -> dict[str, str]:
    gettext = lang_of(request).gettext
    out = {name: gettext(MESSAGES.get(code, N_("This value is not valid."))) for name, code in exc.fields.items()}
    return out


def _form_input(form: Any) -> tuple[ReportInput, str]:
    """The form as a save, and which button was pressed."""
    quotes = []
    for raw_id in form_list(form, "quote_ids"):
        if not (raw_id.isascii() and raw_id.isdigit()):
            continue
        qid = int(raw_id)
        quotes.append(QuoteInput(
            id=qid, included=bool(form_str(form, f"quote-{qid}-included", 8)),
            translation=form_str(form, f"quote-{qid}-translation", 2000),
            remove=bool(form_str(form, f"quote-{qid}-remove", 8)),
        ))
    new_text = form_str(form, "new_quote_text", 2000)
    if new_text.strip():
        speaker = form_str(form, "new_quote_speaker", 12)
        quotes.append(QuoteInput(
            speaker_user_id=int(speaker) if speaker.isascii() and speaker.isdigit() else None, text=new_text,
            language=form_str(form, "new_quote_language", 16) or None,
            translation=form_str(form, "new_quote_translation", 2000) or None,
        ))
    version = form_str(form, "version", 12)
    data = ReportInput(
        version=int(version) if version.isascii() and version.isdigit() else None,
        language=form_str(form, "language", 16) or None,
        future=form_str(form, "future", 20_000), on_track=form_str(form, "on_track", 16),
        on_track_text=form_str(form, "on_track_text", 20_000), actions=form_str(form, "actions", 20_000),
        notes=form_str(form, "notes", 20_000), participant_count=form_str(form, "participant_count", 12),
        languages=[c.strip() for c in form_str(form, "languages", 400).split(",") if c.strip()],
        quotes=quotes,
    )
    return data, form_str(form, "action", 16)


def _page_context(request: Request, report: ReportView) -> dict[str, Any]:
    return {
        "report": report,
        "OnTrack": OnTrack,
        "report_languages": sorted(set(UN_LANGUAGES) | set(report.dialogue.languages) | {report.language}),
        **page_helpers(request),
    }


def _values(report: ReportView, data: ReportInput | None = None) -> dict[str, Any]:
    """What the form shows: the stored report, or what the user typed when it failed."""
    if data is None:
        return {
            "language": report.language, "future": report.future,
            "on_track": report.on_track.value if report.on_track else "", "on_track_text": report.on_track_text,
            "actions": report.actions, "notes": report.notes,
            "participant_count": "" if report.participant_count is None else str(report.participant_count),
            "languages": ", ".join(report.languages), "version": report.version,
            "quotes": {q.id: {"included": q.included, "translation": q.translation or ""} for q in report.quotes},
            "new_quote": {},
        }
    typed = {q.id: {"included": bool(q.included), "translation": q.translation or ""} for q in data.quotes if q.id}
    new = next((q for q in data.quotes if q.id is None), None)
    return {
        "language": data.language or report.language, "future": data.future or "", "on_track": data.on_track or "",
        "on_track_text": data.on_track_text or "", "actions": data.actions or "", "notes": data.notes or "",
        "participant_count": str(data.participant_count or ""), "languages": ", ".join(data.languages or []),
        "version": report.version,
        "quotes": {q.id: typed.get(q.id, {"included": q.included, "translation": q.translation or ""})
                   for q in report.quotes},
        "new_quote": vars(new) if new else {},
    }


@router.get("/reports", include_in_schema=False)
async def listing_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    rows = await server_of(request).reports.listing(viewer.user)
    return render(request, "reports/list.html", {"rows": rows, **page_helpers(request)})


@router.get("/dialogues/{dialogue_id:int}/report", include_in_schema=False)
async def report_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    reports = server_of(request).reports
    report = await reports.get(viewer.user, dialogue_id)
    flash = ""
    if report.drafting is None:
        # What a pre-draft finished in the background could not do, shown once (taken only
        # now: it may have finished while the page was being read).
        notices = reports.drafting.take_notices(dialogue_id)
        report = dataclasses.replace(report, notices=notices)
        if not any(n.startswith("draft_") for n in notices):
            flash = flash_of(request, DONE)
    ctx = {**_page_context(request, report), "values": _values(report), "errors": {}, "flash": flash}
    return render(request, "reports/report.html", ctx)


@router.post("/dialogues/{dialogue_id:int}/report", include_in_schema=False)
async def report_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    reports = server_of(request).reports
    data, action = _form_input(await request.form())
    done = {"start": "started", "save": "saved", "submit": "submitted", "reopen": "reopened",
            "redraft": "redrafted"}.get(action, "saved")
    try:
        # Pre-drafting runs in the background: the page shows its stage until the draft is ready.
        if action == "start":
            await reports.start_in_background(viewer.user, dialogue_id,
                                              language=data.language or lang_of(request).code)
        elif action == "reopen":
            await reports.reopen(viewer.user, dialogue_id)
        elif action == "redraft":
            await reports.save(viewer.user, dialogue_id, data)
            await reports.redraft_in_background(viewer.user, dialogue_id)
        elif action == "submit":
            await reports.submit(viewer.user, dialogue_id, data)
        else:
            await reports.save(viewer.user, dialogue_id, data)
    except ClientError as exc:
        if exc.status in (401, 403, 404):
            raise
        report = await reports.get(viewer.user, dialogue_id)
        ctx = {**_page_context(request, report), "values": _values(report, data), "errors": _messages(request, exc),
               "form_error": lang_of(request).gettext(exc.message), "error_code": exc.code}
        return render(request, "reports/report.html", ctx, status=exc.status)
    return RedirectResponse(f"/dialogues/{dialogue_id}/report?done={done}", status_code=303)

# The transcript (page, downloads, deletion) is served by `parley.web.routes.transcripts`.
