"""Sliding-window rate limits (login, registration), per process, on the injected clock."""

from __future__ import annotations

from collections import deque

from parley.clock import Clock
from parley.errors import RateLimited


class RateLimiter:
    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def hit(self, key: str, *, limit: int, window: float, code: str = "rate_limited") -> None:
        """Count one attempt; raise `RateLimited` when ``limit`` were made within ``window`` s."""
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._prune(now, window)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            raise RateLimited(
                "Too many attempts. Wait a little and try again.",
                retry_after=max(1.0, hits[0] + window - now),
                code=code,
            )
        hits.append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
            del self._hits[key]
