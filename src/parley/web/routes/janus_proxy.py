"""/ws/janus: Janus's WebSocket API on Parley's own origin, for the people admitted to one meeting.

Only signalling passes here; media flows between the browser and Janus directly. Each socket is
bound to the meeting named by ``?dialogue=`` when it opens:

    browser --frame--> BrowserGuard (this meeting's room, this person's publisher id) --> Janus
    browser <--------------------------------------------------------------------------- Janus
    bus meeting:<id> --state without them admitted / ended--> socket closed (4403)

Closing the upstream connection makes Janus destroy every session made through it, so a
person the facilitator removes stops receiving media at once, whichever process served them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from parley.bus.base import Subscription
from parley.errors import EngineError
from parley.handlers.meetings import admitted_in, meeting_topic
from parley.media.janus.guard import BrowserGuard, Refused
from parley.web.routes.meetings import MAX_ID
from parley.web.socket import CloseCode, CloseSocket, SocketEndpoint

log = logging.getLogger(__name__)
router = APIRouter()

PROXY_FRAME_MAX = 256 * 1024


class JanusProxy(SocketEndpoint):
    name = "janus-proxy"
    frame_max = PROXY_FRAME_MAX
    subprotocols = ("janus-protocol",)

    async def on_connect(self) -> None:
        # Accepted first, so a refusal carries a close code the page can act on.
        try:
            dialogue_id = int(self.websocket.query_params.get("dialogue", "0"))
        except ValueError:
            dialogue_id = 0
        user = await self.user()
        if user is None:
            raise CloseSocket(CloseCode.UNAUTHENTICATED)
        meetings = self.server.meetings
        scope = await meetings.connections.scope(user, dialogue_id) if 0 < dialogue_id <= MAX_ID else None
        if scope is None:
            raise CloseSocket(CloseCode.FORBIDDEN)
        # The node hosting this meeting now (it may have moved since the page last connected).
        try:
            janus = await meetings.rooms.media_for_dialogue(dialogue_id)
        except EngineError:
            raise CloseSocket(CloseCode.UNAVAILABLE) from None
        # Subscribe before connecting upstream: a removal that lands meanwhile is not missed.
        sub = await self.server.bus.subscribe([meeting_topic(dialogue_id)])
        try:
            self.upstream = await ws_connect(janus.upstream_url, subprotocols=[Subprotocol("janus-protocol")],
                                             max_size=PROXY_FRAME_MAX, proxy=None, open_timeout=5)
        except (OSError, TimeoutError, InvalidHandshake):
            await sub.close()
            raise CloseSocket(CloseCode.UNAVAILABLE) from None
        self.sub = sub
        self.dialogue_id = dialogue_id
        self.user_id = user.id
        self.guard = BrowserGuard(scope)

    async def on_receive(self, text: str) -> None:
        """Browser to Janus, through the guard."""
        try:
            self.guard.check(text)
        except Refused as refused:
            # What was refused, never the frame (it may carry tokens or SDP).
            log.info("janus proxy: user %s refused in meeting %s: %s", self.user_id, self.dialogue_id,
                     refused.reason)
            await self.websocket.send_text(refused.reply())
            return
        try:
            await self.upstream.send(text)
        except ConnectionClosed:
            raise CloseSocket(CloseCode.NORMAL) from None

    async def on_bytes(self, data: bytes) -> None:
        raise CloseSocket(CloseCode.NORMAL)  # Janus speaks JSON text; the proxy ends

    async def on_oversize(self, size: int) -> None:
        raise CloseSocket(CloseCode.NORMAL)

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        return {"down": self._janus_to_browser(), "admission": self._still_admitted()}

    async def on_disconnect(self) -> None:
        await self.sub.close()
        await _close_upstream(self.upstream)

    async def _janus_to_browser(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in self.upstream:
                await self.websocket.send_text(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))

    async def _still_admitted(self) -> None:
        """Ends (closing the socket) once the meeting says this person is no longer inside."""
        await _watch_admission(self.sub, self.dialogue_id, self.user_id)
        raise CloseSocket(CloseCode.FORBIDDEN)


@router.websocket("/ws/janus")
async def janus_proxy(websocket: WebSocket) -> None:
    await JanusProxy(websocket).serve()


async def _watch_admission(sub: Subscription, dialogue_id: int, user_id: int) -> None:
    async for _topic, event in sub:
        kind = event.get("type")
        if kind == "meeting.ended" or (kind == "meeting.state" and not admitted_in(event["state"], user_id)):
            log.info("janus proxy: user %s is no longer in meeting %s, closing", user_id, dialogue_id)
            return


async def _close_upstream(upstream: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed, OSError):
        await upstream.close()
