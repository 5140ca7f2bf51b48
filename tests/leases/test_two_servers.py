"""Two Parley servers on one database and bus (the scale setup): the jobs that must run once run
in exactly one of them, and move to the other when the first stops or goes silent."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from parley.config import Config
from parley.handlers.leases import Leases
from parley.server import Server
from parley.storage.stores import leases as store
from tests.conftest import TEST_DB
from tests.fakes.clock import FakeClock
from tests.leases.conftest import TIMES, TestStore, advance, advance_until, until

pytestmark = pytest.mark.integration

SWEEP = "accounts.session-sweep"
WORKER = "analysis.worker"


def with_test_leases(srv: Server, clock: FakeClock) -> None:
    srv.__dict__["leases"] = Leases(srv.db, clock, times=TIMES, store=TestStore(srv.db, clock))


@pytest.fixture
async def pair(config: Config, clock: FakeClock) -> AsyncIterator[tuple[Server, Server]]:
    first = Server(config, clock=clock, schema="create")
    if TEST_DB:
        await first.db.drop_all()
    with_test_leases(first, clock)
    await first.start()
    second = Server(config, clock=clock, bus=first.bus, schema="none")
    with_test_leases(second, clock)
    try:
        await second.start()
        yield first, second
    finally:
        await second.stop()
        await first.stop()


def holding(srv: Server, name: str) -> bool:
    runner = srv.leases.runners.get(name)
    return runner is not None and runner.holding


def starts(srv: Server, name: str) -> int:
    runner = srv.leases.runners.get(name)
    return 0 if runner is None else runner.starts


async def who_holds(pair: tuple[Server, Server], clock: FakeClock, name: str) -> tuple[Server, Server]:
    """The server that takes the lease on ``name``, and the other one."""
    first, second = pair
    await advance_until(clock, lambda: holding(first, name) or holding(second, name), f"nobody runs {name}",
                        most_s=TIMES.retry_s * 2)
    return (first, second) if holding(first, name) else (second, first)


async def held_by(srv: Server, name: str) -> tuple[str, int] | None:
    async with srv.db.session() as s:
        lease = await store.lease(s, name)
    return None if lease is None else (lease.holder, lease.generation)


async def test_the_session_sweep_runs_in_one_server_and_moves_when_it_stops(
    pair: tuple[Server, Server], clock: FakeClock,
) -> None:
    holder, other = await who_holds(pair, clock, SWEEP)
    await advance_until(clock, lambda: starts(holder, SWEEP) == 1 and SWEEP in other.leases.runners,
                        "the other server does not wait for the lease", most_s=TIMES.retry_s)
    # Through a minute of renewals, it stays where it is and runs nowhere else.
    await advance(clock, 60.0)
    assert holding(holder, SWEEP) and not holding(other, SWEEP)
    assert (starts(holder, SWEEP), starts(other, SWEEP)) == (1, 0)
    assert await held_by(holder, SWEEP) == (holder.leases.holder, 1)

    await holder.stop()
    await advance_until(clock, lambda: holding(other, SWEEP), "the sweep did not move", most_s=TIMES.retry_s * 2)
    assert starts(other, SWEEP) == 1
    assert await held_by(other, SWEEP) == (other.leases.holder, 2)


async def test_the_session_sweep_moves_when_its_server_goes_silent(
    pair: tuple[Server, Server], clock: FakeClock,
) -> None:
    holder, other = await who_holds(pair, clock, SWEEP)
    silent = holder.leases.store
    assert isinstance(silent, TestStore)
    silent.hang = True  # paused, or cut off from the database: it neither renews nor releases
    await advance_until(clock, lambda: not holding(holder, SWEEP), "a silent server kept its job",
                        most_s=TIMES.ttl_s)
    assert not holding(other, SWEEP)  # until the lease expires in the database
    await advance_until(clock, lambda: holding(other, SWEEP), "the sweep did not move",
                        most_s=TIMES.ttl_s + TIMES.retry_s)
    assert await held_by(other, SWEEP) == (other.leases.holder, 2)


async def test_the_analysis_worker_runs_in_one_server_and_either_can_ask_it_for_a_pass(
    pair: tuple[Server, Server], clock: FakeClock,
) -> None:
    from tests.analysis.helpers import install_analysis

    for srv in pair:
        analysis, _ = install_analysis(srv)
        analysis.options = dataclasses.replace(analysis.options, background=True)
        analysis.start(srv.tasks, once=srv.leases)
    holder, other = await who_holds(pair, clock, WORKER)
    await until(lambda: holder.analysis.last_run_at is not None, "the worker made no first pass")
    holder.analysis.passes.last_run_at = None
    assert other.analysis.request_run()  # through the other server: the holder hears it on the bus
    await until(lambda: holder.analysis.last_run_at is not None, "the holder was not asked for a pass")
    assert other.analysis.last_run_at is None and starts(other, WORKER) == 0
