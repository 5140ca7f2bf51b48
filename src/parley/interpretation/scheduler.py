"""One place where blocking inference runs, shared fairly by every stream.

Model calls (Whisper passes, CTranslate2 translations) are blocking and CPU-bound. Rather
than one thread per speaker fighting over two cores, every call goes through this
scheduler: a fixed number of worker threads and one queue per stream, served round-robin,
urgent jobs (finals) before the rest (partials). A queued job marked ``coalesce`` is
replaced by a newer one of the same stream and kind (a partial pass over a longer buffer
makes the older one pointless), which bounds the work when the machine falls behind.
With several workers, urgent jobs take at most ``max_urgent`` of them at once (default: all
but one), so that finals of several speakers ending together do not hold back every partial.

A model call cannot be interrupted, and one can run long (Whisper looping on noise, a machine
suddenly busy). A job running for ``stuck_after_s`` no longer counts as holding its worker:
up to ``spare`` extra threads serve the other streams meanwhile (each engine must allow
``threads`` concurrent calls), so one slow decode never holds every speaker's captions.

Jobs given a `Batch` with the same key are run together when a worker finds several queued
(one per stream, up to ``max_size``): Whisper's decoder costs about the same per step
for four sequences as for one on this CPU (it is bound by reading its weights), so four
speakers' partials decoded together take half the time of four apart.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from parley.clock import Clock
from parley.interpretation.metrics import StageMetrics
from parley.tasks import TaskOwner

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Batch(Generic[T, R]):
    """How a job may be run together with others of the same ``key``: ``fn`` gets every
    job's ``item`` and returns their results in the same order."""

    key: str
    item: T
    fn: Callable[[list[T]], list[R]]
    max_size: int = 4


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
    batch: Batch[Any, Any] | None = None
    started: bool = field(default=False)
    started_at: float = 0.0


class InferenceScheduler:
    def __init__(self, *, clock: Clock, workers: int = 1, name: str = "inference",
                 max_urgent: int | None = None, stuck_after_s: float | None = 10.0, spare: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.max_urgent = max(1, workers - 1) if max_urgent is None else max(1, min(max_urgent, workers))
        self.stuck_after_s = stuck_after_s
        self.spare = max(0, spare) if stuck_after_s is not None else 0
        self._running: list[_Job] = []  # jobs inside a worker (a batch by its first job)
        self._busy = 0  # workers inside a job
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
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=self.name)
        for i in range(self.threads):
            self._tasks.spawn(f"worker-{i}", self._work())
        if self.spare:
            self._tasks.spawn("stuck-watch", self._watch_stuck())

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
    def threads(self) -> int:
        """How many model calls may run at once: the workers, and the spares for stuck jobs."""
        return self.workers + self.spare

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _stuck(self, job: _Job) -> bool:
        return self.stuck_after_s is not None and self._clock.monotonic() - job.started_at >= self.stuck_after_s

    def _capacity(self) -> int:
        """Workers that may be busy now: every stuck job frees a spare."""
        return self.workers + min(self.spare, sum(1 for job in self._running if self._stuck(job)))

    def _urgent_running(self) -> int:
        return sum(1 for job in self._running if job.urgent and not self._stuck(job))

    async def _watch_stuck(self) -> None:
        """Wake the idle spares when a running job becomes stuck while others wait."""
        assert self.stuck_after_s is not None
        while True:
            await self._clock.sleep(self.stuck_after_s / 4)
            if self._running and self.pending:
                self._ready.set()

    async def run(self, stream: str, fn: Callable[[], T], *, kind: str = "job", urgent: bool = False,
                  coalesce: bool = False, batch: Batch[Any, T] | None = None) -> T:
        """Run ``fn`` on a worker thread when its turn comes (or ``batch.fn`` with other jobs of
        its batch key); raises `Superseded` if replaced."""
        if self._pool is None:
            raise RuntimeError(f"{self.name} scheduler is not started")
        loop = asyncio.get_running_loop()
        job = _Job(stream, kind, fn, loop.create_future(), urgent, coalesce, self._clock.monotonic(), batch)
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
        if self._busy >= self._capacity():
            return None
        urgent_ok = self._urgent_running() < self.max_urgent
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

    def _take_batch(self, first: _Job) -> list[_Job]:
        """``first`` and queued jobs of other streams that can run with it: the waiting jobs
        shared out between the idle workers (two workers on two batches of two finish sooner
        than one on a batch of four), at most ``max_size`` together."""
        batch = first.batch
        if batch is None or first.urgent:
            return [first]
        mates: list[tuple[str, _Job]] = []
        for stream in self._order:
            if stream == first.stream:
                continue
            other = next((j for j in self._queues.get(stream) or () if j.batch is not None
                          and j.batch.key == batch.key and not j.urgent and not j.future.done()), None)
            if other is not None:
                mates.append((stream, other))
        idle = max(1, self._capacity() - self._busy)  # this one included
        size = min(batch.max_size, -(-(len(mates) + 1) // idle))
        jobs = [first]
        for stream, other in mates[: size - 1]:
            queue = self._queues[stream]
            queue.remove(other)
            if not queue:
                del self._queues[stream]
                self._order.remove(stream)
            jobs.append(other)
        return jobs

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = self._take()
            if first is None:
                self._ready.clear()
                await self._ready.wait()
                continue
            if first.future.done():
                continue
            jobs = self._take_batch(first)
            job = first
            started = self._clock.monotonic()
            for j in jobs:
                j.started = True
                self.metrics.observe(f"{j.kind}.wait", started - j.queued_at)
            job.started_at = started
            self._running.append(job)
            self._busy += 1
            if len(jobs) > 1:
                self.metrics.count(f"{job.kind}.batched", len(jobs))
            try:
                if len(jobs) > 1:
                    assert job.batch is not None
                    items = [j.batch.item for j in jobs if j.batch is not None]
                    results = await loop.run_in_executor(self._pool, job.batch.fn, items)
                else:
                    results = [await loop.run_in_executor(self._pool, job.fn)]
                if len(results) != len(jobs):
                    raise RuntimeError(f"{job.kind}: a batch of {len(jobs)} gave {len(results)} results")
            except asyncio.CancelledError:
                for j in jobs:
                    if not j.future.done():
                        j.future.cancel()
                raise
            except Exception as exc:  # handed to the callers, who decide
                self.metrics.error(job.kind)
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)
            else:
                for j, result in zip(jobs, results, strict=False):
                    if not j.future.done():
                        j.future.set_result(result)
            finally:
                self._busy -= 1
                self._running.remove(job)
                ran = self._clock.monotonic() - started
                self.metrics.observe(f"{job.kind}.run", ran)
                if self.stuck_after_s is not None and ran >= self.stuck_after_s:
                    self.metrics.count(f"{job.kind}.stuck")
                self._ready.set()  # a job held back (urgent, or past the capacity) may go now
