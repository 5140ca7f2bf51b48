"""Injected time.

Everything that waits, times out or stamps a time asks a `Clock`, so tests can drive
endpointing, token expiry and reconnects deterministically with a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""

    @abstractmethod
    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""

    @abstractmethod
    async def sleep(self, seconds: float) -> None:
        """Wait; a fake clock returns when time is advanced past the deadline."""


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def wait_set(clock: Clock, event: asyncio.Event, seconds: float) -> bool:
    """Until ``event`` is set or ``seconds`` pass on ``clock`` (a worker between passes: kicked
    or on its interval); True when the event was set."""
    if event.is_set():
        return True
    woken = asyncio.ensure_future(event.wait())
    slept = asyncio.ensure_future(clock.sleep(max(0.0, seconds)))
    try:
        await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (woken, slept):
            task.cancel()
        await asyncio.gather(woken, slept, return_exceptions=True)
    return event.is_set()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the JSON API (pydantic) writes it."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
