"""The organisers' workspace: JSON API under /api/v1/workspace and the /ws/workspace socket
(the /workspace pages, plain forms that work without JavaScript, are `parley.web.pages.workspace`).

Routes stay thin: the `Workspace` handler holds every rule; the socket hands each
connection to a `Session` and the process-wide `Hub`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, WebSocket
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketState

from parley.handlers.accounts import Account
from parley.handlers.workspace import (
    MAX_PAGE,
    ChannelDetail,
    ChannelView,
    MessagePage,
    MessageView,
    NotificationView,
    Person,
    ReadState,
    Workspace,
)
from parley.signalling.messages import Error, serialise
from parley.signalling.session import Session
from parley.vocabulary import STAFF_ROLES
from parley.web.auth import require_staff, server_of
from parley.web.schemas import ErrorResponse
from parley.web.socket import CloseCode, CloseSocket, SocketEndpoint

router = APIRouter()

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
TAGS: list[str | Any] = ["workspace"]


# --- API models -----------------------------------------------------------------------------


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not logged in (`login_required`)."},
    403: {
        "model": ErrorResponse,
        "description": "Not staff (`staff_only`), not a member (`not_member`), "
        "not the author (`not_author`), or not an organiser.",
    },
    404: {"model": ErrorResponse, "description": "No such channel or message."},
    409: {"model": ErrorResponse, "description": "Conflicts such as `channel_name_taken` or `message_deleted`."},
    422: {"model": ErrorResponse, "description": "Invalid input (`body_empty`, `body_too_long`, `invalid_limit`...)."},
}


class ChannelList(BaseModel):
    channels: list[ChannelView]
    total_unread: int


class PeopleList(BaseModel):
    people: list[Person]


class UnreadOut(BaseModel):
    total_unread: int
    channels: dict[str, int]


class NotificationList(BaseModel):
    notifications: list[NotificationView]
    unread: int


class NotificationsReadOut(BaseModel):
    unread: int


class CreateChannelIn(BaseModel):
    name: str = Field(max_length=1000)
    topic: str = Field("", max_length=5000)
    member_ids: list[Id] = Field(default_factory=list, max_length=500)


class UpdateChannelIn(BaseModel):
    name: str | None = Field(None, max_length=1000)
    topic: str | None = Field(None, max_length=5000)


class AddMembersIn(BaseModel):
    user_ids: list[Id] = Field(max_length=500)


class DirectIn(BaseModel):
    user_id: Id


class BodyIn(BaseModel):
    body: str = Field(max_length=100_000)


class ReadIn(BaseModel):
    message_id: Id | None = None


class NotificationsReadIn(BaseModel):
    # Omit to mark every notification read.
    ids: list[Id] | None = Field(None, max_length=500)


def workspace_of(request: Request) -> Workspace:
    return server_of(request).workspace


# --- the WebSocket (declared first: routes are matched in order on every connection) ---------


class StarletteConnection:
    """`parley.signalling.session.Connection` over a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive(self) -> str | None:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            text = data.decode("utf-8", errors="replace")
        return str(text)

    async def send(self, text: str) -> None:
        await self.websocket.send_text(text)

    async def close(self, code: int) -> None:
        if self.websocket.application_state == WebSocketState.CONNECTED:
            await self.websocket.close(code)


class WorkspaceSocket(SocketEndpoint):
    """Staff only. The base accepts, authenticates and closes; the `Session` (typed frames of
    `parley.signalling.messages`, answers carrying the request's ``ref``, one writer queue, a
    lagging client closed with 4008) reads the connection itself."""

    name = "workspace-socket"

    async def on_connect(self) -> None:
        user = await self.user()
        if user is None or user.role not in STAFF_ROLES:
            code, close = ("login_required", CloseCode.UNAUTHENTICATED) if user is None else (
                "staff_only", CloseCode.FORBIDDEN)
            error = serialise(Error(ref="", code=code, message="The workspace is for staff only."))
            raise CloseSocket(close, frame=error)
        server = self.server
        self.session = Session(user, server.workspace, server.workspace_hub, StarletteConnection(self.websocket))

    async def receive_loop(self) -> None:
        await self.session.run()


@router.websocket("/ws/workspace")
async def workspace_socket(websocket: WebSocket) -> None:
    await WorkspaceSocket(websocket).serve()


# --- API: channels ----------------------------------------------------------------------------


@router.get("/api/v1/workspace/channels", response_model=ChannelList, tags=TAGS, responses=ERRORS)
async def api_channels(request: Request, user: Account = Depends(require_staff)) -> ChannelList:
    """Your channels (team, dialogue, direct) with unread counts."""
    channels, total = await workspace_of(request).list_channels(user)
    return ChannelList(channels=channels, total_unread=total)


@router.post("/api/v1/workspace/channels", response_model=ChannelView, status_code=201, tags=TAGS, responses=ERRORS)
async def api_create_channel(
    request: Request, data: CreateChannelIn, user: Account = Depends(require_staff)
) -> ChannelView:
    """Create a team channel (organisers and admins); you become a member."""
    return await workspace_of(request).create_team_channel(user, data.name, data.topic, data.member_ids)


@router.get("/api/v1/workspace/team-channels", response_model=ChannelList, tags=TAGS, responses=ERRORS)
async def api_team_channels(request: Request, user: Account = Depends(require_staff)) -> ChannelList:
    """Every team channel, joined or not: staff may join any."""
    channels = await workspace_of(request).browse_team_channels(user)
    return ChannelList(channels=channels, total_unread=sum(c.unread for c in channels))


@router.get("/api/v1/workspace/channels/{channel_id}", response_model=ChannelDetail, tags=TAGS, responses=ERRORS)
async def api_channel(request: Request, channel_id: PathId, user: Account = Depends(require_staff)) -> ChannelDetail:
    return await workspace_of(request).channel(user, channel_id)


@router.patch("/api/v1/workspace/channels/{channel_id}", response_model=ChannelView, tags=TAGS, responses=ERRORS)
async def api_update_channel(
    request: Request, channel_id: PathId, data: UpdateChannelIn, user: Account = Depends(require_staff)
) -> ChannelView:
    """Rename a team channel or change its topic (organisers and admins)."""
    return await workspace_of(request).update_team_channel(user, channel_id, name=data.name, topic=data.topic)


@router.post("/api/v1/workspace/channels/{channel_id}/join", response_model=ChannelView, tags=TAGS, responses=ERRORS)
async def api_join(request: Request, channel_id: PathId, user: Account = Depends(require_staff)) -> ChannelView:
    return await workspace_of(request).join(user, channel_id)


@router.post("/api/v1/workspace/channels/{channel_id}/leave", status_code=204, tags=TAGS, responses=ERRORS)
async def api_leave(request: Request, channel_id: PathId, user: Account = Depends(require_staff)) -> Response:
    await workspace_of(request).leave(user, channel_id)
    return Response(status_code=204)


@router.post("/api/v1/workspace/channels/{channel_id}/members", response_model=PeopleList, tags=TAGS, responses=ERRORS)
async def api_add_members(
    request: Request, channel_id: PathId, data: AddMembersIn, user: Account = Depends(require_staff)
) -> PeopleList:
    """Add staff to a team channel (organisers and admins); returns who was newly added."""
    return PeopleList(people=await workspace_of(request).add_members(user, channel_id, data.user_ids))


@router.post("/api/v1/workspace/direct", response_model=ChannelView, tags=TAGS, responses=ERRORS)
async def api_direct(request: Request, data: DirectIn, user: Account = Depends(require_staff)) -> ChannelView:
    """The direct channel between you and another staff member (created on first use)."""
    return await workspace_of(request).open_direct(user, data.user_id)


@router.get("/api/v1/workspace/people", response_model=PeopleList, tags=TAGS, responses=ERRORS)
async def api_people(request: Request, user: Account = Depends(require_staff)) -> PeopleList:
    """Staff you can message or add to a channel."""
    return PeopleList(people=await workspace_of(request).people(user))


# --- API: messages ----------------------------------------------------------------------------


@router.get("/api/v1/workspace/channels/{channel_id}/messages", response_model=MessagePage, tags=TAGS, responses=ERRORS)
async def api_history(
    request: Request,
    channel_id: PathId,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Newest first, below this id.")] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Oldest first, above this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    user: Account = Depends(require_staff),
) -> MessagePage:
    """History: newest first (page with ``before``), or missed messages oldest first (``after``)."""
    return await workspace_of(request).history(user, channel_id, before=before, after=after, limit=limit)


@router.post(
    "/api/v1/workspace/channels/{channel_id}/messages",
    response_model=MessageView,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
async def api_post(
    request: Request, channel_id: PathId, data: BodyIn, user: Account = Depends(require_staff)
) -> MessageView:
    """Post plain text (1 to 4000 characters); ``@name`` mentions notify channel members."""
    return await workspace_of(request).post(user, channel_id, data.body)


@router.patch("/api/v1/workspace/messages/{message_id}", response_model=MessageView, tags=TAGS, responses=ERRORS)
async def api_edit(
    request: Request, message_id: PathId, data: BodyIn, user: Account = Depends(require_staff)
) -> MessageView:
    """Edit your own message."""
    return await workspace_of(request).edit(user, message_id, data.body)


@router.delete("/api/v1/workspace/messages/{message_id}", response_model=MessageView, tags=TAGS, responses=ERRORS)
async def api_delete(request: Request, message_id: PathId, user: Account = Depends(require_staff)) -> MessageView:
    """Delete your own message (organisers and admins: any in team and dialogue channels)."""
    return await workspace_of(request).delete(user, message_id)


@router.post("/api/v1/workspace/channels/{channel_id}/read", response_model=ReadState, tags=TAGS, responses=ERRORS)
async def api_mark_read(
    request: Request, channel_id: PathId, data: ReadIn | None = None, user: Account = Depends(require_staff)
) -> ReadState:
    """Mark the channel read up to ``message_id`` (default: everything)."""
    return await workspace_of(request).mark_read(user, channel_id, data.message_id if data else None)


@router.get("/api/v1/workspace/unread", response_model=UnreadOut, tags=TAGS, responses=ERRORS)
async def api_unread(request: Request, user: Account = Depends(require_staff)) -> UnreadOut:
    """The total unread badge, and the count per channel."""
    channels, total = await workspace_of(request).list_channels(user)
    return UnreadOut(total_unread=total, channels={str(c.id): c.unread for c in channels})


@router.get("/api/v1/workspace/notifications", response_model=NotificationList, tags=TAGS, responses=ERRORS)
async def api_notifications(
    request: Request,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    user: Account = Depends(require_staff),
) -> NotificationList:
    notes, unread = await workspace_of(request).notifications(user, unread_only=unread_only, limit=limit)
    return NotificationList(notifications=notes, unread=unread)


@router.post("/api/v1/workspace/notifications/read", response_model=NotificationsReadOut, tags=TAGS, responses=ERRORS)
async def api_notifications_read(
    request: Request, data: NotificationsReadIn | None = None, user: Account = Depends(require_staff)
) -> NotificationsReadOut:
    unread = await workspace_of(request).mark_notifications_read(user, data.ids if data else None)
    return NotificationsReadOut(unread=unread)
