"""Where events for a session or handle wait: a bounded queue plus callbacks; the oldest
event goes when a slow reader lags, and the drops are counted and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from parley.media.janus.messages import JanusEvent

log = logging.getLogger(__name__)


EventCallback = Callable[["JanusEvent"], None]


class EventSink:
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
