"""Report pages: the list of ended dialogues and their reports, and one report (pre-drafted from
the transcript, edited, submitted, reopened, exported), over the same
`parley.consultation.reports` calls as the JSON API in `parley.web.routes.reports`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from parley.consultation.reports import (
    QuoteInput,
    ReportInput,
    ReportView,
)
from parley.errors import ClientError
from parley.reference import UN_LANGUAGES
from parley.vocabulary import OnTrack
from parley.web.auth import Viewer, server_of, viewer_checked
from parley.web.forms import N_, flash_of, form_list, form_str, login_redirect, page_helpers
from parley.web.pages.recordings import recordings_for
from parley.web.templating import lang_of, render

router = APIRouter()


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
        languages=_spoken(form),
        quotes=quotes,
    )
    return data, form_str(form, "action", 16)


def _spoken(form: Any) -> list[str]:
    """The languages ticked by name, then any others typed as codes (a comma list also works)."""
    given = [*form_list(form, "languages", 400), form_str(form, "languages_other", 400)]
    return [c.strip() for value in given for c in value.split(",") if c.strip()]


def _spoken_choices(report: ReportView) -> list[str]:
    """The languages offered by name: the dialogue's first (the likely ones), then those already
    noted, the report's own and the UN's."""
    first = list(report.dialogue.languages)
    rest = set(UN_LANGUAGES) | {report.language} | set(report.languages)
    return first + sorted(rest - set(first))


def _page_context(request: Request, report: ReportView) -> dict[str, Any]:
    return {
        "report": report,
        "OnTrack": OnTrack,
        "report_languages": sorted(set(UN_LANGUAGES) | set(report.dialogue.languages) | {report.language}),
        "spoken_languages": _spoken_choices(report),
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
            "languages": list(report.languages), "languages_other": "", "version": report.version,
            "quotes": {q.id: {"included": q.included, "translation": q.translation or ""} for q in report.quotes},
            "new_quote": {},
        }
    typed = {q.id: {"included": bool(q.included), "translation": q.translation or ""} for q in data.quotes if q.id}
    new = next((q for q in data.quotes if q.id is None), None)
    return {
        "language": data.language or report.language, "future": data.future or "", "on_track": data.on_track or "",
        "on_track_text": data.on_track_text or "", "actions": data.actions or "", "notes": data.notes or "",
        "participant_count": str(data.participant_count or ""), "languages": list(data.languages or []),
        "languages_other": ", ".join(c for c in data.languages or [] if c not in _spoken_choices(report)),
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
    ctx = {**_page_context(request, report), "values": _values(report), "errors": {}, "flash": flash,
           "recordings": await recordings_for(request, viewer.user, dialogue_id)}
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
               "form_error": lang_of(request).gettext(exc.message), "error_code": exc.code,
               "recordings": await recordings_for(request, viewer.user, dialogue_id)}
        return render(request, "reports/report.html", ctx, status=exc.status)
    return RedirectResponse(f"/dialogues/{dialogue_id}/report?done={done}", status_code=303)

# The transcript (page, downloads, deletion) is served by `parley.web.routes.transcripts`.
