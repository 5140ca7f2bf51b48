"""The organisers' workspace page: team channels and their live messages (the socket is in
`parley.web.routes.workspace`), over the same `parley.handlers.workspace` calls as its JSON API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from parley.errors import ClientError, Forbidden
from parley.handlers.accounts import Account
from parley.handlers.workspace import (
    MAX_PAGE,
    MessageView,
)
from parley.vocabulary import Role
from parley.web.auth import require_staff
from parley.web.routes.workspace import MAX_ID, PathId, workspace_of
from parley.web.templating import render

router = APIRouter()


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _page(
    request: Request,
    user: Account,
    channel_id: int | None = None,
    *,
    before: int | None = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    ws = workspace_of(request)
    ctx: dict[str, Any] = {
        "open": None,
        "page": None,
        "people": await ws.people(user),
        "can_create": user.role in (Role.ADMIN, Role.ORGANISER),
    }
    if channel_id is not None:
        detail = await ws.channel(user, channel_id)
        page = await ws.history(user, channel_id, before=before, limit=50)
        if before is None and page.messages and detail.channel.unread:
            await ws.mark_read(user, channel_id, page.messages[0].id)
        ctx.update(
            open=detail,
            page=page,
            messages=list(reversed(page.messages)),
            before=before,
            member_ids={m.id for m in detail.members},
        )
    channels, total = await ws.list_channels(user)
    ctx.update(channels=channels, total_unread=total)
    ctx.update(extra or {})
    return render(request, "workspace/index.html", ctx, status=status)


@router.get("/workspace", include_in_schema=False)
async def page_index(request: Request, user: Account = Depends(require_staff)) -> Response:
    return await _page(request, user)


@router.get("/workspace/c/{channel_id}", include_in_schema=False)
async def page_channel(
    request: Request,
    channel_id: PathId,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    user: Account = Depends(require_staff),
) -> Response:
    return await _page(request, user, channel_id, before=before)


@router.post("/workspace/c/{channel_id}/messages", include_in_schema=False)
async def page_post(
    request: Request, channel_id: PathId, body: str = Form(""), user: Account = Depends(require_staff)
) -> Response:
    try:
        message = await workspace_of(request).post(user, channel_id, body)
    except ClientError as exc:
        if exc.status not in (422,):
            raise
        return await _page(
            request, user, channel_id, status=exc.status, extra={"draft": body, "form_error": exc.message}
        )
    return _redirect(f"/workspace/c/{channel_id}#m-{message.id}")


@router.get("/workspace/m/{message_id}/edit", include_in_schema=False)
async def page_edit(request: Request, message_id: PathId, user: Account = Depends(require_staff)) -> Response:
    message = await _own_message(request, user, message_id)
    return render(request, "workspace/edit.html", {"message": message, "draft": message.body})


@router.post("/workspace/m/{message_id}/edit", include_in_schema=False)
async def page_edit_save(
    request: Request, message_id: PathId, body: str = Form(""), user: Account = Depends(require_staff)
) -> Response:
    ws = workspace_of(request)
    try:
        message = await ws.edit(user, message_id, body)
    except ClientError as exc:
        if exc.status != 422:
            raise
        original = await _own_message(request, user, message_id)
        return render(
            request,
            "workspace/edit.html",
            {"message": original, "draft": body, "form_error": exc.message},
            status=exc.status,
        )
    return _redirect(f"/workspace/c/{message.channel_id}#m-{message.id}")


@router.post("/workspace/m/{message_id}/delete", include_in_schema=False)
async def page_delete(request: Request, message_id: PathId, user: Account = Depends(require_staff)) -> Response:
    message = await workspace_of(request).delete(user, message_id)
    return _redirect(f"/workspace/c/{message.channel_id}#m-{message.id}")


@router.get("/workspace/browse", include_in_schema=False)
async def page_browse(request: Request, user: Account = Depends(require_staff)) -> Response:
    return await _browse(request, user)


async def _browse(request: Request, user: Account, status: int = 200, extra: dict[str, Any] | None = None) -> Response:
    channels = await workspace_of(request).browse_team_channels(user)
    ctx: dict[str, Any] = {
        "team_channels": channels,
        "can_create": user.role in (Role.ADMIN, Role.ORGANISER),
        "form": {"name": "", "topic": ""},
        "errors": {},
    }
    ctx.update(extra or {})
    return render(request, "workspace/browse.html", ctx, status=status)


@router.post("/workspace/channels", include_in_schema=False)
async def page_create_channel(
    request: Request, name: str = Form(""), topic: str = Form(""), user: Account = Depends(require_staff)
) -> Response:
    try:
        channel = await workspace_of(request).create_team_channel(user, name, topic)
    except ClientError as exc:
        if exc.status not in (409, 422):
            raise
        return await _browse(
            request,
            user,
            status=exc.status,
            extra={"form": {"name": name, "topic": topic}, "errors": {**exc.fields, "_": exc.message}},
        )
    return _redirect(f"/workspace/c/{channel.id}")


@router.post("/workspace/c/{channel_id}/join", include_in_schema=False)
async def page_join(request: Request, channel_id: PathId, user: Account = Depends(require_staff)) -> Response:
    await workspace_of(request).join(user, channel_id)
    return _redirect(f"/workspace/c/{channel_id}")


@router.post("/workspace/c/{channel_id}/leave", include_in_schema=False)
async def page_leave(request: Request, channel_id: PathId, user: Account = Depends(require_staff)) -> Response:
    await workspace_of(request).leave(user, channel_id)
    return _redirect("/workspace")


@router.post("/workspace/c/{channel_id}/members", include_in_schema=False)
async def page_add_member(
    request: Request, channel_id: PathId, user_id: int = Form(0), user: Account = Depends(require_staff)
) -> Response:
    await workspace_of(request).add_members(user, channel_id, [user_id])
    return _redirect(f"/workspace/c/{channel_id}")


@router.post("/workspace/direct", include_in_schema=False)
async def page_direct(request: Request, user_id: int = Form(0), user: Account = Depends(require_staff)) -> Response:
    channel = await workspace_of(request).open_direct(user, user_id)
    return _redirect(f"/workspace/c/{channel.id}")


@router.get("/workspace/notifications", include_in_schema=False)
async def page_notifications(request: Request, user: Account = Depends(require_staff)) -> Response:
    notes, unread = await workspace_of(request).notifications(user, limit=MAX_PAGE)
    return render(request, "workspace/notifications.html", {"notifications": notes, "unread": unread})


@router.post("/workspace/notifications/read", include_in_schema=False)
async def page_notifications_read(request: Request, user: Account = Depends(require_staff)) -> Response:
    await workspace_of(request).mark_notifications_read(user)
    return _redirect("/workspace/notifications")


async def _own_message(request: Request, user: Account, message_id: int) -> MessageView:
    """The message if the user may edit it (via the handler's own checks)."""
    ws = workspace_of(request)
    view = await ws.message(user, message_id)
    if view.author_id != user.id:
        raise Forbidden("You can only edit your own messages.", code="not_author")
    return view
