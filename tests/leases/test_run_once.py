"""`RunOnce` on a shared database and a fake clock: a job runs in one process, keeps running
while its lease is renewed, stops as soon as the lease is not its own any more, and starts
in another process when its holder stops or goes silent."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest

from parley.handlers.leases import Leases, LeaseTimes, known_dead, process_holder, run_here
from parley.storage.database import Database
from parley.storage.stores import leases as store
from parley.storage.stores.leases import RELEASED_AT
from parley.tasks import TaskOwner
from tests.fakes.clock import FakeClock
from tests.leases.conftest import JOB, TIMES, Process, TestStore, advance, advance_until, first_holds, until

pytestmark = pytest.mark.unit

TIMES_TTL = timedelta(seconds=TIMES.ttl_s)


async def test_the_only_process_gets_the_lease_at_once(processes: Callable[[str], Process]) -> None:
    log: list[str] = []
    a = processes("a")
    a.run(JOB, log)
    await until(lambda: log == ["a started"], "the job did not start")
    assert a.holding(JOB)
    assert a.leases.runners[JOB].generation == 1


async def test_a_job_runs_in_one_process_and_its_lease_is_renewed(
    processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    a, b = await first_holds(processes, log, "a", "b")
    for renewal in range(1, 6):  # 40 s: longer than the lease, renewed all along
        await advance(clock, TIMES.renew_s)
        await until(lambda n=renewal: a.store.renewals >= n, "a did not renew")
    assert log == ["a started"]
    assert a.holding(JOB) and not b.holding(JOB)
    assert b.leases.runners[JOB].starts == 0


async def test_a_silent_holder_stops_its_job_and_another_process_takes_over_after_expiry(
    processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    a, b = await first_holds(processes, log, "a", "b")
    a.store.hang = True  # a is paused, or cut off from the database: its renewals never answer
    await advance(clock, TIMES.ttl_s - TIMES.guard_s + 1)
    await until(lambda: "a cancelled" in log, "a kept its job past its own deadline")
    assert not b.holding(JOB)  # the lease has not expired yet in the database
    await advance_until(clock, lambda: "b started" in log, "b did not take over")
    # Never both at once: a stopped before the lease expired, b started after.
    assert log == ["a started", "a cancelled", "b started"]
    assert b.leases.runners[JOB].generation == 2


async def test_a_holder_whose_lease_was_taken_stops_its_job_at_the_next_renewal(
    db: Database, processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    [a] = await first_holds(processes, log, "a")
    # Another process took it (say a's clock ran slow and the lease looked expired to it).
    async with db.session() as s:
        assert await store.take_over(s, JOB, "elsewhere", previous=a.leases.holder, generation=1,
                                     now=clock.now(), ttl=TIMES_TTL) == 2
    await advance(clock, TIMES.renew_s)
    await until(lambda: not a.holding(JOB), "a's stale job kept running")
    assert log == ["a started", "a cancelled"]
    async with db.session() as s:
        held = await store.lease(s, JOB)
    assert held is not None
    assert (held.holder, held.generation) == ("elsewhere", 2)  # a did not release what is not its own


async def test_stopping_the_holder_cancels_its_job_releases_the_lease_and_the_job_moves(
    db: Database, processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    a, b = await first_holds(processes, log, "a", "b")
    await a.tasks.stop()
    assert log == ["a started", "a cancelled"]
    assert JOB not in a.leases.runners
    async with db.session() as s:
        held = await store.lease(s, JOB)
    assert held is not None and held.expires_at == RELEASED_AT
    # b takes it on its next try, well before the lease would have expired.
    await advance_until(clock, lambda: log[-1:] == ["b started"], "b did not take over",
                        most_s=TIMES.retry_s * 2)


async def test_a_holder_that_did_not_run_past_its_deadline_keeps_its_job_if_nobody_took_the_lease(
    processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    [a] = await first_holds(processes, log, "a")
    clock.advance(TIMES.ttl_s + 10)  # the process stalled: its renewal is long overdue
    # The renewal by (holder, generation) succeeds only if nobody held the lease meanwhile.
    await until(lambda: a.store.renewals == 1, "a did not renew")
    assert log == ["a started"] and a.leases.runners[JOB].generation == 1


async def test_a_holder_that_did_not_run_past_its_deadline_stops_if_the_lease_was_taken(
    db: Database, processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    [a] = await first_holds(processes, log, "a")
    a.store.hang = True
    clock.advance(TIMES.ttl_s + 10)  # a stalled; meanwhile another process took the expired lease
    async with db.session() as s:
        assert await store.acquire(s, JOB, "elsewhere", clock.now(), TIMES_TTL) == 2
    a.store.hang = False
    await until(lambda: not a.holding(JOB), "a's stale job kept running")
    assert log == ["a started", "a cancelled"]


async def test_a_job_that_ends_is_started_again(processes: Callable[[str], Process], clock: FakeClock) -> None:
    runs: list[int] = []
    a = processes("a")

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    a.tasks.spawn(JOB, a.leases(JOB, job))
    await until(lambda: runs == [0], "the job did not start")
    await until(lambda: not a.holding(JOB), "the lease was kept after the job failed")
    await advance_until(clock, lambda: runs == [0, 1], "the job did not start again", most_s=TIMES.retry_s * 2)
    assert a.leases.runners[JOB].generation == 2


async def test_a_one_off_job_is_done_once_and_the_others_find_it_done(
    processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    done: list[str] = []
    looked: list[str] = []
    go_on = asyncio.Event()
    a, b = processes("a"), processes("b")

    def finish(label: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def job() -> None:  # finishing a recording: it checks first whether it is finished
            looked.append(label)
            if done:
                return
            await go_on.wait()
            done.append(label)
        return job

    a.tasks.spawn("finish", a.leases.until_done("recording.finish:7", finish("a")))
    await until(lambda: looked == ["a"], "a did not start the job")
    b.tasks.spawn("finish", b.leases.until_done("recording.finish:7", finish("b")))
    await advance(clock, TIMES.retry_s * 2)
    assert looked == ["a"]  # b waits while a holds the lease
    go_on.set()
    await until(lambda: "recording.finish:7" not in a.leases.runners, "a's runner did not end")
    await advance_until(clock, lambda: "recording.finish:7" not in b.leases.runners, "b's runner did not end",
                        most_s=TIMES.retry_s * 2)
    assert done == ["a"] and looked == ["a", "b"]


async def test_a_database_hiccup_shorter_than_the_lease_does_not_stop_the_job(
    processes: Callable[[str], Process], clock: FakeClock,
) -> None:
    log: list[str] = []
    [a] = await first_holds(processes, log, "a")
    a.store.fail = True
    await advance(clock, TIMES.renew_s * 2)  # two renewals fail; the deadline is not reached
    a.store.fail = False
    await advance(clock, TIMES.renew_s)
    await until(lambda: a.store.renewals >= 1, "a did not renew")
    assert log == ["a started"] and a.holding(JOB)
    a.store.fail = True
    await advance(clock, TIMES.ttl_s)
    await until(lambda: log == ["a started", "a cancelled"], "a kept its job with no lease")


async def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_at_once(
    db: Database, clock: FakeClock,
) -> None:
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()
    me = process_holder()
    host, _pid, namespace, _ = me.rsplit(":", 3)
    gone = f"{host}:{dead.pid}:{namespace}:0000"
    assert known_dead(gone, me)
    assert not known_dead(me, process_holder())  # this process: alive
    assert not known_dead(f"elsewhere:{dead.pid}:{namespace}:0000", me)  # another host: cannot tell
    async with db.session() as s:
        assert await store.acquire(s, JOB, gone, clock.now(), TIMES_TTL) == 1
    leases = Leases(db, clock, holder=me, times=TIMES, store=TestStore(db, clock))
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.Event().wait()

    tasks = TaskOwner("test")
    tasks.spawn(JOB, leases(JOB, job))
    try:
        async with asyncio.timeout(20):
            await started.wait()  # without the clock moving: no waiting for the expiry
        assert leases.runners[JOB].generation == 2
    finally:
        await tasks.stop()


async def test_run_here_runs_the_job_without_a_lease() -> None:
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    await run_here("anything", job)
    assert ran.is_set()


def test_lease_times_leave_room_for_two_renewals() -> None:
    with pytest.raises(ValueError, match="two renewals"):
        LeaseTimes(ttl_s=10, renew_s=5, guard_s=2)



async def test_a_process_alone_on_its_database_runs_jobs_without_a_lease_row(db: Database, clock: FakeClock) -> None:
    """The embedded default (SQLite, nothing shared): jobs run at once, restart when they end,
    a one-off job runs once, and a name runs once per process; no lease row is written."""
    leases = Leases(db, clock, local=True, times=TIMES)
    owner = TaskOwner("test")
    runs: list[str] = []

    async def forever() -> None:
        runs.append("forever")

    async def once() -> None:
        runs.append("once")

    owner.spawn("forever", leases("job", forever))
    with pytest.raises(ValueError):
        leases("job", forever)
    await leases.until_done("one-off", once)
    await until(lambda: runs.count("forever") == 1, "the job did not start at once")
    await advance(clock, TIMES.retry_s)
    await until(lambda: runs.count("forever") == 2, "an ended job did not start again")
    assert runs.count("once") == 1 and leases.running("job") and not leases.running("one-off")
    await owner.stop()
    assert not leases.running("job")
    async with db.session() as s:
        assert await store.all_leases(s) == []
