"""What every engine (ASR, MT, TTS) shares: lifecycle, retries, metrics and health.

An engine's error says whether retrying helps (`EngineError.retryable`); the base retries
only those, with exponential backoff on the injected clock, and records how long each
call took and whether it failed. Health changes (ok -> failing -> ok) are kept here so the
pipeline can announce them once instead of on every call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.frames import HealthStatus
from parley.interpretation.metrics import StageMetrics
from parley.interpretation.scheduler import Superseded

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_s: float = 0.2
    factor: float = 2.0
    timeout_s: float | None = None


class EngineBase:
    """Lifecycle + health for one engine instance. Subclasses set ``name`` and ``stage``."""

    name = "engine"
    stage = "engine"

    def __init__(self, *, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.metrics = StageMetrics()
        self.status = HealthStatus.OK
        self.last_error = ""
        self._started = False
        self._start_lock = asyncio.Lock()

    async def start(self) -> None:
        """Load models / check tools once; raises `ModelMissing` when the engine cannot work."""
        async with self._start_lock:
            if self._started:
                return
            try:
                await self._start()
            except ModelMissing as exc:
                self.status, self.last_error = HealthStatus.MISSING, str(exc)
                raise
            self._started = True

    async def _start(self) -> None:
        """Override: load what the engine needs (off the event loop if blocking)."""

    async def aclose(self) -> None:
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    async def call(self, op: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` with retries for retryable errors; metrics under ``<stage>.<op>``."""
        if not self._started:
            await self.start()
        key = f"{self.stage}.{op}"
        delay = self.retry.backoff_s
        attempt = 0
        while True:
            attempt += 1
            t0 = self.clock.monotonic()
            try:
                if self.retry.timeout_s is not None:
                    try:
                        result = await asyncio.wait_for(fn(), self.retry.timeout_s)
                    except TimeoutError as exc:
                        raise EngineError(f"{self.name} {op} timed out", retryable=True, engine=self.name) from exc
                else:
                    result = await fn()
            except Superseded:
                raise
            except EngineError as exc:
                self.metrics.error(key)
                self.last_error = str(exc)
                if isinstance(exc, ModelMissing):
                    self.status = HealthStatus.MISSING
                    raise
                if not exc.retryable or attempt >= self.retry.attempts:
                    self.status = HealthStatus.FAILING
                    raise
                self.metrics.count(f"{key}.retries")
                await self.clock.sleep(delay)
                delay *= self.retry.factor
                continue
            except Exception as exc:
                # an engine bug or a library error: not worth retrying, and named by type only
                # (library messages may quote the text being processed)
                self.metrics.error(key)
                self.status = HealthStatus.FAILING
                self.last_error = f"{exc.__class__.__name__} in {self.name} {op}"
                raise EngineError(self.last_error, retryable=False, engine=self.name) from exc
            self.metrics.observe(key, self.clock.monotonic() - t0)
            self.status = HealthStatus.OK
            return result
