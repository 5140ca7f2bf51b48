"""The base of every WebSocket endpoint: one place for what each socket used to write by hand.

    handshake: same origin? --no--> close 1008 (before accept)
               before_accept()      (e.g. a bearer secret; CloseSocket refuses the handshake)
               accept (with a subprotocol the client offered and the endpoint speaks)
               on_connect()         (who the user is, what they may see; CloseSocket -> frame + code)
    serving:   receive loop ---text---> size cap -> on_receive(): JSON object -> typed frame
                                                    ping -> pong here; the rest -> on_frame()
               background()         (e.g. a push loop from the bus), run beside the receive loop
    end:       the first of them to end cancels and awaits the others; on_disconnect();
               a final close with the code of `ending` that never raises

Modelled on Starlette's `WebSocketEndpoint` (on_connect / on_receive / on_disconnect). A hook
ends the socket by raising `CloseSocket`; a bad frame from the client is answered with an
error frame (``{"type": "error", "code": ..., "message": ...}``) and the socket stays open.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Coroutine, Mapping
from enum import IntEnum
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect, WebSocketState

from parley.handlers.accounts import Account
from parley.server import Server
from parley.tasks import until_first_ends
from parley.web.auth import SESSION_COOKIE

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0


class CloseCode(IntEnum):
    """Every close code a Parley socket sends, by name (the pages act on 4401 and 4403)."""

    NORMAL = 1000
    POLICY = 1008  # cross-site origin, a bad worker secret or hello
    INTERNAL = 1011  # the server failed (logged)
    UNAVAILABLE = 1013  # Janus or the meeting's media node cannot be reached; try again
    LAGGING = 4008  # a workspace client too slow to keep up (sent by `parley.signalling.session`)
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    DUPLICATE = 4409  # a worker of that name is connected already (`interpretation.protocol`)


class CloseSocket(Exception):
    """Raised by a hook to end the socket: ``frame`` (if any) is sent first, then the close."""

    def __init__(self, code: CloseCode, *, frame: Mapping[str, Any] | str | None = None, reason: str = "") -> None:
        super().__init__(code.name)
        self.code = code
        self.frame = frame
        self.reason = reason


class FrameError(Exception):
    """A client frame the socket cannot take; answered with an error frame, the socket stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class InFrame(BaseModel):
    """A typed frame from the client: a JSON object whose ``type`` names its class."""

    model_config = ConfigDict(frozen=True)

    type: str


class Ping(InFrame):
    type: Literal["ping"] = "ping"


FrameTypes = Mapping[str, type[InFrame]]


def parse_frame(text: str, types: FrameTypes) -> InFrame:
    """The typed frame in ``text``, or `FrameError` saying what is wrong with it."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("bad_frame", "a frame is one JSON object") from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "a frame is one JSON object")
    kind = data.get("type")
    cls = types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise FrameError("unknown_type", "unknown frame type")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise FrameError("bad_frame", f"{kind}: {where}: {first['msg']}") from None


def same_origin(headers: Headers) -> bool:
    """Block cross-site WebSocket hijacking: a browser's Origin must name this host.

    Non-browser clients send no Origin and authenticate like any API client.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def socket_user(server: Server, websocket: WebSocket) -> Account | None:
    """The user behind a socket: an API token (``Authorization: Bearer``) or the session cookie."""
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await server.accounts.resolve_api_token(header[7:].strip())
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    session = await server.accounts.resolve_session(cookie)
    return session.user if session is not None else None


def dumps(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


class SocketEndpoint:
    """One connection. Subclass, set the class settings, override the hooks, and call `serve()`
    from the route."""

    name: ClassVar[str] = "socket"
    frame_max: ClassVar[int] = 64 * 1024
    frames: ClassVar[FrameTypes] = {}  # besides ping, which the base answers
    subprotocols: ClassVar[tuple[str, ...]] = ()

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.server: Server = websocket.app.state.server
        self.ending = CloseSocket(CloseCode.NORMAL)  # how the socket closes once its loops stop
        self._types: FrameTypes = {"ping": Ping, **self.frames}

    # --- hooks ------------------------------------------------------------------------------

    async def before_accept(self) -> None:
        """Checks made before the handshake completes; `CloseSocket` refuses it."""

    async def on_connect(self) -> None:
        """After accept: who is this, what may they see; `CloseSocket` sends its frame and closes."""

    async def on_receive(self, text: str) -> None:
        """A text frame within the size cap. By default: parsed into a typed frame; ping answered."""
        frame = parse_frame(text, self._types)
        if isinstance(frame, Ping):
            await self.send(self.pong(frame))
        else:
            await self.on_frame(frame)

    async def on_frame(self, frame: InFrame) -> None:
        """A typed frame of one of `frames`."""
        raise FrameError("unknown_type", "unknown frame type")

    async def on_bytes(self, data: bytes) -> None:
        raise FrameError("bad_frame", "frames are JSON text")

    async def on_oversize(self, size: int) -> None:
        raise FrameError("frame_too_large", f"a frame is at most {self.frame_max} characters")

    def pong(self, ping: Ping) -> dict[str, Any]:
        return {"type": "pong"}

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        """Coroutines to run beside the receive loop, by name; the first to end ends the socket."""
        return {}

    async def on_disconnect(self) -> None:
        """After the loops have stopped (only when `on_connect` succeeded); release what it took."""

    # --- helpers ----------------------------------------------------------------------------

    async def user(self) -> Account | None:
        return await socket_user(self.server, self.websocket)

    async def send(self, frame: Mapping[str, Any]) -> None:
        await self.websocket.send_text(dumps(frame))

    async def send_error(self, code: str, message: str) -> None:
        await self.send({"type": "error", "code": code, "message": message})

    async def receive_text(self) -> str:
        """One text frame within the cap (for a handshake such as a worker's hello)."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", CloseCode.NORMAL))
        text = message.get("text")
        if text is None:
            raise FrameError("bad_frame", "frames are text")
        if len(text) > self.frame_max:
            raise FrameError("frame_too_large", f"a frame is at most {self.frame_max} characters")
        return str(text)

    async def receive_loop(self) -> None:
        """Read frames until the peer goes. An endpoint whose protocol object reads for itself
        (the workspace's `Session`) replaces this."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                if text is None:
                    await self.on_bytes(message.get("bytes") or b"")
                elif len(text) > self.frame_max:
                    await self.on_oversize(len(text))
                else:
                    await self.on_receive(text)
            except FrameError as exc:
                await self.send_error(exc.code, exc.message)

    # --- the connection ---------------------------------------------------------------------

    async def serve(self) -> None:
        if not same_origin(self.websocket.headers):
            await self._close(CloseCode.POLICY)
            return
        try:
            await self.before_accept()
        except CloseSocket as refused:
            await self._close(refused.code, refused.reason)
            return
        offered = self.websocket.scope.get("subprotocols", [])
        await self.websocket.accept(subprotocol=next((p for p in self.subprotocols if p in offered), None))
        try:
            await self.on_connect()
        except CloseSocket as refused:
            await self._end(refused)
            return
        except Exception:
            log.exception("%s: connecting failed", self.name)
            await self._close(CloseCode.INTERNAL)
            return
        try:
            await self._run()
        finally:
            try:
                await self.on_disconnect()
            except Exception:
                log.exception("%s: cleaning up failed", self.name)
            await self._end(self.ending)

    async def _run(self) -> None:
        named = {"receive": self.receive_loop(), **self.background()}
        ended = await until_first_ends({f"{self.name}:{name}": coro for name, coro in named.items()}, STOP_GRACE_S)
        for name, exc in ended.items():
            if isinstance(exc, CloseSocket):
                self.ending = exc
            elif isinstance(exc, WebSocketDisconnect | OSError):
                log.debug("%s: the peer went away (%s)", name, exc.__class__.__name__)
            else:
                log.error("task %s failed", name, exc_info=exc)
                self.ending = CloseSocket(CloseCode.INTERNAL)

    async def _end(self, refused: CloseSocket) -> None:
        """Send the closing frame (if any) and close; never raises."""
        if refused.frame is not None:
            text = refused.frame if isinstance(refused.frame, str) else dumps(refused.frame)
            with contextlib.suppress(Exception):
                await self.websocket.send_text(text)
        await self._close(refused.code, refused.reason)

    async def _close(self, code: CloseCode, reason: str = "") -> None:
        """Close unless already closed; never raises (the peer may be gone)."""
        if self.websocket.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await self.websocket.close(code, reason or None)
        except Exception as exc:  # the peer went first
            log.debug("%s: close %s not sent (%s)", self.name, int(code), exc.__class__.__name__)
