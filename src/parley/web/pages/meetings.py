"""The meeting page: lobby, room, facilitator panel, captions and interpretation (built by
`frontend/src/meeting.js`), and the recordings' downloads page parts, over the same
`parley.handlers.meetings` calls as the JSON API and socket in `parley.web.routes.meetings`.
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from parley.errors import EngineError
from parley.handlers.accounts import Account
from parley.handlers.dialogues import sees_everything
from parley.handlers.meetings import Access
from parley.vocabulary import AttendeeRole
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.routes.meetings import meetings_of
from parley.web.templating import lang_of, render

router = APIRouter()


def _login(request: Request) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(request.url.path, safe='')}", status_code=303)


def _lobby_language(access: Access, page_language: str) -> str:
    """The language the lobby preselects: a facilitator or observer speaks the language they read
    the page in when the dialogue has it (a French facilitator of an English and French dialogue
    is not set to English, nor her captions); a participant, what they registered in; an
    interpreter, what they interpret into."""
    speaks_page = access.role in (AttendeeRole.HOST, AttendeeRole.OBSERVER)
    if speaks_page and page_language in access.dialogue.languages:
        return page_language
    return access.language_default


@router.get("/dialogues/{dialogue_id:int}/meeting", include_in_schema=False)
async def meeting_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return _login(request)
    server = server_of(request)
    meetings = server.meetings
    access = await meetings.access(viewer.user, dialogue_id)
    state = await meetings.state(viewer.user, dialogue_id)
    staff = access.role != AttendeeRole.PARTICIPANT
    channel = await meetings.changes.staff_channel(viewer.user, dialogue_id) if staff else None
    ctx = {
        "d": access.dialogue,
        "state": state,
        "host": access.role == AttendeeRole.HOST,
        "role": access.role.value,
        # The lobby shows the consent given in this meeting (unticked for a newcomer).
        "consent_default": bool(state["you"] and state["you"].get("consent")),
        "language_default": _lobby_language(access, lang_of(request).code),
        "languages": list(access.dialogue.languages),
        "channel_id": channel,
        "media_ready": meetings.rooms.available(),
        "flash": request.query_params.get("done", "")[:32],
        # The overview lists every dialogue for the campaign team, only their own for the rest.
        "sees_all": sees_everything(viewer.user),
    }
    return render(request, "meetings/meeting.html", ctx)


@router.post("/dialogues/{dialogue_id:int}/meeting/start", include_in_schema=False)
async def start_page(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> Response:
    with contextlib.suppress(EngineError):  # the meeting is open; Janus gets its rooms when it is back
        await meetings_of(request).lifecycle.start_meeting(user, dialogue_id)
    return RedirectResponse(f"/dialogues/{dialogue_id}/meeting", status_code=303)


@router.post("/dialogues/{dialogue_id:int}/meeting/end", include_in_schema=False)
async def end_page(request: Request, dialogue_id: int, user: Account = Depends(require_user)) -> Response:
    await meetings_of(request).lifecycle.end_meeting(user, dialogue_id)
    return RedirectResponse(f"/dialogues/{dialogue_id}/meeting?done=ended", status_code=303)
