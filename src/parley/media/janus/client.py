"""Janus API client (WebSocket transport, subprotocol ``janus-protocol``).

One reader task owns the socket. Every request carries a fresh ``transaction``; its future is
resolved by the final reply (``success``, ``error``, or for asynchronous plugin requests the
``event`` that follows the ``ack``). Messages that answer no pending request are events: they
go to the handle named by ``sender`` (a bounded queue plus callbacks), or to the session.
Each session sends a ``keepalive`` every ~25 s because Janus drops idle sessions after 60 s.

A timed-out request raises ``EngineError(retryable=True)``; a lost connection fails every
pending request the same way and ends all sessions (Janus destroys them with the socket), so
the owner builds a new client. ``close()`` destroys the sessions, cancels and awaits every task.
Requests and events are never logged with their bodies: they carry secrets and chat text.

The parts, one module per object (the names are importable from here as before):

    client.py     JanusClient: the connection, transactions, the reader that dispatches
    session.py    JanusSession: handles, keepalive, session-level events
    handle.py     JanusHandle: plugin messages, trickle, hangup, detach, its events
    events.py     EventSink: a bounded event queue plus callbacks
    transport.py  JanusTransport and WebSocketTransport (with Liveness)
    messages.py   JanusEvent, PluginResponse, JanusError, JanusPluginError, JsonObject
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parley.clock import Clock, SystemClock
from parley.errors import EngineError
from parley.media.janus.events import EventCallback
from parley.media.janus.handle import JanusHandle
from parley.media.janus.messages import (
    HANDLE_NOT_FOUND,
    SESSION_NOT_FOUND,
    JanusError,
    JanusEvent,
    JanusPluginError,
    JsonObject,
    PluginResponse,
)
from parley.media.janus.session import JanusSession
from parley.media.janus.transport import JanusTransport, Liveness, TransportClosed, WebSocketTransport
from parley.tasks import TaskOwner

__all__ = [
    "HANDLE_NOT_FOUND",
    "SESSION_NOT_FOUND",
    "EventCallback",
    "JanusClient",
    "JanusError",
    "JanusEvent",
    "JanusHandle",
    "JanusPluginError",
    "JanusSession",
    "JanusTransport",
    "JsonObject",
    "Liveness",
    "PluginResponse",
    "TransportClosed",
    "WebSocketTransport",
]

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    future: asyncio.Future[JsonObject]
    ack_is_final: bool
    acked: bool = False


class JanusClient:
    def __init__(
        self,
        transport: JanusTransport,
        *,
        clock: Clock | None = None,
        api_secret: str = "",
        token: str = "",
        request_timeout: float = 10.0,
        keepalive_interval: float = 25.0,
        event_queue_size: int = 256,
    ) -> None:
        self._transport = transport
        self._clock = clock or SystemClock()
        self._api_secret = api_secret
        self._token = token
        self.request_timeout = request_timeout
        self.keepalive_interval = keepalive_interval
        self.event_queue_size = event_queue_size
        self._tasks = TaskOwner("janus-client")
        self._pending: dict[str, _Pending] = {}
        self._sessions: dict[int, JanusSession] = {}
        self._connected = False
        self._closing = False
        self._refusing = False
        self._closed = asyncio.Event()
        self._disconnect_callbacks: list[Callable[[], None]] = []

    @classmethod
    def over_websocket(cls, url: str, *, headers: Mapping[str, str] | None = None, liveness: Liveness = Liveness(),
                       **kwargs: Any) -> JanusClient:
        return cls(WebSocketTransport(url, headers=headers, liveness=liveness), **kwargs)

    # --- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._connected or self._closing:
            raise RuntimeError("JanusClient.connect() may be called once")
        await self._transport.connect()
        self._connected = True
        self._tasks.spawn("reader", self._read_loop())

    async def close(self) -> None:
        """Destroy our sessions (best effort), then stop every task and close the socket."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        if self._connected and not self._closed.is_set():
            for session in list(self._sessions.values()):
                with contextlib.suppress(EngineError):
                    await session.destroy()
        self._refusing = True
        await self._tasks.stop()
        with contextlib.suppress(Exception):
            await self._transport.close()
        self._fail_pending("janus client closed")
        for session in list(self._sessions.values()):
            session._gone()
        self._sessions.clear()
        self._closed.set()

    async def __aenter__(self) -> JanusClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        """Called once when the connection drops without `close()` (Janus died or restarted)."""
        self._disconnect_callbacks.append(callback)

    @property
    def sessions(self) -> Mapping[int, JanusSession]:
        return self._sessions

    # --- requests --------------------------------------------------------------------------

    async def info(self) -> JsonObject:
        return await self._call("info")

    async def create_session(self) -> JanusSession:
        reply = await self._call("create")
        session_id = reply.get("data", {}).get("id")
        if not isinstance(session_id, int):
            raise EngineError("janus create: reply without a session id", retryable=True, engine="janus")
        session = JanusSession(self, session_id)
        self._sessions[session_id] = session
        session._keepalive_task = self._tasks.spawn(f"keepalive:{session_id}", session._keepalive_loop())
        log.debug("janus session %d created", session_id)
        return session

    async def _call(
        self,
        kind: str,
        body: Mapping[str, Any] | None = None,
        *,
        ack_is_final: bool = False,
    ) -> JsonObject:
        """Send one request and wait for its final reply; raises JanusError on ``error``."""
        if self._refusing or self._closed.is_set() or not self._connected:
            raise EngineError("janus connection is closed", retryable=True, engine="janus")
        transaction = secrets.token_hex(12)
        message: JsonObject = {"janus": kind, "transaction": transaction}
        if body:
            message.update(body)
        if self._api_secret:
            message["apisecret"] = self._api_secret
        if self._token:
            message["token"] = self._token
        future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future, ack_is_final)
        timer = asyncio.create_task(self._clock.sleep(self.request_timeout), name=f"janus-timeout:{kind}")
        try:
            await self._transport.send(message)
            waiters: set[asyncio.Future[Any]] = {future, timer}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        except TransportClosed as exc:
            raise EngineError("janus connection lost", retryable=True, engine="janus") from exc
        finally:
            timer.cancel()
            self._pending.pop(transaction, None)
        if not future.done():
            future.cancel()
            raise EngineError(f"janus {kind}: no reply within {self.request_timeout:.0f}s",
                              retryable=True, engine="janus")
        reply = future.result()
        if reply.get("janus") == "error":
            error = reply.get("error") or {}
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown error")))
        return reply

    # --- reading ---------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                message = await self._transport.receive()
                self._dispatch(message)
        except TransportClosed:
            pass
        if self._closing:
            return
        log.warning("janus connection lost")
        self._fail_pending("janus connection lost")
        for session in list(self._sessions.values()):
            session._gone()
        self._sessions.clear()
        self._closed.set()
        for callback in self._disconnect_callbacks:
            try:
                callback()
            except Exception:
                log.exception("janus on_disconnect callback failed")

    def _dispatch(self, message: JsonObject) -> None:
        kind = message.get("janus")
        transaction = message.get("transaction")
        pending = self._pending.get(transaction) if isinstance(transaction, str) else None
        if pending is not None and not pending.future.done():
            if kind == "ack" and not pending.ack_is_final:
                pending.acked = True
                return
            if kind in ("ack", "success", "error", "event", "server_info", "pong"):
                pending.future.set_result(message)
                return
        if kind in ("ack", "success", "error", "server_info", "pong"):
            # A late reply to a request that already timed out or was cancelled.
            return
        event = JanusEvent.parse(message)
        session = self._sessions.get(event.session_id) if event.session_id is not None else None
        if session is None:
            log.debug("janus %s for unknown session %s dropped", kind, event.session_id)
            return
        if kind == "timeout":
            log.warning("janus session %d timed out", session.id)
            self._sessions.pop(session.id, None)
            session._gone()
            session._deliver(event)
            return
        handle = session._handles.get(event.sender) if event.sender is not None else None
        if handle is None:
            session._deliver(event)
            return
        handle._deliver(event)
        if kind == "detached":
            session._handles.pop(handle.id, None)
            handle._gone()

    def _fail_pending(self, reason: str) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(EngineError(reason, retryable=True, engine="janus"))
        self._pending.clear()
