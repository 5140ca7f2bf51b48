"""The JanusPool: one service per registered node, joining and leaving as the registry
changes, and a node reported lost once it stayed unreachable (fake Janus, fake clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from parley.errors import EngineError
from parley.media.janus.config import JanusCredentials
from parley.media.janus.pool import JanusPool, NodeEndpoint
from parley.media.janus.service import JanusService
from tests.fakes.clock import FakeClock
from tests.media_nodes.fakes import CREDS, FakeNodes, node_service

pytestmark = pytest.mark.unit


def endpoint(node_id: int, name: str, creds: JanusCredentials = CREDS) -> NodeEndpoint:
    return NodeEndpoint(id=node_id, name=name, ws_url=f"ws://{name}:8188", admin_url=f"http://{name}:7088/admin",
                        credentials=creds)


@pytest.fixture
def nodes(clock: FakeClock) -> FakeNodes:
    return FakeNodes(clock)


@pytest.fixture
async def pool(clock: FakeClock, nodes: FakeNodes) -> AsyncIterator[JanusPool]:
    pool = JanusPool(clock, nodes.factory, lost_after=15, check_every=1)
    pool.start()
    try:
        yield pool
    finally:
        await pool.stop()


async def until(condition: object, clock: FakeClock, seconds: float = 60) -> None:
    """Let fake time pass until ``condition()`` holds (bounded)."""
    for _ in range(int(seconds * 10)):
        if condition():  # type: ignore[operator]
            return
        await clock.run_for(0.1)
    raise AssertionError("condition not reached")


async def test_each_registered_node_gets_its_own_connected_service(pool: JanusPool, nodes: FakeNodes,
                                                                   clock: FakeClock) -> None:
    await pool.sync([endpoint(1, "a"), endpoint(2, "b")])
    assert pool.node_ids == [1, 2]
    a, b = pool.service_for(1), pool.service_for(2)
    assert a is not b and a.ready and b.ready
    assert [e.name for e in nodes.built] == ["a", "b"]
    assert nodes["a"].sessions and nodes["b"].sessions
    with pytest.raises(EngineError):
        pool.service_for(3)


async def test_nodes_join_and_leave_with_the_registry(pool: JanusPool, nodes: FakeNodes) -> None:
    joined: list[int] = []
    pool.on_service(lambda node_id, service: joined.append(node_id))
    await pool.sync([endpoint(1, "a")])
    first = pool.service_for(1)
    await pool.sync([endpoint(1, "a"), endpoint(2, "b")])
    assert pool.service_for(1) is first  # unchanged nodes keep their connection
    await pool.sync([endpoint(2, "b")])
    assert pool.node_ids == [2]
    assert not first.ready and not nodes["a"].sessions  # its service was stopped
    assert joined == [1, 2]


async def test_new_secrets_mean_a_new_connection(pool: JanusPool, nodes: FakeNodes) -> None:
    await pool.sync([endpoint(1, "a")])
    old = pool.service_for(1)
    rotated = JanusCredentials(api_secret=CREDS.api_secret, admin_secret=CREDS.admin_secret, admin_key="rotated-key")
    await pool.sync([endpoint(1, "a", rotated)])
    assert pool.service_for(1) is not old and not old.ready
    assert nodes.built[-1].credentials.admin_key == "rotated-key"
    assert "rotated-key" not in repr(nodes.built[-1])


async def test_an_adopted_service_is_served_but_never_stopped_by_the_pool(clock: FakeClock, nodes: FakeNodes) -> None:
    own = node_service(nodes["local"], clock)
    await own.start()
    pool = JanusPool(clock, nodes.factory)
    pool.adopt(endpoint(1, "local"), own)
    await pool.sync([endpoint(1, "local"), endpoint(2, "b")])
    assert pool.service_for(1) is own and nodes.built == [endpoint(2, "b")]
    await pool.sync([])
    assert pool.service_for(1) is own
    await pool.stop()
    assert own.ready
    await own.stop()


async def test_a_node_unreachable_for_long_enough_is_reported_lost_once(pool: JanusPool, nodes: FakeNodes,
                                                                        clock: FakeClock) -> None:
    lost: list[int] = []
    back: list[int] = []

    async def on_lost(node_id: int) -> None:
        lost.append(node_id)

    async def on_back(node_id: int) -> None:
        back.append(node_id)

    pool.on_node_lost(on_lost)
    pool.on_node_back(on_back)
    await pool.sync([endpoint(1, "a"), endpoint(2, "b")])
    nodes["a"].kill()
    await until(lambda: not pool.service_for(1).ready, clock)
    await clock.run_for(10)
    assert lost == [] and not pool.is_lost(1)  # not yet: 15 s
    await until(lambda: lost == [1], clock)
    await clock.run_for(30)
    assert lost == [1] and pool.is_lost(1) and not pool.is_lost(2)
    nodes["a"].revive()
    await until(lambda: back == [1], clock)
    assert not pool.is_lost(1) and pool.service_for(1).ready


async def test_a_short_outage_is_not_a_lost_node(pool: JanusPool, nodes: FakeNodes, clock: FakeClock) -> None:
    lost: list[int] = []

    async def on_lost(node_id: int) -> None:
        lost.append(node_id)

    pool.on_node_lost(on_lost)
    await pool.sync([endpoint(1, "a")])
    recovered = asyncio.Event()

    async def on_recovered() -> None:
        recovered.set()

    service: JanusService = pool.service_for(1)
    service.on_recovered(on_recovered)
    nodes["a"].kill()
    await clock.run_for(5)
    nodes["a"].revive()
    await until(recovered.is_set, clock)
    await clock.run_for(30)
    assert lost == []
