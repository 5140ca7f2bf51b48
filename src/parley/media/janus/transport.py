"""The channel to the Janus API: one bidirectional stream of JSON messages, and its
WebSocket implementation (subprotocol ``janus-protocol``) with pings that notice a silent peer.
Tests put a fake transport in its place.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from parley.errors import EngineError
from parley.media.janus.messages import JsonObject

log = logging.getLogger(__name__)


class TransportClosed(Exception):
    """The connection to Janus is gone."""

class JanusTransport(ABC):
    """One bidirectional JSON message channel to the Janus API."""

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def send(self, message: JsonObject) -> None:
        """Send one message; raises TransportClosed if the channel is gone."""

    @abstractmethod
    async def receive(self) -> JsonObject:
        """Next message from Janus; raises TransportClosed at the end."""

    @abstractmethod
    async def close(self) -> None: ...


@dataclass(frozen=True)
class Liveness:
    """WebSocket pings that notice a peer gone silent (hung, or its machine gone without closing
    the connection): no pong within ``ping_timeout`` closes the connection, waiting at most
    ``close_timeout`` for the closing handshake. A silent peer is seen gone within about
    ``ping_interval + ping_timeout + close_timeout``. The default is the websockets library's."""

    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    close_timeout: float = 10.0


class WebSocketTransport(JanusTransport):
    def __init__(self, url: str, *, open_timeout: float = 10.0, max_size: int = 4 * 1024 * 1024,
                 headers: Mapping[str, str] | None = None, liveness: Liveness = Liveness()) -> None:
        self.url = url
        # e.g. a session cookie when the URL is Parley's /ws/janus proxy rather than Janus itself
        self._headers = dict(headers or {})
        self._open_timeout = open_timeout
        self._max_size = max_size
        self.liveness = liveness
        self._ws: ClientConnection | None = None

    async def connect(self) -> None:
        try:
            self._ws = await connect(
                self.url,
                subprotocols=[Subprotocol("janus-protocol")],
                additional_headers=self._headers or None,
                open_timeout=self._open_timeout,
                max_size=self._max_size,
                proxy=None,
                ping_interval=self.liveness.ping_interval,
                ping_timeout=self.liveness.ping_timeout,
                close_timeout=self.liveness.close_timeout,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise EngineError(f"cannot connect to janus at {self.url}: {exc}", retryable=True,
                              engine="janus") from exc

    def _socket(self) -> ClientConnection:
        if self._ws is None:
            raise TransportClosed("not connected")
        return self._ws

    async def send(self, message: JsonObject) -> None:
        try:
            await self._socket().send(json.dumps(message))
        except ConnectionClosed as exc:
            raise TransportClosed(str(exc)) from exc

    async def receive(self) -> JsonObject:
        ws = self._socket()
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as exc:
                raise TransportClosed(str(exc)) from exc
            try:
                message = json.loads(raw)
            except ValueError:
                log.warning("janus sent a frame that is not JSON; ignored")
                continue
            if isinstance(message, dict):
                return message
            log.warning("janus sent a JSON %s instead of an object; ignored", type(message).__name__)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
