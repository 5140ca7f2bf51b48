"""The monitor: one silent participant per room that Parley joins to hear who talks, who
publishes which audio streams and who leaves (`room_events`); the browser-facing rooms never
see it. One process per node watches a room (`RoomSpec.monitor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from parley.errors import EngineError
from parley.media.janus.client import JanusClient, JanusEvent, JanusHandle, JsonObject
from parley.media.janus.room_events import MONITOR_ID_LIMIT, EventCallback, MediaEvent, parse_room_event

log = logging.getLogger(__name__)


VIDEOROOM = "janus.plugin.videoroom"


@dataclass
class _Monitor:
    handle: JanusHandle
    feed_id: int
    unsubscribe: Callable[[], None]


class RoomMonitor:
    """A silent participant per room whose talking / leaving / published events go to the
    `on_event` subscribers, in order, from one task. It joins with `token` (in every room's
    allowed list, never given to a browser) and the room's current pin."""

    def __init__(self, client: Callable[[], JanusClient | None]) -> None:
        self._client = client
        self._monitors: dict[int, _Monitor] = {}
        self._audio_mids: dict[int, tuple[str, ...]] = {}
        # Each room's current pin, for the monitor's own join.
        self.pins: dict[int, str] = {}
        self._event_callbacks: list[EventCallback] = []
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue(maxsize=10_000)
        # Joins the monitor into every room's allowed list; never given to a browser.
        self.token = secrets.token_urlsafe(24)

    def on_event(self, callback: EventCallback) -> None:
        self._event_callbacks.append(callback)

    def clear(self) -> None:
        """Forget every monitor (the connection they were on is gone)."""
        self._monitors.clear()

    def audio_mids(self, feed_id: int) -> tuple[str, ...] | None:
        """The audio streams ``feed_id`` last published, if the monitor saw it publish."""
        return self._audio_mids.get(feed_id)

    async def leave(self, room_id: int) -> None:
        """Stop watching a room that is being closed."""
        self.pins.pop(room_id, None)
        monitor = self._monitors.pop(room_id, None)
        if monitor is not None:
            monitor.unsubscribe()
            with contextlib.suppress(EngineError):
                await monitor.handle.detach()

    async def ensure(self, room_id: int) -> None:
        """Join the room as a silent participant to hear its talking / leaving events."""
        if room_id in self._monitors or (client := self._client()) is None:
            return
        sessions = list(client.sessions.values())
        if not sessions:
            raise EngineError("janus session is gone", retryable=True, engine="janus")
        handle = await sessions[0].attach(VIDEOROOM)
        feed_id = secrets.randbelow(MONITOR_ID_LIMIT - 1) + 1
        unsubscribe = handle.on_event(lambda event: self._event(room_id, event))
        try:
            join: JsonObject = {"request": "join", "ptype": "publisher", "room": room_id, "id": feed_id,
                                "display": "parley", "token": self.token}
            if room_id in self.pins:
                join["pin"] = self.pins[room_id]
            await handle.send(join)
        except BaseException:
            unsubscribe()
            with contextlib.suppress(EngineError):
                await handle.detach()
            raise
        self._monitors[room_id] = _Monitor(handle, feed_id, unsubscribe)

    def handle(self, room_id: int) -> JanusHandle | None:
        monitor = self._monitors.get(room_id)
        return monitor.handle if monitor is not None else None

    def _event(self, room_id: int, event: JanusEvent) -> None:
        for parsed in parse_room_event(room_id, event):
            if parsed.kind == "published":
                self._audio_mids[parsed.feed_id] = parsed.audio_mids
            elif parsed.kind == "left":
                self._audio_mids.pop(parsed.feed_id, None)
            if parsed.feed_id < MONITOR_ID_LIMIT:
                continue
            try:
                self._events.put_nowait(parsed)
            except asyncio.QueueFull:
                log.warning("janus room events dropped (consumer too slow)")

    async def deliver(self) -> None:
        while True:
            event = await self._events.get()
            for callback in list(self._event_callbacks):
                try:
                    await callback(event)
                except Exception:
                    log.exception("janus room event callback failed")
