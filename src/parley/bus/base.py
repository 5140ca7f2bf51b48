"""The bus interface.

Events are plain JSON-able dicts published on string topics (``channel:42``, ``user:7``,
``dialogue:3``). Delivery is at-most-once and in publish order per topic; durable state
lives in the database, the bus only says "something changed, here it is".
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

Event = Mapping[str, Any]


class Subscription:
    """A queue of (topic, event) pairs for a set of topics; close it when done.

    A slow consumer does not block publishers: past ``maxsize`` queued events the oldest
    are dropped and ``dropped`` counts them, so the consumer can resynchronise from storage.
    """

    def __init__(self, bus: Bus, topics: Iterable[str], maxsize: int = 1000) -> None:
        self._bus = bus
        self.topics: set[str] = set(topics)
        self._queue: asyncio.Queue[tuple[str, Event] | None] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False

    def deliver(self, topic: str, event: Event) -> None:
        if self.closed:
            return
        if self._queue.full():
            try:
                self._queue.get_nowait()
                self.dropped += 1
            except asyncio.QueueEmpty:  # pragma: no cover
                pass
        self._queue.put_nowait((topic, event))

    async def add(self, topic: str) -> None:
        if topic not in self.topics:
            self.topics.add(topic)
            await self._bus._attach(self, [topic])

    async def remove(self, topic: str) -> None:
        if topic in self.topics:
            self.topics.discard(topic)
            await self._bus._detach(self, [topic])

    async def get(self) -> tuple[str, Event]:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def __aiter__(self) -> AsyncIterator[tuple[str, Event]]:
        return self

    async def __anext__(self) -> tuple[str, Event]:
        return await self.get()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self._bus._detach(self, list(self.topics))
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Bus(ABC):
    async def start(self) -> None:
        """Connect; called once by the composition root."""

    async def stop(self) -> None:
        """Disconnect and stop every reader task."""

    @abstractmethod
    async def publish(self, topic: str, event: Event) -> None: ...

    async def subscribe(self, topics: Iterable[str], maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, topics, maxsize)
        await self._attach(sub, list(sub.topics))
        return sub

    @abstractmethod
    async def _attach(self, sub: Subscription, topics: list[str]) -> None: ...

    @abstractmethod
    async def _detach(self, sub: Subscription, topics: list[str]) -> None: ...


class Fanout:
    """Topic -> subscriptions table shared by both implementations."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    def attach(self, sub: Subscription, topics: list[str]) -> list[str]:
        """Register; returns the topics that had no subscriber before."""
        fresh = []
        for topic in topics:
            subs = self._subs.setdefault(topic, set())
            if not subs:
                fresh.append(topic)
            subs.add(sub)
        return fresh

    def detach(self, sub: Subscription, topics: list[str]) -> list[str]:
        """Unregister; returns the topics left with no subscriber."""
        gone = []
        for topic in topics:
            subs = self._subs.get(topic)
            if subs is None:
                continue
            subs.discard(sub)
            if not subs:
                del self._subs[topic]
                gone.append(topic)
        return gone

    def deliver(self, topic: str, event: Event) -> None:
        for sub in list(self._subs.get(topic, ())):
            sub.deliver(topic, event)

    def topics(self) -> list[str]:
        return list(self._subs)
