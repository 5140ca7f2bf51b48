"""A throwaway database (SQLite, or PostgreSQL when ``PARLEY_TEST_DATABASE_URL`` is set), lease
stores that a test can pause or break, and helpers that drive the fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from parley.config import Config
from parley.handlers.leases import Leases, LeaseStore, LeaseTimes
from parley.storage.database import Database
from parley.tasks import TaskOwner
from tests.conftest import TEST_DB
from tests.fakes.clock import FakeClock

JOB = "test.sweep"
TIMES = LeaseTimes(ttl_s=30.0, renew_s=8.0, retry_s=5.0, guard_s=5.0)


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = Database(config.database_url)
    if TEST_DB:
        await database.drop_all()
    await database.create_all()
    try:
        yield database
    finally:
        await database.close()


class TestStore(LeaseStore):
    """The real statements, with a switch to hang them (a paused process, a partition) or
    make them fail (the database away for a while)."""

    __test__ = False

    def __init__(self, db: Database, clock: FakeClock) -> None:
        super().__init__(db, clock)
        self.renewals = 0
        self.fail = False
        self._open = asyncio.Event()
        self._open.set()

    @property
    def hang(self) -> bool:
        return not self._open.is_set()

    @hang.setter
    def hang(self, value: bool) -> None:
        """While True, every statement waits (and goes on once it is False again)."""
        if value:
            self._open.clear()
        else:
            self._open.set()

    async def renew(self, name: str, holder: str, generation: int, ttl_s: float) -> bool:
        if self.fail:
            raise ConnectionError("database away")
        await self._open.wait()
        renewed = await super().renew(name, holder, generation, ttl_s)
        self.renewals += 1
        return renewed

    async def acquire(self, name: str, holder: str, ttl_s: float) -> int | None:
        if self.fail:
            raise ConnectionError("database away")
        await self._open.wait()
        return await super().acquire(name, holder, ttl_s)

    async def release(self, name: str, holder: str, generation: int) -> bool:
        if self.fail:
            raise ConnectionError("database away")
        await self._open.wait()
        return await super().release(name, holder, generation)


@dataclass
class Process:
    """One Parley process's view: its leases, the tasks running them, what its jobs did."""

    label: str
    leases: Leases
    store: TestStore
    tasks: TaskOwner = field(default_factory=lambda: TaskOwner("test"))

    def run(self, name: str, log: list[str]) -> None:
        async def job() -> None:
            log.append(f"{self.label} started")
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                log.append(f"{self.label} cancelled")
                raise

        self.tasks.spawn(name, self.leases(name, job))

    def holding(self, name: str) -> bool:
        runner = self.leases.runners.get(name)
        return runner is not None and runner.holding


@pytest.fixture
async def processes(db: Database, clock: FakeClock) -> AsyncIterator[Callable[[str], Process]]:
    made: list[Process] = []

    def make(label: str) -> Process:
        store = TestStore(db, clock)
        process = Process(label, Leases(db, clock, times=TIMES, store=store), store)
        made.append(process)
        return process

    yield make
    for process in made:
        await process.tasks.stop()


async def first_holds(make: Callable[[str], Process], log: list[str], first: str, *others: str) -> list[Process]:
    """``first`` takes the lease on `JOB` and starts the job; then ``others`` wait for it."""
    holder = make(first)
    holder.run(JOB, log)
    await until(lambda: holder.holding(JOB) and f"{first} started" in log, f"{first} did not take the lease")
    waiting = [make(label) for label in others]
    for process in waiting:
        process.run(JOB, log)
    return [holder, *waiting]


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait (real time, generous bound) for something the runners do without the clock moving."""
    async with asyncio.timeout(20):
        while not predicate():  # noqa: ASYNC110 - database round trips in the runners, no event to wait on
            await asyncio.sleep(0.005)
    assert predicate(), what


async def advance(clock: FakeClock, seconds: float, step: float = 1.0) -> None:
    """Move the fake clock in steps, letting the database round trips of each step finish."""
    moved = 0.0
    while moved < seconds:
        clock.advance(min(step, seconds - moved))
        moved += step
        for _ in range(20):
            await asyncio.sleep(0.002)


async def advance_until(clock: FakeClock, predicate: Callable[[], bool], what: str, *, most_s: float = 300.0) -> None:
    """Move the fake clock a second at a time until ``predicate`` holds (at most ``most_s``)."""
    moved = 0.0
    while not predicate():
        assert moved < most_s, what
        await advance(clock, 1.0)
        moved += 1.0
