"""Where a pipeline's events go: an ``on_event`` callback, and once someone listens to
`events()`, a bounded queue whose oldest events go first when the listener lags.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from parley.interpretation.frames import EngineHealth, PipelineEvent

log = logging.getLogger(__name__)


EventSink = Callable[[PipelineEvent], Awaitable[None] | None]


class EventFanout:
    """Fan-out to the callback and, once someone listens, to a bounded queue (oldest dropped)."""

    def __init__(self, sink: EventSink | None, maxsize: int) -> None:
        self._sink = sink
        self._maxsize = maxsize
        self._queue: asyncio.Queue[PipelineEvent | None] | None = None
        self.dropped = 0

    async def emit(self, event: PipelineEvent) -> None:
        if self._sink is not None:
            try:
                result = self._sink(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a broken consumer must not stop interpretation
                log.exception("event sink failed on %s", event.kind)
        self.put(event)

    def put(self, item: PipelineEvent | None) -> None:
        if self._queue is None:
            return
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
                self.dropped += 1
        self._queue.put_nowait(item)

    def close(self) -> None:
        self.put(None)

    def subscribe(self) -> AsyncIterator[PipelineEvent]:
        """Events from now on (call before `start` to miss none); ends when the owner stops."""
        if self._queue is None:
            self._queue = asyncio.Queue(self._maxsize)
        return self._iterate(self._queue)

    @staticmethod
    async def _iterate(queue: asyncio.Queue[PipelineEvent | None]) -> AsyncIterator[PipelineEvent]:
        while True:
            item = await queue.get()
            if item is None:
                return
            yield item


def with_speaker(event: EngineHealth, speaker_id: str) -> EngineHealth:
    if event.speaker_id == speaker_id:
        return event
    return EngineHealth(stage=event.stage, engine=event.engine, status=event.status, message=event.message,
                        retryable=event.retryable, source_language=event.source_language,
                        target_language=event.target_language, speaker_id=speaker_id)
