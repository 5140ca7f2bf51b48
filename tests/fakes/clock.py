"""A clock that only moves when the test says so."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

from parley.clock import Clock


class FakeClock(Clock):
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        self._mono = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + seconds, next(self._ids), fut))
        await fut

    def asleep_for(self, seconds: float) -> bool:
        """Whether some task sleeps exactly ``seconds`` from now (a worker waiting out its
        interval): advance only then, or the sleep starts after the jump and never ends."""
        return any(abs(at - self._mono - seconds) < 1e-6 and not fut.done() for at, _, fut in self._sleepers)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._mono += seconds
        self._now += timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= self._mono:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def run_for(self, seconds: float, step: float = 0.01) -> None:
        """Advance in small steps, letting tasks run between them."""
        steps = max(1, int(seconds / step))
        for _ in range(steps):
            self.advance(seconds / steps)
            for _ in range(3):
                await asyncio.sleep(0)
