"""The lease statements: one holder at a time, renewal and release by the holder's tenure only,
take-over once the lease expired, and a generation that fences a holder who lost it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from parley.storage.database import Database
from parley.storage.stores import leases as store
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit

TTL = timedelta(seconds=30)


async def test_one_holder_at_a_time_until_the_lease_expires(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "a", now, TTL) == 1
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "b", now + timedelta(seconds=29), TTL) is None
        assert await store.renew(s, "sweep", "a", 1, now + timedelta(seconds=29), TTL)
    async with db.session() as s:
        # Renewed at 29 s: still a's at 58 s, b's at 59 s.
        assert await store.acquire(s, "sweep", "b", now + timedelta(seconds=58), TTL) is None
        assert await store.acquire(s, "sweep", "b", now + timedelta(seconds=59), TTL) == 2
    async with db.session() as s:
        held = await store.lease(s, "sweep")
        assert held is not None
        assert (held.holder, held.generation) == ("b", 2)
        assert held.expires_at == now + timedelta(seconds=59) + TTL


async def test_a_stale_generation_can_neither_renew_nor_release_nor_write(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "a", now, TTL) == 1
    later = now + timedelta(seconds=31)
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "b", later, TTL) == 2
    async with db.session() as s:
        assert not await store.renew(s, "sweep", "a", 1, later, TTL)
        assert not await store.release(s, "sweep", "a", 1)
        assert not await store.still_held(s, "sweep", "a", 1)
        assert await store.still_held(s, "sweep", "b", 2)
    async with db.session() as s:
        held = await store.lease(s, "sweep")
        assert held is not None
        assert (held.holder, held.generation, held.expires_at) == ("b", 2, later + TTL)


async def test_a_released_lease_is_free_at_once_and_its_next_tenure_counts_up(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "a", now, TTL) == 1
    async with db.session() as s:
        assert await store.release(s, "sweep", "a", 1)
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "b", now, TTL) == 2
    async with db.session() as s:
        # The holder asking again starts a new tenure: whatever the old one did is fenced off.
        assert await store.acquire(s, "sweep", "b", now, TTL) == 3
        assert [x.name for x in await store.all_leases(s)] == ["sweep"]


async def test_a_lease_taken_over_from_a_dead_holder_only_if_it_still_holds_that_tenure(
    db: Database, clock: FakeClock,
) -> None:
    now = clock.now()
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "dead", now, TTL) == 1
    async with db.session() as s:
        assert await store.take_over(s, "sweep", "b", previous="dead", generation=1, now=now, ttl=TTL) == 2
    async with db.session() as s:
        assert await store.take_over(s, "sweep", "c", previous="dead", generation=1, now=now, ttl=TTL) is None


async def test_two_holders_racing_for_a_new_lease_one_wins(db: Database, clock: FakeClock) -> None:
    async def ask(holder: str) -> int | None:
        async with db.session() as s:
            return await store.acquire(s, "race", holder, clock.now(), TTL)

    results = await asyncio.gather(*(ask(f"h{i}") for i in range(6)))
    assert sorted(results, key=lambda g: g or 0) == [None] * 5 + [1]


async def test_leases_are_independent_by_name(db: Database, clock: FakeClock) -> None:
    async with db.session() as s:
        assert await store.acquire(s, "sweep", "a", clock.now(), TTL) == 1
        assert await store.acquire(s, "analysis", "b", clock.now(), TTL) == 1


async def test_leases_of_one_kind_are_renewed_scanned_and_dropped_together(db: Database, clock: FakeClock) -> None:
    """The interpretation owners' statements: one renewal for all a holder's leases of a kind."""
    now = clock.now()
    async with db.session() as s:
        assert await store.acquire(s, "interpretation:1", "a", now, TTL) == 1
        assert await store.acquire(s, "interpretation:2", "a", now, TTL) == 1
        assert await store.acquire(s, "interpretation:3", "b", now, TTL) == 1
        assert await store.acquire(s, "interpretation_x", "a", now, TTL) == 1  # the prefix is literal
    later = now + timedelta(seconds=20)
    async with db.session() as s:
        assert await store.renew_all(s, "interpretation:", "a", later, TTL) == {"interpretation:1": 1,
                                                                                "interpretation:2": 1}
    expired = now + timedelta(seconds=31)  # b's lapsed, a's renewed at 20 s
    async with db.session() as s:
        assert await store.lapsed(s, "interpretation:", expired) == ["interpretation:3"]
        assert sorted(await store.holders(s, "interpretation:", expired)) == ["a"]
        assert sorted(await store.held_by(s, "interpretation:", "a")) == [("interpretation:1", 1),
                                                                          ("interpretation:2", 1)]
        await store.drop(s, "interpretation:1", holder="b")  # not b's: stays
        await store.drop(s, "interpretation:2", lapsed_at=expired)  # held: stays
        await store.drop(s, "interpretation:3", lapsed_at=expired)  # lapsed: goes
    async with db.session() as s:
        assert [lease.name for lease in await store.all_leases(s)] == ["interpretation:1", "interpretation:2",
                                                                        "interpretation_x"]
        await store.drop(s, "interpretation:1", holder="a")
    async with db.session() as s:
        assert await store.lease(s, "interpretation:1") is None
