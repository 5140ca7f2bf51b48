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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from parley.clock import Clock, SystemClock
from parley.errors import EngineError
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
EventCallback = Callable[["JanusEvent"], None]

# Janus core error codes after which the same request can succeed later.
_RETRYABLE_CODES = frozenset({450, 472, 490})  # transport specific, not accepting sessions, unknown
SESSION_NOT_FOUND = 458
HANDLE_NOT_FOUND = 459


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


class JanusError(EngineError):
    """Janus refused a request (``{"janus": "error"}``); ``code`` is Janus's error code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}", retryable=code in _RETRYABLE_CODES, engine="janus")
        self.code = code
        self.reason = reason


class JanusPluginError(EngineError):
    """A plugin refused a request (``error_code`` in its reply), e.g. 426 no such room."""

    def __init__(self, plugin: str, code: int, reason: str, data: JsonObject) -> None:
        super().__init__(f"{plugin} error {code}: {reason}", retryable=False, engine="janus")
        self.plugin = plugin
        self.code = code
        self.reason = reason
        self.data = data


@dataclass(frozen=True)
class JanusEvent:
    """A message Janus sent on its own: plugin event, webrtcup, media, hangup, detached, ..."""

    janus: str
    session_id: int | None
    sender: int | None
    plugin: str | None
    data: JsonObject
    jsep: JsonObject | None
    transaction: str | None
    raw: JsonObject = field(repr=False)

    @classmethod
    def parse(cls, message: JsonObject) -> JanusEvent:
        plugindata = message.get("plugindata")
        plugin = data = None
        if isinstance(plugindata, dict):
            plugin = plugindata.get("plugin")
            data = plugindata.get("data")
        jsep = message.get("jsep")
        return cls(
            janus=str(message.get("janus", "")),
            session_id=_int_or_none(message.get("session_id")),
            sender=_int_or_none(message.get("sender")),
            plugin=plugin if isinstance(plugin, str) else None,
            data=data if isinstance(data, dict) else {},
            jsep=jsep if isinstance(jsep, dict) else None,
            transaction=message.get("transaction") if isinstance(message.get("transaction"), str) else None,
            raw=message,
        )


@dataclass(frozen=True)
class PluginResponse:
    data: JsonObject
    jsep: JsonObject | None
    # True when the reply came as an asynchronous event after an ack (join, configure, ...).
    asynchronous: bool


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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


class _EventSink:
    """A bounded event queue plus callbacks; the oldest event goes when a slow reader lags."""

    def __init__(self, size: int, label: str) -> None:
        self._queue: asyncio.Queue[JanusEvent] = asyncio.Queue(maxsize=size)
        self._callbacks: list[EventCallback] = []
        self._label = label
        self.dropped = 0

    def deliver(self, event: JanusEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("janus event callback failed on %s", self._label)
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("janus events dropped on %s (%d so far)", self._label, self.dropped)
        self._queue.put_nowait(event)

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    async def next(self) -> JanusEvent:
        return await self._queue.get()

    def pending(self) -> list[JanusEvent]:
        events = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events


class JanusSession:
    def __init__(self, client: JanusClient, session_id: int) -> None:
        self.client = client
        self.id = session_id
        self._handles: dict[int, JanusHandle] = {}
        self._events = _EventSink(client.event_queue_size, f"session {session_id}")
        self._keepalive_task: asyncio.Task[Any] | None = None
        self._alive = True

    @property
    def alive(self) -> bool:
        return self._alive and not self.client.closed

    @property
    def handles(self) -> Mapping[int, JanusHandle]:
        return self._handles

    async def _call(self, kind: str, body: Mapping[str, Any] | None = None, *,
                    ack_is_final: bool = False) -> JsonObject:
        if not self._alive:
            raise JanusError(SESSION_NOT_FOUND, f"session {self.id} is gone")
        return await self.client._call(kind, {"session_id": self.id, **(body or {})}, ack_is_final=ack_is_final)

    async def attach(self, plugin: str, *, opaque_id: str | None = None) -> JanusHandle:
        body: JsonObject = {"plugin": plugin}
        if opaque_id is not None:
            body["opaque_id"] = opaque_id
        reply = await self._call("attach", body)
        handle_id = reply.get("data", {}).get("id")
        if not isinstance(handle_id, int):
            raise EngineError("janus attach: reply without a handle id", retryable=True, engine="janus")
        handle = JanusHandle(self, handle_id, plugin)
        self._handles[handle_id] = handle
        return handle

    async def keepalive(self) -> None:
        await self._call("keepalive", ack_is_final=True)

    async def destroy(self) -> None:
        """Destroy the session in Janus (its handles go with it) and stop its keepalive."""
        await self._stop_keepalive()
        if not self._alive:
            return
        try:
            await self._call("destroy")
        except JanusError as exc:
            if exc.code != SESSION_NOT_FOUND:
                raise
        finally:
            self.client._sessions.pop(self.id, None)
            self._gone()

    async def _stop_keepalive(self) -> None:
        task, self._keepalive_task = self._keepalive_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task])

    async def _keepalive_loop(self) -> None:
        while self._alive:
            await self.client._clock.sleep(self.client.keepalive_interval)
            if not self.alive:
                return
            try:
                await self.keepalive()
            except JanusError as exc:
                if exc.code == SESSION_NOT_FOUND:
                    log.warning("janus session %d vanished", self.id)
                    self.client._sessions.pop(self.id, None)
                    self._gone()
                    return
                log.warning("janus keepalive for session %d refused: %s", self.id, exc.code)
            except EngineError as exc:
                if self.client.closed:
                    return
                log.warning("janus keepalive for session %d failed: %s", self.id, exc)

    def _gone(self) -> None:
        self._alive = False
        for handle in list(self._handles.values()):
            handle._gone()
        self._handles.clear()

    def _deliver(self, event: JanusEvent) -> None:
        self._events.deliver(event)

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Session-level events (``timeout``, events for handles we no longer know)."""
        return self._events.subscribe(callback)

    async def next_event(self) -> JanusEvent:
        return await self._events.next()


class JanusHandle:
    def __init__(self, session: JanusSession, handle_id: int, plugin: str) -> None:
        self.session = session
        self.id = handle_id
        self.plugin = plugin
        self._events = _EventSink(session.client.event_queue_size, f"handle {handle_id}")
        self._alive = True

    @property
    def alive(self) -> bool:
        return self._alive and self.session.alive

    async def _call(self, kind: str, body: Mapping[str, Any] | None = None, *,
                    ack_is_final: bool = False) -> JsonObject:
        if not self._alive:
            raise JanusError(HANDLE_NOT_FOUND, f"handle {self.id} is gone")
        return await self.session._call(kind, {"handle_id": self.id, **(body or {})}, ack_is_final=ack_is_final)

    async def send(self, body: Mapping[str, Any], *, jsep: Mapping[str, Any] | None = None) -> PluginResponse:
        """A plugin ``message``; returns its synchronous reply or the event that follows the ack."""
        request: JsonObject = {"body": dict(body)}
        if jsep is not None:
            request["jsep"] = dict(jsep)
        reply = await self._call("message", request)
        event = JanusEvent.parse(reply)
        if "error_code" in event.data:
            raise JanusPluginError(self.plugin, int(event.data.get("error_code") or 0),
                                   str(event.data.get("error", "")), event.data)
        return PluginResponse(data=event.data, jsep=event.jsep, asynchronous=event.janus == "event")

    async def request(self, body: Mapping[str, Any], *, jsep: Mapping[str, Any] | None = None) -> JsonObject:
        """`send` returning only the plugin data."""
        return (await self.send(body, jsep=jsep)).data

    async def trickle(self, candidate: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> None:
        """Send one candidate, several, or (None) the end-of-candidates marker."""
        if candidate is None:
            body: JsonObject = {"candidate": {"completed": True}}
        elif isinstance(candidate, Mapping):
            body = {"candidate": dict(candidate)}
        else:
            body = {"candidates": [dict(c) for c in candidate]}
        await self._call("trickle", body, ack_is_final=True)

    async def hangup(self) -> None:
        await self._call("hangup")

    async def detach(self) -> None:
        if not self.alive:
            return
        try:
            await self._call("detach")
        except JanusError as exc:
            if exc.code not in (SESSION_NOT_FOUND, HANDLE_NOT_FOUND):
                raise
        finally:
            self.session._handles.pop(self.id, None)
            self._gone()

    def _gone(self) -> None:
        self._alive = False

    def _deliver(self, event: JanusEvent) -> None:
        self._events.deliver(event)

    def on_event(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback`` for every event on this handle; returns the unsubscribe function."""
        return self._events.subscribe(callback)

    async def next_event(self) -> JanusEvent:
        """The next queued event (bound the wait with asyncio.timeout)."""
        return await self._events.next()

    async def events(self) -> AsyncIterator[JanusEvent]:
        while True:
            yield await self._events.next()

    @property
    def dropped_events(self) -> int:
        return self._events.dropped
