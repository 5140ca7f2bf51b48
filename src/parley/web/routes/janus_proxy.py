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

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from parley.bus.base import Subscription
from parley.errors import EngineError
from parley.handlers.meetings import admitted_in, meeting_topic
from parley.media.janus.guard import BrowserGuard, Refused
from parley.server import Server
from parley.tasks import until_first_ends
from parley.web.routes.meetings import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, CLOSE_UNAVAILABLE, MAX_ID
from parley.web.routes.workspace import same_origin, socket_user

log = logging.getLogger(__name__)
router = APIRouter()

PROXY_FRAME_MAX = 256 * 1024


@router.websocket("/ws/janus")
async def janus_proxy(websocket: WebSocket) -> None:
    if not same_origin(websocket.headers):
        await websocket.close(code=1008)
        return
    server: Server = websocket.app.state.server
    try:
        dialogue_id = int(websocket.query_params.get("dialogue", "0"))
    except ValueError:
        dialogue_id = 0
    user = await socket_user(server, websocket)
    subprotocol = "janus-protocol" if "janus-protocol" in websocket.scope.get("subprotocols", []) else None
    # Accept first so a refusal carries a close code the page can act on.
    await websocket.accept(subprotocol=subprotocol)
    if user is None:
        await websocket.close(CLOSE_UNAUTHENTICATED)
        return
    scope = await server.meetings.connections.scope(user, dialogue_id) if 0 < dialogue_id <= MAX_ID else None
    if scope is None:
        await websocket.close(CLOSE_FORBIDDEN)
        return
    # The node hosting this meeting now (it may have moved since the page last connected).
    try:
        janus = await server.meetings.rooms.media_for_dialogue(dialogue_id)
    except EngineError:
        await websocket.close(CLOSE_UNAVAILABLE)
        return
    # Subscribe before connecting upstream: a removal that lands meanwhile is not missed.
    sub = await server.bus.subscribe([meeting_topic(dialogue_id)])
    try:
        upstream = await ws_connect(janus.upstream_url, subprotocols=[Subprotocol("janus-protocol")],
                                    max_size=PROXY_FRAME_MAX, proxy=None, open_timeout=5)
    except (OSError, TimeoutError, InvalidHandshake):
        await sub.close()
        await websocket.close(CLOSE_UNAVAILABLE)
        return
    guard = BrowserGuard(scope)
    user_id = user.id

    async def browser_to_janus() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None or len(text) > PROXY_FRAME_MAX:
                return
            try:
                guard.check(text)
            except Refused as refused:
                # What was refused, never the frame (it may carry tokens or SDP).
                log.info("janus proxy: user %s refused in meeting %s: %s", user_id, dialogue_id, refused.reason)
                await websocket.send_text(refused.reply())
                continue
            await upstream.send(text)

    async def janus_to_browser() -> None:
        async for frame in upstream:
            await websocket.send_text(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))

    async def still_admitted() -> None:
        """Returns (closing the socket) once the meeting says this person is no longer inside."""
        await _watch_admission(sub, dialogue_id, user_id)
        with contextlib.suppress(Exception):
            await websocket.close(CLOSE_FORBIDDEN)

    try:
        await until_first_ends({"janus-proxy:up": browser_to_janus(), "janus-proxy:down": janus_to_browser(),
                                "janus-proxy:admission": still_admitted()})
    finally:
        await sub.close()
        await _close_upstream(upstream)
        with contextlib.suppress(Exception):
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(1000)


async def _watch_admission(sub: Subscription, dialogue_id: int, user_id: int) -> None:
    async for _topic, event in sub:
        kind = event.get("type")
        if kind == "meeting.ended" or (kind == "meeting.state" and not admitted_in(event["state"], user_id)):
            log.info("janus proxy: user %s is no longer in meeting %s, closing", user_id, dialogue_id)
            return


async def _close_upstream(upstream: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed, OSError):
        await upstream.close()
