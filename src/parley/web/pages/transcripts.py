"""A dialogue's transcript page (lines, translations, downloads, deletion requests), over the
same calls as the JSON API in `parley.web.routes.transcripts`.

While the chosen language is being translated (in the background) the page is small: how far
it is, reloading itself (a meta refresh: no script, light on a slow link), and a link to the
originals meanwhile; then the translated transcript.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from parley.handlers.accounts import Account
from parley.handlers.transcript_formats import Format, Line, clock_time, milliseconds
from parley.handlers.transcripts import TranscriptView
from parley.web.auth import Viewer, server_of, viewer_checked
from parley.web.forms import N_, flash_of, form_str, login_redirect, page_helpers
from parley.web.pages.recordings import recordings_for
from parley.web.routes.transcripts import progress_text
from parley.web.templating import lang_of, render

router = APIRouter()


DONE = {
    "deleted": N_("The transcript was deleted."),
    "deleted-mine": N_("What you said was deleted from the transcript."),
}


def downloads(view: TranscriptView) -> list[tuple[Format, str]]:
    """(format, URL) for each download of what the page shows (the originals while the chosen
    language is being translated: its files come once it is done)."""
    path = f"/api/v1/dialogues/{view.dialogue.id}/transcript" + ("/mine" if view.scope == "mine" else "")
    language = view.language if view.preparing is None else None
    out = []
    for fmt in (Format.VTT, Format.SRT, Format.TXT, Format.JSON):
        params = {"format": fmt.value} | ({"lang": language} if language else {})
        out.append((fmt, f"{path}?{urlencode(params)}"))
    return out


async def _page(request: Request, user: Account, dialogue_id: int, *, delete_error: str = "",
                status: int = 200) -> Response:
    language = request.query_params.get("language", "")[:16] or None
    view = await server_of(request).transcripts.get(user, dialogue_id, language=language, scope=None)
    origin = view.origin

    def offset(line: Line) -> str:
        return clock_time(milliseconds(line.started_at - origin))

    lang = lang_of(request)
    ctx = {"t": view, "downloads": downloads(view), "offset": offset, "flash": flash_of(request, DONE),
           "delete_error": delete_error, "recordings": await recordings_for(request, user, dialogue_id),
           "progress_text": lambda p: progress_text(lang, p), **page_helpers(request)}
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


@router.post("/dialogues/{dialogue_id:int}/transcript/translate", include_in_schema=False)
async def translate_submit(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    """Try again: translate the chosen language now (after a failure someone fixed)."""
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    language = form_str(form, "language", 16)
    await server_of(request).transcripts.retry(viewer.user, dialogue_id, language)
    return RedirectResponse(f"/dialogues/{dialogue_id}/transcript?{urlencode({'language': language})}",
                            status_code=303)
