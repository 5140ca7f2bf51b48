"""One place where blocking inference runs, shared fairly by every stream.

Model calls (Whisper passes, CTranslate2 translations) are blocking and CPU-bound. Rather
than one thread per speaker fighting over two cores, every call goes through this
scheduler: a fixed number of worker threads and one queue per stream, served round-robin,
urgent jobs (finals) before the rest (partials). A queued job marked ``coalesce`` is
replaced by a newer one of the same stream and kind (a partial pass over a longer buffer
makes the older one pointless), which bounds the work when the machine falls behind.
With several workers, urgent jobs take at most ``max_urgent`` of them at once (default: all
but one), so that finals of several speakers ending together do not hold back every partial.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from parley.clock import Clock
from parley.interpretation.metrics import StageMetrics
from parley.tasks import TaskOwner

T = TypeVar("T")


class Superseded(Exception):  # a normal outcome, not an error
    """A newer job of the same stream replaced this one before it ran."""


@dataclass(eq=False)
class _Job:
    stream: str
    kind: str
    fn: Callable[[], Any]
    future: asyncio.Future[Any]
    urgent: bool
    coalesce: bool
    queued_at: float
    started: bool = field(default=False)


class InferenceScheduler:
    def __init__(self, *, clock: Clock, workers: int = 1, name: str = "inference",
                 max_urgent: int | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.max_urgent = max(1, workers - 1) if max_urgent is None else max(1, min(max_urgent, workers))
        self._urgent_running = 0
        self.name = name
        self.metrics = StageMetrics()
        self._clock = clock
        self._queues: dict[str, deque[_Job]] = {}
        self._order: deque[str] = deque()
        self._ready = asyncio.Event()
        self._tasks = TaskOwner(name)
        self._pool: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self._pool is not None:
            return
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        for i in range(self.workers):
            self._tasks.spawn(f"worker-{i}", self._work())

    async def stop(self) -> None:
        await self._tasks.stop()
        for queue in self._queues.values():
            for job in queue:
                if not job.future.done():
                    job.future.cancel()
        self._queues.clear()
        self._order.clear()
        if self._pool is not None:
            # a call already inside a model cannot be interrupted; let it finish on its own
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def run(self, stream: str, fn: Callable[[], T], *, kind: str = "job", urgent: bool = False,
                  coalesce: bool = False) -> T:
        """Run ``fn`` on a worker thread when its turn comes; raises `Superseded` if replaced."""
        if self._pool is None:
            raise RuntimeError(f"{self.name} scheduler is not started")
        loop = asyncio.get_running_loop()
        job = _Job(stream, kind, fn, loop.create_future(), urgent, coalesce, self._clock.monotonic())
        queue = self._queues.get(stream)
        if queue is None:
            queue = self._queues[stream] = deque()
            self._order.append(stream)
        if coalesce:
            for old in [j for j in queue if j.coalesce and j.kind == kind]:
                queue.remove(old)
                self.metrics.count(f"{kind}.superseded")
                if not old.future.done():
                    old.future.set_exception(Superseded())
        queue.append(job)
        self._ready.set()
        try:
            result: T = await job.future
            return result
        except asyncio.CancelledError:
            if not job.started and job in queue:
                queue.remove(job)
            raise

    def _take(self) -> _Job | None:
        urgent_ok = self._urgent_running < self.max_urgent
        for want_urgent in (True, False) if urgent_ok else (False,):
            for stream in list(self._order):
                queue = self._queues.get(stream)
                if not queue:
                    continue
                if want_urgent:
                    job = next((j for j in queue if j.urgent), None)
                else:
                    job = queue[0] if urgent_ok else next((j for j in queue if not j.urgent), None)
                if job is None:
                    continue
                queue.remove(job)
                self._order.remove(stream)
                if queue:
                    self._order.append(stream)
                else:
                    del self._queues[stream]
                return job
        return None

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = self._take()
            if job is None:
                self._ready.clear()
                await self._ready.wait()
                continue
            if job.future.done():
                continue
            job.started = True
            self._urgent_running += job.urgent
            started = self._clock.monotonic()
            self.metrics.observe(f"{job.kind}.wait", started - job.queued_at)
            try:
                result = await loop.run_in_executor(self._pool, job.fn)
            except asyncio.CancelledError:
                if not job.future.done():
                    job.future.cancel()
                raise
            except Exception as exc:  # handed to the caller, who decides
                self.metrics.error(job.kind)
                if not job.future.done():
                    job.future.set_exception(exc)
            else:
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self.metrics.observe(f"{job.kind}.run", self._clock.monotonic() - started)
                if job.urgent:
                    self._urgent_running -= 1
                    self._ready.set()  # an urgent job held back may go now
