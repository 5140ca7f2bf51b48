"""The meeting socket /ws/meetings/<dialogue id>: pushes the meeting's state as this viewer may
see it, chat, captions in the language the page reads, engine health and the meeting's end.

Who sees which caption is the domain's rule (`CaptionLine.visible_to`, `visible_state`); this
module only carries frames (the socket base is `parley.web.socket`).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Literal

from fastapi import APIRouter, WebSocket
from pydantic import Field

from parley.errors import ClientError
from parley.handlers.interpretation import CaptionLine
from parley.handlers.meetings import meeting_topic, visible_state
from parley.vocabulary import AttendeeRole
from parley.web.socket import CloseCode, CloseSocket, InFrame, SocketEndpoint

router = APIRouter()


class CaptionsIn(InFrame):
    """The one language this page reads captions in (null: originals only)."""

    type: Literal["captions"]
    language: str | None = Field(None, min_length=1, max_length=16)


class MeetingSocket(SocketEndpoint):
    """Pushes ``state`` (the meeting as this viewer sees it), ``chat``, ``ended``, ``media_restarted``,
    ``caption`` and ``interpretation`` (engine health) to the people inside; reads ``ping`` and
    ``captions``."""

    name = "meeting-socket"
    frame_max = 1024
    frames = {"captions": CaptionsIn}

    def __init__(self, websocket: WebSocket, dialogue_id: int) -> None:
        super().__init__(websocket)
        self.dialogue_id = dialogue_id
        self.meetings = self.server.meetings

    async def on_connect(self) -> None:
        user = await self.user()
        if user is None:
            raise CloseSocket(CloseCode.UNAUTHENTICATED)
        try:
            access = await self.meetings.access(user, self.dialogue_id)
            self.state = await self.meetings.state(user, self.dialogue_id)
        except ClientError as exc:
            raise CloseSocket(CloseCode.FORBIDDEN,
                              frame={"type": "error", "code": exc.code, "message": exc.message}) from None
        self.viewer = user
        self.host = access.role == AttendeeRole.HOST
        self.sub = await self.server.bus.subscribe([meeting_topic(self.dialogue_id)])
        self.version: int = self.state["version"]
        self.you: dict[str, Any] | None = self.state["you"]
        # Captions: every original line, and translations into the one language this page reads.
        self.reading: str | None = None

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {f"push:{self.dialogue_id}": self._push()}

    async def on_frame(self, frame: InFrame) -> None:
        if isinstance(frame, CaptionsIn):
            self.reading = frame.language

    async def on_disconnect(self) -> None:
        await self.sub.close()
        if self.you is not None and self.you.get("status") == "admitted":
            await self.meetings.attendance.socket_closed(self.viewer, self.dialogue_id)

    def _inside(self) -> bool:
        return self.host or (self.you is not None and self.you.get("status") == "admitted")

    async def _fresh_state(self) -> None:
        fresh = await self.meetings.state(self.viewer, self.dialogue_id)
        self.version, self.you = fresh["version"], fresh["you"]
        await self.send({"type": "state", "state": fresh})

    async def _push(self) -> None:
        await self.send({"type": "state", "state": self.state})
        dropped = 0
        async for _topic, event in self.sub:
            kind = event.get("type")
            if self.sub.dropped != dropped:  # we lagged: start again from the database
                dropped = self.sub.dropped
                await self._fresh_state()
            if kind == "meeting.state":
                view = visible_state(event["state"], user_id=self.viewer.id, host=self.host)
                if view["version"] < self.version:
                    continue
                self.version, self.you = view["version"], view["you"]
                await self.send({"type": "state", "state": view})
            elif kind == "meeting.opened":
                await self._fresh_state()
            elif kind == "meeting.chat" and self._inside():
                await self.send({"type": "chat", "message": event["message"]})
            elif kind == "meeting.ended":
                await self.send({"type": "ended", "summary": event["summary"] if self.host else []})
            elif kind == "meeting.media_restarted":
                await self.send({"type": "media_restarted"})
            elif kind == "meeting.recording" and self.host:
                await self.send({"type": "recordings"})
            elif kind == "caption" and self._inside():
                line = CaptionLine.from_dict(event["caption"])
                if line.visible_to(self.reading):
                    await self.send({"type": "caption", "caption": line.to_dict()})
            elif kind == "interpretation" and self._inside():
                await self.send({"type": "interpretation", "health": event["health"]})


@router.websocket("/ws/meetings/{dialogue_id}")
async def meeting_socket(websocket: WebSocket, dialogue_id: int) -> None:
    await MeetingSocket(websocket, dialogue_id).serve()
