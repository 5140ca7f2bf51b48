"""Transcripts over HTTP: downloads under /api/v1 (the page /dialogues/<id>/transcript is
`parley.web.pages.transcripts`).

    GET    /api/v1/dialogues/<id>/transcript?format=vtt|srt|json|txt&lang=xx   the whole transcript
    GET    /api/v1/dialogues/<id>/transcript/mine?format=...&lang=xx           what I said
    DELETE /api/v1/dialogues/<id>/transcript                                   delete it all (staff)
    DELETE /api/v1/dialogues/<id>/transcript/mine                              delete what I said
    GET    /api/v1/dialogues/<id>/transcript/translations                      how far each language is
    POST   /api/v1/dialogues/<id>/transcript/translations/<lang>               translate again now

Lines are translated by machine in the background (`parley.handlers.transcript_translations`);
a download in a language still being prepared waits a while, then answers 409
``transcript_translation_pending`` with Retry-After rather than a file with lines missing.

The page picks its translation with ``?language=`` (``?lang=`` on pages picks the interface
language). The rules live in `parley.handlers.transcripts`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from parley.handlers.accounts import Account
from parley.handlers.transcript_formats import Format
from parley.handlers.transcript_translations import LanguageProgress
from parley.handlers.transcripts import Export, Scope
from parley.i18n import Lang
from parley.reference import language_label
from parley.web.auth import require_user, server_of
from parley.web.forms import N_
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of

router = APIRouter()
TAGS: list[str | Enum] = ["transcripts"]


_ERROR_TEXT = {
    401: "Not logged in (`login_required`).",
    403: "Not allowed (`transcript_not_allowed`, `transcript_delete_not_allowed`) or missing CSRF token.",
    404: "No such dialogue (`dialogue_not_found`).",
    409: "The language is still being translated (`transcript_translation_pending`; see Retry-After and "
         "`GET .../transcript/translations`).",
    422: "Not one of the dialogue's languages (`language_not_in_dialogue`) or an unknown format.",
}


errors = error_docs(_ERROR_TEXT)


class DeletedOut(BaseModel):
    deleted: int = Field(description="How many transcript lines were deleted.")


class EngineFailureOut(ViewOut):
    source: str = Field(description="The language of the lines that failed.")
    engine: str = Field(description="The translation engine (or route) that failed.")
    retryable: bool = Field(description="Parley tries again by itself (true) or someone must act first (false).")


class LanguageProgressOut(ViewOut):
    language: str
    state: Literal["ready", "waiting", "translating", "retrying", "failed"] = Field(
        description="ready: every line has its rendition; waiting: lines to translate, not asked for yet "
                    "(reading or downloading the language asks); translating; retrying: after a failure a "
                    "retry may fix, at retry_at; failed: the engine cannot do it until someone acts, then "
                    "POST .../translations/<lang>.")
    done: int = Field(description="Lines translated by machine so far.")
    total: int = Field(description="Lines only a machine can give in this language (neither spoken in it nor "
                                   "captioned into it), leaving out those no engine covers.")
    unavailable: list[str] = Field(description="Languages no engine translates into this one: their lines are "
                                               "marked as not translated.")
    error: EngineFailureOut | None
    retry_at: datetime | None
    message: str = Field(description="The state in words, in the reader's language.")

    @classmethod
    def shown(cls, p: LanguageProgress, lang: Lang) -> LanguageProgressOut:
        """The progress, its state said in the reader's language."""
        return cls.of(p, message=progress_text(lang, p))


class TranslationsOut(BaseModel):
    scope: Literal["all", "mine"] = Field(description="Counted over the whole transcript or the reader's own lines.")
    languages: list[LanguageProgressOut]


def progress_text(lang: Lang, p: LanguageProgress) -> str:
    """What the page and the API say about a language's translation, in words a reader can act on."""
    name = language_label(p.language, lang.code)
    done, total = lang.number(p.done), lang.number(p.total)
    if p.state == "translating":
        return lang.ngettext("Translating into %(language)s: %(done)s of %(total)s line.",
                             "Translating into %(language)s: %(done)s of %(total)s lines.", p.total,
                             language=name, done=done, total=total)
    if p.state in ("retrying", "failed") and p.error is not None:
        source = language_label(p.error.source, lang.code)
        if p.state == "retrying":
            return lang.gettext(
                "The translation engine (%(engine)s) did not answer while translating %(source)s into "
                "%(language)s. Parley tries again by itself in a few minutes; %(done)s of %(total)s lines are done.",
                engine=p.error.engine, source=source, language=name, done=done, total=total)
        return lang.gettext(
            "The translation engine (%(engine)s) could not translate %(source)s into %(language)s, and trying again "
            "will not help until an administrator checks it (the server's log says why). %(done)s of %(total)s "
            "lines are translated; the others are marked as not translated. Once it is fixed, press Try again.",
            engine=p.error.engine, source=source, language=name, done=done, total=total)
    if p.state == "waiting":
        return lang.ngettext("%(num)s line to translate into %(language)s by machine.",
                             "%(num)s lines to translate into %(language)s by machine.", p.left,
                             num=lang.number(p.left), language=name)
    return lang.gettext("Ready in %(language)s.", language=name)


FORMAT_QUERY = Query(Format.JSON, alias="format", description="vtt (WebVTT), srt (SubRip), json or txt (plain text).")
LANG_QUERY = Query(None, max_length=16, description="One of the dialogue's languages: lines are given in it "
                   "(stored caption, machine translation, or the original marked untranslated).")
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The transcript as a file (Content-Disposition: attachment).",
          "content": {"text/vtt": {}, "application/x-subrip": {}, "application/json": {}, "text/plain": {}}},
    **errors(401, 403, 404, 409, 422),
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


@router.get("/api/v1/dialogues/{dialogue_id:int}/transcript/translations", response_model=TranslationsOut,
            tags=TAGS, summary="How far a transcript is translated into each language",
            responses=errors(401, 403, 404))
async def api_translations(request: Request, dialogue_id: int,
                           scope: Literal["all", "mine"] | None = Query(None, description=(
                               "all (the whole transcript) or mine; by default the whole one when allowed.")),
                           user: Account = Depends(require_user)) -> TranslationsOut:
    """Counts only (no text), for whoever may read the transcript or their own lines in it; an
    interface polls it while a language is being prepared."""
    chosen, progress = await server_of(request).transcripts.progress(user, dialogue_id, scope=scope)
    lang = lang_of(request)
    return TranslationsOut(scope=chosen, languages=[LanguageProgressOut.shown(p, lang) for p in progress])


@router.post("/api/v1/dialogues/{dialogue_id:int}/transcript/translations/{language}",
             response_model=LanguageProgressOut, tags=TAGS, summary="Translate a transcript into a language again now",
             responses=errors(401, 403, 404, 422))
async def api_translate(request: Request, dialogue_id: int, language: str,
                        user: Account = Depends(require_user)) -> LanguageProgressOut:
    """After a failure someone fixed (or a model installed since): queues the language now, even
    while it waits to retry."""
    progress = await server_of(request).transcripts.retry(user, dialogue_id, language[:16])
    return LanguageProgressOut.shown(progress, lang_of(request))
