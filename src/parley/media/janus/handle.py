"""A handle: one plugin attached to a session. Plugin messages (answered synchronously or
by the event after an ack), trickled candidates, hangup and detach; its own events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from parley.media.janus.events import EventCallback, EventSink
from parley.media.janus.messages import (
    HANDLE_NOT_FOUND,
    SESSION_NOT_FOUND,
    JanusError,
    JanusEvent,
    JanusPluginError,
    JsonObject,
    PluginResponse,
)

if TYPE_CHECKING:
    from parley.media.janus.session import JanusSession


class JanusHandle:
    def __init__(self, session: JanusSession, handle_id: int, plugin: str) -> None:
        self.session = session
        self.id = handle_id
        self.plugin = plugin
        self._events = EventSink(session.client.event_queue_size, f"handle {handle_id}")
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
