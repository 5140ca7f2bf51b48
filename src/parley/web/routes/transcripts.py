"""Transcripts over HTTP: downloads under /api/v1 and the page /dialogues/<id>/transcript.

    GET    /api/v1/dialogues/<id>/transcript?format=vtt|srt|json|txt&lang=xx   the whole transcript
    GET    /api/v1/dialogues/<id>/transcript/mine?format=...&lang=xx           what I said
    DELETE /api/v1/dialogues/<id>/transcript                                   delete it all (staff)
    DELETE /api/v1/dialogues/<id>/transcript/mine                              delete what I said

The page picks its translation with ``?language=`` (``?lang=`` on pages picks the interface
language). The rules live in `parley.handlers.transcripts`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from parley.handlers.transcript_formats import Format, Line, clock_time, milliseconds
from parley.handlers.transcripts import Export, Scope, TranscriptView
from parley.storage.models import User
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.forms import flash_of, form_str, login_redirect, page_helpers
from parley.web.schemas import error_docs
from parley.web.templating import lang_of, render

router = APIRouter()
TAGS: list[str | Enum] = ["transcripts"]


def N_(message: str) -> str:
    return message


_ERROR_TEXT = {
    401: "Not logged in (`login_required`).",
    403: "Not allowed (`transcript_not_allowed`, `transcript_delete_not_allowed`) or missing CSRF token.",
    404: "No such dialogue (`dialogue_not_found`).",
    422: "Not one of the dialogue's languages (`language_not_in_dialogue`) or an unknown format.",
}


errors = error_docs(_ERROR_TEXT)


class DeletedOut(BaseModel):
    deleted: int = Field(description="How many transcript lines were deleted.")


FORMAT_QUERY = Query(Format.JSON, alias="format", description="vtt (WebVTT), srt (SubRip), json or txt (plain text).")
LANG_QUERY = Query(None, max_length=16, description="One of the dialogue's languages: lines are given in it "
                   "(stored caption, machine translation, or the original marked untranslated).")
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The transcript as a file (Content-Disposition: attachment).",
          "content": {"text/vtt": {}, "application/x-subrip": {}, "application/json": {}, "text/plain": {}}},
    **errors(401, 403, 404, 422),
}


def _untranslated(request: Request) -> str:
    """The mark for untranslated lines, in the file's language where the interface has it
    (``lang_of`` reads ``?lang=`` first), else in the reader's."""
    return lang_of(request).gettext(N_("not translated"))


def file_response(export: Export) -> Response:
    return Response(export.body, media_type=export.media_type, headers={
        "Content-Disposition": export.content_disposition,
        "Cache-Control": "no-store",
    })


# --- API -------------------------------------------------------------------------------------------


async def _download(request: Request, user: User, dialogue_id: int, fmt: Format, lang: str | None,
                    scope: Scope) -> Response:
    export = await server_of(request).transcripts.export(user, dialogue_id, fmt, language=lang, scope=scope,
                                                         untranslated=_untranslated(request))
    return file_response(export)


@router.get("/api/v1/dialogues/{dialogue_id:int}/transcript", tags=TAGS, response_class=Response,
            summary="Download a dialogue's transcript", responses=FILE_RESPONSES)
async def api_download(request: Request, dialogue_id: int, fmt: Format = FORMAT_QUERY,
                       lang: str | None = LANG_QUERY, user: User = Depends(require_user)) -> Response:
    """For the dialogue's organiser, facilitator and admins (with names), its interpreters and its
    observers (participants as #1, #2...; an observer's read is audited). Only lines whose speakers
    allow a transcript."""
    return await _download(request, user, dialogue_id, fmt, lang, "all")


@router.get("/api/v1/dialogues/{dialogue_id:int}/transcript/mine", tags=TAGS, response_class=Response,
            summary="Download what I said in a dialogue", responses=FILE_RESPONSES)
async def api_download_mine(request: Request, dialogue_id: int, fmt: Format = FORMAT_QUERY,
                            lang: str | None = LANG_QUERY, user: User = Depends(require_user)) -> Response:
    return await _download(request, user, dialogue_id, fmt, lang, "mine")


@router.delete("/api/v1/dialogues/{dialogue_id:int}/transcript", response_model=DeletedOut, tags=TAGS,
               summary="Delete a dialogue's whole transcript", responses=errors(401, 403, 404))
async def api_delete(request: Request, dialogue_id: int, user: User = Depends(require_user)) -> DeletedOut:
    """The dialogue's organiser, facilitator and admins. Report quotes and analysis codings
    taken from the transcript are deleted with it."""
    return DeletedOut(deleted=await server_of(request).transcripts.delete(user, dialogue_id))


@router.delete("/api/v1/dialogues/{dialogue_id:int}/transcript/mine", response_model=DeletedOut, tags=TAGS,
               summary="Delete what I said in a dialogue", responses=errors(401, 403, 404))
async def api_delete_mine(request: Request, dialogue_id: int, user: User = Depends(require_user)) -> DeletedOut:
    return DeletedOut(deleted=await server_of(request).transcripts.delete_mine(user, dialogue_id))


# --- page ------------------------------------------------------------------------------------------

DONE = {
    "deleted": N_("The transcript was deleted."),
    "deleted-mine": N_("What you said was deleted from the transcript."),
}


def downloads(view: TranscriptView) -> list[tuple[Format, str]]:
    """(format, URL) for each download of what the page shows."""
    path = f"/api/v1/dialogues/{view.dialogue.id}/transcript" + ("/mine" if view.scope == "mine" else "")
    out = []
    for fmt in (Format.VTT, Format.SRT, Format.TXT, Format.JSON):
        params = {"format": fmt.value} | ({"lang": view.language} if view.language else {})
        out.append((fmt, f"{path}?{urlencode(params)}"))
    return out


async def _page(request: Request, user: User, dialogue_id: int, *, delete_error: str = "",
                status: int = 200) -> Response:
    language = request.query_params.get("language", "")[:16] or None
    view = await server_of(request).transcripts.get(user, dialogue_id, language=language, scope=None)
    origin = view.origin

    def offset(line: Line) -> str:
        return clock_time(milliseconds(line.started_at - origin))

    ctx = {"t": view, "downloads": downloads(view), "offset": offset, "flash": flash_of(request, DONE),
           "delete_error": delete_error, **page_helpers(request)}
    return render(request, "transcripts/transcript.html", ctx, status=status)


@router.get("/dialogues/{dialogue_id:int}/transcript", include_in_schema=False)
async def transcript_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    """The whole transcript for those who may read it; otherwise what the viewer said."""
    if viewer.user is None:
        return login_redirect(request)
    return await _page(request, viewer.user, dialogue_id)


@router.post("/dialogues/{dialogue_id:int}/transcript/delete", include_in_schema=False)
async def delete_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    mine = form_str(form, "scope", 8) == "mine"
    if form_str(form, "confirm", 8) != "yes":
        message = lang_of(request).gettext(N_("Tick the box to confirm the deletion."))
        return await _page(request, viewer.user, dialogue_id, delete_error=message, status=422)
    transcripts = server_of(request).transcripts
    if mine:
        await transcripts.delete_mine(viewer.user, dialogue_id)
    else:
        await transcripts.delete(viewer.user, dialogue_id)
    done = "deleted-mine" if mine else "deleted"
    return RedirectResponse(f"/dialogues/{dialogue_id}/transcript?done={done}", status_code=303)
