"""Jobs that run once across every Parley process sharing one database.

A sweeper, a reconciler or the analysis worker must not run in two web processes at once,
and must move to another process when its holder dies. `RunOnce` does that with a lease
row (`storage.stores.leases`)::

    try to acquire --no--> wait `retry_s` --> try again
         | yes (generation g)
    start the job; every `renew_s` renew the lease (holder, g)
         | renewal refused (another process took it: g is stale), or not renewed
         | before the lease would expire on our own clock, or the job ended
    cancel and await the job; release the lease (only if still ours); start over

Why a lease row and not PostgreSQL advisory locks: the same statements work on SQLite (the
embedded default, so the one-process path is the tested path), the generation is a fencing
token a job can check inside its own transaction (`stores.leases.still_held`), nothing
holds a pooled connection for hours, and expiry follows the injected clock so take-over is
tested with a fake clock. The price: a holder that dies without releasing keeps the lease
until it expires (`ttl_s`); a holder known dead (same host and process namespace, process
gone, as after a crash and restart of the embedded server) is replaced at once.

A job stops `guard_s` before its lease would expire on its holder's clock, so with clocks
within `guard_s` of each other it never overlaps its successor. One exception: a process that
did not run at all until past that point (stalled) lets its renewal decide; the job may run
for that one round trip before it learns the lease is gone. Writes that must never come from
a stale holder check `stores.leases.still_held(name, holder, generation)` in their own
transaction.

A process's holder id is host, pid, pid namespace and a random part; two `Server` objects in
one process (tests) have different ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from parley.clock import Clock
from parley.storage.database import Database
from parley.storage.stores import leases as store
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

# How long a stopping holder waits for its release to be written.
RELEASE_S = 1.0

JobFactory = Callable[[], Coroutine[Any, Any, Any]]
# What a service that owns a job that must run once accepts, to start it:
# ``self._tasks.spawn("ticker", self.once("meetings.ticker", self._ticker))``.
Once = Callable[[str, JobFactory], Coroutine[Any, Any, Any]]


def run_here(name: str, job: JobFactory) -> Coroutine[Any, Any, Any]:
    """A `Once` that runs the job in this process without a lease (services built alone in tests)."""
    return job()


@dataclass(frozen=True)
class LeaseTimes:
    """How long a lease lasts, how often its holder renews it, and how often others try.

    The holder stops its job `guard_s` before the lease would expire on its own clock, so
    with clocks within `guard_s` of each other a job never overlaps its successor.
    """

    ttl_s: float = 30.0
    renew_s: float = 8.0
    retry_s: float = 5.0
    guard_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.renew_s * 2 < self.ttl_s - self.guard_s:
            raise ValueError("a lease must allow two renewals before its holder stops (renew_s * 2 < ttl_s - guard_s)")


def process_holder() -> str:
    """host:pid:pid-namespace:random, unique per `Leases` object."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:[").removesuffix("]")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}:{os.getpid()}:{namespace}:{secrets.token_hex(6)}"


def known_dead(holder: str, me: str) -> bool:
    """True when ``holder`` ran on this host in this pid namespace and its process is gone."""
    theirs, ours = holder.rsplit(":", 3), me.rsplit(":", 3)
    if len(theirs) != 4 or theirs[0] != ours[0] or theirs[2] != ours[2] or ours[2] == "-":
        return False
    try:
        pid = int(theirs[1])
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, but someone else's
    return False


class LeaseStore:
    """The lease statements, each in its own short transaction, on the process's clock."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def acquire(self, name: str, holder: str, ttl_s: float) -> int | None:
        async with self.db.session() as s:
            generation = await store.acquire(s, name, holder, self.clock.now(), timedelta(seconds=ttl_s))
            if generation is not None:
                return generation
            current = await store.lease(s, name)
            if current is None or not known_dead(current.holder, holder):
                return None
            log.info("lease %s: its holder %s is gone; taking it over", name, current.holder)
            return await store.take_over(s, name, holder, previous=current.holder, generation=current.generation,
                                         now=self.clock.now(), ttl=timedelta(seconds=ttl_s))

    async def renew(self, name: str, holder: str, generation: int, ttl_s: float) -> bool:
        async with self.db.session() as s:
            return await store.renew(s, name, holder, generation, self.clock.now(), timedelta(seconds=ttl_s))

    async def release(self, name: str, holder: str, generation: int) -> bool:
        async with self.db.session() as s:
            return await store.release(s, name, holder, generation)


class RunOnce:
    """One job that runs in at most one process at a time (see the module's docstring).

    `run` loops until cancelled; cancelling it cancels and awaits the job and releases the
    lease. A job that ends (or fails) is started again, here or elsewhere, after `retry_s`;
    with ``until_done`` a job that returns is done and `run` returns (a one-off job such as
    finishing a recording: every process runs it in turn, so it must see that it is done).
    """

    def __init__(self, name: str, job: JobFactory, *, leases: LeaseStore, clock: Clock, holder: str,
                 times: LeaseTimes, until_done: bool = False) -> None:
        self.name = name
        self.until_done = until_done
        self.job = job
        self.leases = leases
        self.clock = clock
        self.holder = holder
        self.times = times
        # The tenure held now (None between them): a job may fence its writes with it.
        self.generation: int | None = None
        self.starts = 0  # how many times the job started in this process

    @property
    def holding(self) -> bool:
        return self.generation is not None

    async def run(self) -> None:
        while True:
            try:
                generation = await self.leases.acquire(self.name, self.holder, self.times.ttl_s)
            except Exception as exc:  # the database away: try again later
                log.warning("lease %s: could not ask for it (%s)", self.name, type(exc).__name__)
                generation = None
            if generation is not None and await self._hold(generation) and self.until_done:
                return
            await self.clock.sleep(self.times.retry_s)

    async def _hold(self, generation: int) -> bool:
        """Run the job while the lease is ours; return when it is not, or the job ended (True
        when it returned)."""
        t = self.times
        deadline = self.clock.monotonic() + t.ttl_s - t.guard_s
        jobs = TaskOwner(f"lease:{self.name}")
        self.generation = generation
        log.info("lease %s: acquired (generation %d); starting the job", self.name, generation)
        self.starts += 1
        job = jobs.spawn(self.name, self.job())
        still_ours = True
        try:
            while True:
                if await self._ends_within(job, min(t.renew_s, deadline - self.clock.monotonic())):
                    if not job.cancelled() and job.exception() is None:
                        if self.until_done:
                            return True
                        log.warning("lease %s: the job ended; it starts again after %.0fs", self.name, t.retry_s)
                    return False
                asked = self.clock.monotonic()
                # Past the deadline already when asking: this process did not run for a while
                # (stalled, or a test's clock jumped). The renewal still decides: it succeeds
                # only if nobody took the lease meanwhile; it gets `guard_s` to answer.
                late = asked >= deadline
                renewed = await self._renew(generation, t.guard_s if late else deadline - asked)
                if renewed is False:
                    still_ours = False
                    log.warning("lease %s: taken over (generation %d is stale); stopping the job",
                                self.name, generation)
                    return False
                if renewed:
                    # Renewed by (holder, generation): nobody held it in between.
                    deadline = asked + t.ttl_s - t.guard_s
                elif late or self.clock.monotonic() >= deadline:
                    log.warning("lease %s: not renewed in time; stopping the job", self.name)
                    return False
        finally:
            await jobs.stop()
            self.generation = None
            if still_ours:
                # Bounded: on a busy SQLite file a release can wait seconds for the write lock,
                # and a stopping process must not; an unreleased lease expires after ttl_s.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.leases.release(self.name, self.holder, generation), RELEASE_S)

    async def _ends_within(self, task: asyncio.Future[Any], seconds: float) -> bool:
        """Wait for ``task`` up to ``seconds`` on the clock; True when it is done."""
        timer = asyncio.ensure_future(self.clock.sleep(max(0.0, seconds)))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        return task.done()

    async def _renew(self, generation: int, seconds: float) -> bool | None:
        """True renewed, False the lease is another tenure's, None unknown (the database did
        not answer, or not within ``seconds``)."""
        attempt = asyncio.ensure_future(self.leases.renew(self.name, self.holder, generation, self.times.ttl_s))
        try:
            await self._ends_within(attempt, seconds)
        finally:
            attempt.cancel()
            await asyncio.gather(attempt, return_exceptions=True)
        if attempt.cancelled():
            return None
        exc = attempt.exception()
        if exc is not None:
            log.warning("lease %s: renewal failed (%s)", self.name, type(exc).__name__)
            return None
        return bool(attempt.result())


class Leases:
    """This process's jobs that must run once: ``leases(name, job)`` is the coroutine to spawn."""

    def __init__(self, db: Database, clock: Clock, *, holder: str | None = None,
                 times: LeaseTimes | None = None, store: LeaseStore | None = None, local: bool = False) -> None:
        self.clock = clock
        self.holder = holder or process_holder()
        self.times = times or LeaseTimes()
        self.store = store or LeaseStore(db, clock)
        self.runners: dict[str, RunOnce] = {}
        # One process owns the database (the embedded SQLite default, nothing shared): every job
        # runs here without a lease row, so nothing waits on SQLite's one write lock for it.
        self.local = local
        self._local: set[str] = set()

    def running(self, name: str) -> bool:
        return name in self.runners or name in self._local

    def runner(self, name: str, job: JobFactory, *, until_done: bool = False) -> RunOnce:
        if name in self.runners:
            raise ValueError(f"a job named {name} already runs once in this process")
        runner = self.runners[name] = RunOnce(name, job, leases=self.store, clock=self.clock, holder=self.holder,
                                              times=self.times, until_done=until_done)
        return runner

    def __call__(self, name: str, job: JobFactory) -> Coroutine[Any, Any, None]:
        """A job that runs for as long as the process does, in one process at a time."""
        if self.local:
            return self._run_local(self._claim(name), job, until_done=False)
        return self._run(self.runner(name, job))

    def until_done(self, name: str, job: JobFactory) -> Coroutine[Any, Any, None]:
        """A one-off job, in one process at a time: it must find out that it is done already."""
        if self.local:
            return self._run_local(self._claim(name), job, until_done=True)
        return self._run(self.runner(name, job, until_done=True))

    def _claim(self, name: str) -> str:
        if self.running(name):
            raise ValueError(f"a job named {name} already runs once in this process")
        self._local.add(name)
        return name

    async def _run_local(self, name: str, job: JobFactory, *, until_done: bool) -> None:
        """The same contract without a lease: restarted after `retry_s` when it ends (or fails)."""
        try:
            while True:
                try:
                    await job()
                    if until_done:
                        return
                    log.warning("job %s ended; it starts again after %.0fs", name, self.times.retry_s)
                except Exception:
                    log.exception("job %s failed; it starts again after %.0fs", name, self.times.retry_s)
                await self.clock.sleep(self.times.retry_s)
        finally:
            self._local.discard(name)

    async def _run(self, runner: RunOnce) -> None:
        try:
            await runner.run()
        finally:
            self.runners.pop(runner.name, None)
