"""Transcripts over HTTP: downloads under /api/v1 (the page /dialogues/<id>/transcript is
`parley.web.pages.transcripts`).

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

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from parley.handlers.accounts import Account
from parley.handlers.transcript_formats import Format
from parley.handlers.transcripts import Export, Scope
from parley.web.auth import require_user, server_of
from parley.web.forms import N_
from parley.web.schemas import error_docs
from parley.web.templating import lang_of

router = APIRouter()
TAGS: list[str | Enum] = ["transcripts"]


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


async def _download(request: Request, user: Account, dialogue_id: int, fmt: Format, lang: str | None,
                    scope: Scope) -> Response:
    export = await server_of(request).transcripts.export(user, dialogue_id, fmt, language=lang, scope=scope,
                                                         untranslated=_untranslated(request))
    return file_response(export)


@router.get("/api/v1/dialogues/{dialogue_id:int}/transcript", tags=TAGS, response_class=Response,
            summary="Download a dialogue's transcript", responses=FILE_RESPONSES)
async def api_download(request: Request, dialogue_id: int, fmt: Format = FORMAT_QUERY,
                       lang: str | None = LANG_QUERY, user: Account = Depends(require_user)) -> Response:
    """For the dialogue's organiser, facilitator and admins (with names), its interpreters and its
    observers (participants as #1, #2...; an observer's read is audited). Only lines whose speakers
    allow a transcript."""
    return await _download(request, user, dialogue_id, fmt, lang, "all")


@router.get("/api/v1/dialogues/{dialogue_id:int}/transcript/mine", tags=TAGS, response_class=Response,
            summary="Download what I said in a dialogue", responses=FILE_RESPONSES)
async def api_download_mine(request: Request, dialogue_id: int, fmt: Format = FORMAT_QUERY,
                            lang: str | None = LANG_QUERY, user: Account = Depends(require_user)) -> Response:
    return await _download(request, user, dialogue_id, fmt, lang, "mine")


@router.delete("/api/v1/dialogues/{dialogue_id:int}/transcript", response_model=DeletedOut, tags=TAGS,
               summary="Delete a dialogue's whole transcript", responses=errors(401, 403, 404))
async def api_delete(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> DeletedOut:
    """The dialogue's organiser, facilitator and admins. Report quotes and analysis codings
    taken from the transcript are deleted with it."""
    return DeletedOut(deleted=await server_of(request).transcripts.delete(user, dialogue_id))


@router.delete("/api/v1/dialogues/{dialogue_id:int}/transcript/mine", response_model=DeletedOut, tags=TAGS,
               summary="Delete what I said in a dialogue", responses=errors(401, 403, 404))
async def api_delete_mine(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> DeletedOut:
    return DeletedOut(deleted=await server_of(request).transcripts.delete_mine(user, dialogue_id))
