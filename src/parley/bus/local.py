"""In-process bus: the embedded default, nothing to run beside Parley."""

from __future__ import annotations

from parley.bus.base import Bus, Event, Fanout, Subscription


class LocalBus(Bus):
    def __init__(self) -> None:
        self._fanout = Fanout()

    async def publish(self, topic: str, event: Event) -> None:
        self._fanout.deliver(topic, event)

    async def _attach(self, sub: Subscription, topics: list[str]) -> None:
        self._fanout.attach(sub, topics)

    async def _detach(self, sub: Subscription, topics: list[str]) -> None:
        self._fanout.detach(sub, topics)
