"""The shared inference scheduler: fair between streams, finals first, stale partials dropped."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from parley.interpretation.scheduler import Batch, InferenceScheduler, Superseded
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit


async def _block(scheduler: InferenceScheduler) -> tuple[threading.Event, asyncio.Task[None]]:
    """Occupy the only worker until the returned event is set."""
    gate, started = threading.Event(), threading.Event()

    def blocked() -> None:
        started.set()
        gate.wait(5)

    task = asyncio.create_task(scheduler.run("blocker", blocked))
    await asyncio.to_thread(started.wait, 5)
    return gate, task


async def test_results_and_errors_reach_the_caller(scheduler: InferenceScheduler) -> None:
    assert await scheduler.run("a", lambda: 41 + 1) == 42

    def boom() -> None:
        raise ValueError("model broke")

    with pytest.raises(ValueError):
        await scheduler.run("a", boom)


async def test_streams_take_turns(scheduler: InferenceScheduler) -> None:
    gate, blocker = await _block(scheduler)
    order: list[str] = []
    jobs = [asyncio.create_task(scheduler.run(s, functools.partial(order.append, f"{s}{i}")))
            for s in ("a", "b") for i in range(3)]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(blocker, *jobs)
    # a flooded stream does not starve the other: a and b alternate
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2"]


async def test_urgent_jobs_go_first(scheduler: InferenceScheduler) -> None:
    gate, blocker = await _block(scheduler)
    order: list[str] = []
    partial = asyncio.create_task(scheduler.run("a", lambda: order.append("partial"), kind="asr.partial"))
    final = asyncio.create_task(scheduler.run("b", lambda: order.append("final"), kind="asr.final", urgent=True))
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(blocker, partial, final)
    assert order == ["final", "partial"]


async def test_a_newer_partial_supersedes_a_queued_one(scheduler: InferenceScheduler) -> None:
    gate, blocker = await _block(scheduler)
    old = asyncio.create_task(scheduler.run("a", lambda: "old", kind="asr.partial", coalesce=True))
    await asyncio.sleep(0.01)
    new = asyncio.create_task(scheduler.run("a", lambda: "new", kind="asr.partial", coalesce=True))
    await asyncio.sleep(0.01)
    gate.set()
    await blocker
    with pytest.raises(Superseded):
        await old
    assert await new == "new"
    assert scheduler.metrics.snapshot()["counters"]["asr.partial.superseded"] == 1


async def test_a_cancelled_caller_leaves_the_queue(scheduler: InferenceScheduler) -> None:
    gate, blocker = await _block(scheduler)
    ran: list[str] = []
    job = asyncio.create_task(scheduler.run("a", lambda: ran.append("x")))
    await asyncio.sleep(0.01)
    assert scheduler.pending == 1
    job.cancel()
    await asyncio.sleep(0.01)
    assert scheduler.pending == 0
    gate.set()
    await blocker
    assert ran == []


async def test_run_before_start_is_an_error(clock: FakeClock) -> None:
    with pytest.raises(RuntimeError):
        await InferenceScheduler(clock=clock).run("a", lambda: 1)


async def test_urgent_jobs_leave_one_worker_to_the_rest(clock: FakeClock) -> None:
    """Two finals at once on two workers would hold back every partial: one waits instead."""
    s = InferenceScheduler(clock=clock, workers=2)
    await s.start()
    gate, started = threading.Event(), threading.Event()
    order: list[str] = []

    def final(name: str) -> str:
        order.append(name)
        started.set()
        gate.wait(5)
        return name

    try:
        first = asyncio.create_task(s.run("a", functools.partial(final, "final-a"), kind="final", urgent=True))
        await asyncio.to_thread(started.wait, 5)
        second = asyncio.create_task(s.run("b", functools.partial(final, "final-b"), kind="final", urgent=True))
        partial = asyncio.create_task(s.run("c", lambda: order.append("partial-c") or "partial-c", kind="partial"))
        assert await asyncio.wait_for(partial, 5) == "partial-c"  # the free worker took the partial
        assert order == ["final-a", "partial-c"] and not second.done()
        gate.set()
        assert await asyncio.wait_for(asyncio.gather(first, second), 5) == ["final-a", "final-b"]
    finally:
        gate.set()
        await s.stop()


async def test_queued_jobs_of_one_batch_key_run_together(scheduler: InferenceScheduler) -> None:
    calls: list[list[int]] = []

    def together(items: list[int]) -> list[int]:
        calls.append(items)
        return [x * 10 for x in items]

    gate, blocker = await _block(scheduler)
    jobs = [asyncio.create_task(scheduler.run(f"s{i}", functools.partial(lambda x: x * 10, i), kind="partial",
                                              batch=Batch("asr", i, together)))
            for i in range(5)]
    final = asyncio.create_task(scheduler.run("s9", lambda: "final", kind="final", urgent=True,
                                              batch=Batch("asr", 9, together)))
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*jobs) == [0, 10, 20, 30, 40]
    assert await final == "final"  # urgent jobs never join a batch
    assert calls == [[0, 1, 2, 3], [4]] or calls == [[0, 1, 2, 3]]  # at most four together
    await blocker


async def test_a_batch_is_shared_out_between_workers_and_a_failure_reaches_every_caller(clock: FakeClock) -> None:
    s = InferenceScheduler(clock=clock, workers=2)
    await s.start()
    calls: list[list[int]] = []
    gate = threading.Event()

    def together(items: list[int]) -> list[int]:
        calls.append(items)
        gate.wait(5)
        if 99 in items:
            raise ValueError("model failed")
        return items

    try:
        # four jobs queue up at once while both workers are idle
        jobs = [asyncio.create_task(s.run(f"s{i}", lambda: -1, kind="partial", batch=Batch("asr", i, together)))
                for i in range(4)]
        await asyncio.sleep(0.05)
        gate.set()
        assert await asyncio.gather(*jobs) == [0, 1, 2, 3]
        assert sorted(map(len, calls)) == [2, 2]  # two batches of two, one per worker

        failing = [asyncio.create_task(s.run(f"f{i}", lambda: -1, kind="partial",
                                             batch=Batch("asr", 99 if i else i, together))) for i in range(4)]
        results = await asyncio.gather(*failing, return_exceptions=True)
        assert any(isinstance(r, ValueError) for r in results)
    finally:
        gate.set()
        await s.stop()


async def test_a_stuck_call_does_not_hold_the_other_speakers(clock: FakeClock) -> None:
    """A decode that runs away holds its thread (it cannot be interrupted), not the speakers:
    once it has run ``stuck_after_s``, a spare thread serves the other streams."""
    s = InferenceScheduler(clock=clock, workers=1, stuck_after_s=10.0, spare=1)
    await s.start()
    gate, started = threading.Event(), threading.Event()

    def runaway() -> str:
        started.set()
        gate.wait(10)
        return "late"

    try:
        stuck = asyncio.create_task(s.run("english", runaway, kind="asr.final", urgent=True))
        await asyncio.to_thread(started.wait, 5)
        other = asyncio.create_task(s.run("french", lambda: "bonjour", kind="asr.final", urgent=True))
        await clock.run_for(5.0, step=0.5)
        assert not other.done()  # not stuck yet: the one worker is simply busy
        await clock.run_for(6.0, step=0.5)
        assert await asyncio.wait_for(other, 5) == "bonjour"  # served while the runaway still runs
        assert not stuck.done()
        gate.set()
        assert await asyncio.wait_for(stuck, 5) == "late"
        assert s.metrics.snapshot()["counters"]["asr.final.stuck"] == 1
    finally:
        gate.set()
        await s.stop()


async def test_without_a_stuck_bound_no_spare_runs(clock: FakeClock) -> None:
    s = InferenceScheduler(clock=clock, workers=2, stuck_after_s=None)
    assert s.threads == 2
    assert InferenceScheduler(clock=clock, workers=2).threads == 3
