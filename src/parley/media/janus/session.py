"""A Janus session: attaches handles, keeps itself alive (a ``keepalive`` every ~25 s;
Janus drops idle sessions after 60 s), and receives the events of handles it no longer knows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from parley.errors import EngineError
from parley.media.janus.events import EventCallback, EventSink

if TYPE_CHECKING:
    from parley.media.janus.client import JanusClient
from parley.media.janus.handle import JanusHandle
from parley.media.janus.messages import SESSION_NOT_FOUND, JanusError, JanusEvent, JsonObject

log = logging.getLogger(__name__)


class JanusSession:
    def __init__(self, client: JanusClient, session_id: int) -> None:
        self.client = client
        self.id = session_id
        self._handles: dict[int, JanusHandle] = {}
        self._events = EventSink(client.event_queue_size, f"session {session_id}")
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
