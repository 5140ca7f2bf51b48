"""Observers and the access audit log over HTTP: grants per dialogue under
/api/v1/dialogues/<id>/observers (admins and the dialogue's owner), the log under
/api/v1/admin/access-log and the page /admin/access-log (admins).

The rules live in `parley.handlers.access`; routes translate HTTP to its calls.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from parley.errors import ClientError, Forbidden
from parley.handlers.access import AUDIT_PAGE_MAX, ObserverView
from parley.handlers.accounts import Account
from parley.vocabulary import Role
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.forms import form_str, login_redirect
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of, render

router = APIRouter()

TAGS: list[str | Enum] = ["access"]
MAX_ID = 2**31 - 1
DialogueId = Path(ge=1, le=MAX_ID, description="The dialogue.")

errors = error_docs({
    401: "Not logged in (`login_required`).",
    403: "Not an admin or the dialogue's owner (`not_dialogue_owner`); the log is for admins (`not_admin`).",
    404: "No such dialogue (`dialogue_not_found`) or observer (`observer_not_found`).",
    422: "Observers must be active staff accounts (`observer_not_staff`) not already on the dialogue's staff "
         "(`already_staff`).",
})


class ObserverOut(ViewOut):
    user_id: int
    display_name: str
    role: str
    granted_by_id: int | None
    granted_at: datetime


class ObserverList(BaseModel):
    observers: list[ObserverOut]


class ObserverIn(BaseModel):
    user_id: int = Field(ge=1, le=MAX_ID, description="A staff account (organiser, facilitator, interpreter).")


class AuditOut(ViewOut):
    id: int
    at: datetime
    action: Literal["observer_granted", "observer_revoked", "transcript_read", "report_read", "meeting_joined"]
    actor_id: int | None
    actor_name: str
    dialogue_id: int
    dialogue_title: str
    subject_id: int | None = Field(description="Grants and revokes: whose right it is.")
    subject_name: str
    detail: str = Field(description="What was read: `view` or an export format.")


class AuditPage(BaseModel):
    entries: list[AuditOut] = Field(description="Newest first; page back with `before` = the last id.")


def _list(observers: list[ObserverView]) -> ObserverList:
    return ObserverList(observers=[ObserverOut.of(o) for o in observers])


@router.get("/api/v1/dialogues/{dialogue_id}/observers", response_model=ObserverList, tags=TAGS,
            responses=errors(401, 403, 404))
async def observers(request: Request, dialogue_id: int = DialogueId,
                    user: Account = Depends(require_user)) -> ObserverList:
    """Who holds an observer grant for this dialogue (admins and its owner)."""
    return _list(await server_of(request).observers.of_dialogue(user, dialogue_id))


@router.post("/api/v1/dialogues/{dialogue_id}/observers", response_model=ObserverList, tags=TAGS,
             responses=errors(401, 403, 404, 422))
async def grant(body: ObserverIn, request: Request, dialogue_id: int = DialogueId,
                user: Account = Depends(require_user)) -> ObserverList:
    """Let a staff account read this dialogue's transcript and report and listen in its meeting
    (audited); admins and the dialogue's owner."""
    return _list(await server_of(request).observers.grant(user, dialogue_id, body.user_id))


@router.delete("/api/v1/dialogues/{dialogue_id}/observers/{user_id}", response_model=ObserverList, tags=TAGS,
               responses=errors(401, 403, 404))
async def revoke(request: Request, dialogue_id: int = DialogueId, user_id: int = Path(ge=1, le=MAX_ID),
                 user: Account = Depends(require_user)) -> ObserverList:
    """Take the grant back; an observer in the meeting leaves it at once."""
    return _list(await server_of(request).observers.revoke(user, dialogue_id, user_id))


@router.get("/api/v1/admin/access-log", response_model=AuditPage, tags=TAGS, responses=errors(401, 403))
async def access_log(request: Request, user: Account = Depends(require_user),
                     dialogue_id: int | None = Query(None, ge=1, le=MAX_ID),
                     before: int | None = Query(None, ge=1, le=MAX_ID),
                     limit: int = Query(100, ge=1, le=AUDIT_PAGE_MAX)) -> AuditPage:
    """Every observer grant, revoke and use, newest first (admins)."""
    entries = await server_of(request).observers.audit_log(user, dialogue_id=dialogue_id, before=before, limit=limit)
    return AuditPage(entries=[AuditOut.of(e) for e in entries])


@router.get("/admin/access-log", include_in_schema=False)
async def access_log_page(request: Request, viewer: Viewer = Depends(viewer_checked),
                          dialogue: int | None = Query(None, ge=1, le=MAX_ID),
                          before: int | None = Query(None, ge=1, le=MAX_ID)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    if viewer.user.role != Role.ADMIN:
        raise Forbidden("The access log is for admins.", code="not_admin")
    entries = await server_of(request).observers.audit_log(viewer.user, dialogue_id=dialogue, before=before)
    return render(request, "access/log.html", {"entries": entries, "dialogue": dialogue,
                                               "older": entries[-1].id if len(entries) == 100 else None})


async def _observers_page(request: Request, user: Account, dialogue_id: int, *, status: int = 200,
                          error: str = "") -> Response:
    server = server_of(request)
    observers = await server.observers.of_dialogue(user, dialogue_id)
    d = await server.dialogues.get(user, dialogue_id)
    ctx = {"d": d, "observers": observers, "candidates": await server.observers.candidates(user, dialogue_id),
           "error": error, "done": request.query_params.get("done", "")[:16]}
    return render(request, "access/observers.html", ctx, status=status)


@router.get("/dialogues/{dialogue_id:int}/observers", include_in_schema=False)
async def observers_page(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    return await _observers_page(request, viewer.user, dialogue_id)


@router.post("/dialogues/{dialogue_id:int}/observers", include_in_schema=False)
async def observers_change(request: Request, dialogue_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    action = form_str(form, "action", 16)
    raw = form_str(form, "user_id", 12)
    user_id = int(raw) if raw.isdigit() else 0
    observers = server_of(request).observers
    try:
        if action == "revoke":
            await observers.revoke(viewer.user, dialogue_id, user_id)
        else:
            await observers.grant(viewer.user, dialogue_id, user_id)
    except ClientError as exc:
        return await _observers_page(request, viewer.user, dialogue_id, status=exc.status,
                                     error=lang_of(request).gettext(exc.message))
    return RedirectResponse(f"/dialogues/{dialogue_id}/observers?done=saved", status_code=303)
