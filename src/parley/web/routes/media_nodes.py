"""Media nodes over HTTP (admins): the JSON API under /api/v1/admin/nodes and the page
/admin/nodes with each node's state, load and meetings and its Drain / Undrain buttons.

The rules live in `parley.handlers.media_nodes`; routes translate HTTP to its calls.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from parley.errors import ClientError, Forbidden
from parley.handlers.accounts import Account
from parley.vocabulary import Role
from parley.web.auth import Viewer, require_user, server_of, viewer_checked
from parley.web.forms import form_str, login_redirect
from parley.web.schemas import ViewOut, error_docs
from parley.web.templating import lang_of, render

router = APIRouter()

TAGS: list[str | Enum] = ["media nodes"]
MAX_ID = 2**31 - 1
NodeId = Path(ge=1, le=MAX_ID, description="The media node.")

errors = error_docs({
    401: "Not logged in (`login_required`).",
    403: "Media nodes are for admins (`not_admin`).",
    404: "No such media node (`node_not_found`).",
    409: "The node is removed (`node_removed`), or still hosts open meetings (`node_busy`).",
})


class HostedMeetingOut(ViewOut):
    meeting_id: int
    dialogue_id: int
    title: str


class NodeOut(ViewOut):
    id: int
    name: str
    state: Literal["active", "draining", "removed"]
    availability: str = Field(description="`ok`, or why it takes no new meeting: `draining`, `removed`, `stale`, "
                                          "`rooms_full`, `participants_full`, `cpu_busy` (a soft limit).")
    supervised: bool = Field(description="A `parley media-node` runs it and reports its load.")
    ws_url: str
    admin_url: str
    advertise: str
    max_rooms: int = Field(description="0: no limit.")
    max_participants: int = Field(description="0: no limit.")
    rooms: int
    participants: int
    cpu_load: float = Field(description="One-minute load average per core.")
    last_seen: datetime | None = Field(description="Null: never seen, or stopped cleanly.")
    secrets: str = Field(description="Masked: enough to tell two apart, never enough to use.")
    meetings: list[HostedMeetingOut]


class NodeList(BaseModel):
    nodes: list[NodeOut]


@router.get("/api/v1/admin/nodes", response_model=NodeList, tags=TAGS, responses=errors(401, 403))
async def nodes(request: Request, user: Account = Depends(require_user),
                all: bool = Query(False, description="Removed nodes too.")) -> NodeList:
    """Every media node: state, load, last report and the open meetings it hosts (admins)."""
    views = await server_of(request).media_nodes.nodes(user, include_removed=all)
    return NodeList(nodes=[NodeOut.of(n) for n in views])


@router.get("/api/v1/admin/nodes/{node_id}", response_model=NodeOut, tags=TAGS, responses=errors(401, 403, 404))
async def node(request: Request, node_id: int = NodeId, user: Account = Depends(require_user)) -> NodeOut:
    return NodeOut.of(await server_of(request).media_nodes.get(user, node_id))


@router.post("/api/v1/admin/nodes/{node_id}/drain", response_model=NodeOut, tags=TAGS,
             responses=errors(401, 403, 404, 409))
async def drain(request: Request, node_id: int = NodeId, user: Account = Depends(require_user)) -> NodeOut:
    """No new meetings on this node; the running ones finish there."""
    return NodeOut.of(await server_of(request).media_nodes.drain(user, node_id))


@router.post("/api/v1/admin/nodes/{node_id}/undrain", response_model=NodeOut, tags=TAGS,
             responses=errors(401, 403, 404, 409))
async def undrain(request: Request, node_id: int = NodeId, user: Account = Depends(require_user)) -> NodeOut:
    """The node takes new meetings again."""
    return NodeOut.of(await server_of(request).media_nodes.undrain(user, node_id))


@router.delete("/api/v1/admin/nodes/{node_id}", response_model=NodeOut, tags=TAGS,
               responses=errors(401, 403, 404, 409))
async def remove(request: Request, node_id: int = NodeId, user: Account = Depends(require_user),
                 force: bool = Query(False, description="Even while it hosts open meetings.")) -> NodeOut:
    """Take the node out (kept in the list of removed nodes; its media node can register it again)."""
    return NodeOut.of(await server_of(request).media_nodes.remove(user, node_id, force=force))


async def _page(request: Request, user: Account, *, status: int = 200, error: str = "") -> Response:
    views = await server_of(request).media_nodes.nodes(user)
    return render(request, "media_nodes/list.html", {"nodes": views, "error": error,
                                                     "done": request.query_params.get("done", "")[:16]},
                  status=status)


@router.get("/admin/nodes", include_in_schema=False)
async def nodes_page(request: Request, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    if viewer.user.role != Role.ADMIN:
        raise Forbidden("Media nodes are managed by admins.", code="not_admin")
    return await _page(request, viewer.user)


@router.post("/admin/nodes/{node_id:int}", include_in_schema=False)
async def nodes_change(request: Request, node_id: int, viewer: Viewer = Depends(viewer_checked)) -> Response:
    if viewer.user is None:
        return login_redirect(request)
    form = await request.form()
    action = form_str(form, "action", 16)
    media_nodes = server_of(request).media_nodes
    try:
        if action == "undrain":
            await media_nodes.undrain(viewer.user, node_id)
        else:
            await media_nodes.drain(viewer.user, node_id)
    except ClientError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _page(request, viewer.user, status=exc.status, error=lang_of(request).gettext(exc.message))
    return RedirectResponse("/admin/nodes?done=saved", status_code=303)
