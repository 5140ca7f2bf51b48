"""Sliding-window rate limits (login, registration, survey), per process, on the injected clock."""

from __future__ import annotations

import ipaddress
from collections import deque

from parley.clock import Clock
from parley.errors import RateLimited


def client_key(address: str) -> str:
    """What one client is, for limits: its IPv4 address, or its IPv6 /64 (one home or phone
    gets a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class RateLimiter:
    def __init__(self, clock: Clock, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        # Each key's window, so pruning for room never forgets a longer limit's events early.
        self._windows: dict[str, float] = {}
        self._max_keys = max_keys

    def hit(self, key: str, *, limit: int, window: float, code: str = "rate_limited") -> None:
        """Count one attempt; raise `RateLimited` when ``limit`` were made within ``window`` s."""
        self.check(key, limit=limit, window=window, code=code)
        self.add(key, window=window)

    def check(self, key: str, *, limit: int, window: float, code: str = "rate_limited") -> None:
        """Raise `RateLimited` when ``limit`` events were counted within ``window`` s; count nothing."""
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            return
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            raise RateLimited(
                "Too many attempts. Wait a little and try again.",
                retry_after=max(1.0, hits[0] + window - now),
                code=code,
            )

    def add(self, key: str, *, window: float) -> None:
        """Count one event (a failure, for limits that count only those)."""
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._prune(now)
            hits = self._hits[key] = deque()
        self._windows[key] = max(window, self._windows.get(key, 0.0))
        hits.append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
        self._windows.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self._windows.get(k, 0.0)]:
            self.reset(key)
