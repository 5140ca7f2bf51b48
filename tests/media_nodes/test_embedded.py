"""The embedded default: `parley serve` with its one Janus has exactly one media node,
"local", served by the very `Server.janus` meetings use today."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from parley.config import Config
from parley.server import Server
from tests.conftest import running_server
from tests.fakes.clock import FakeClock
from tests.media_nodes.conftest import MakeMeeting
from tests.media_nodes.fakes import FakeNodes
from tests.meetings.fakes import MeetingJanus, fake_service

pytestmark = pytest.mark.integration


@pytest.fixture
async def server(config: Config, clock: FakeClock, fake_nodes: FakeNodes) -> AsyncIterator[Server]:
    parts = {"janus": fake_service(MeetingJanus(), clock), "interpretation_workers": None}
    async with running_server(config, clock, lambda _srv: parts) as srv:
        yield srv


async def test_the_one_janus_is_the_one_node(server: Server, make_meeting: MakeMeeting, clock: FakeClock,
                                             fake_nodes: FakeNodes) -> None:
    [local] = await server.media_nodes.nodes(None)
    # (this machine's real CPU load is reported for it: busy is a soft limit, see test_placement)
    assert local.name == "local" and local.availability in ("ok", "cpu_busy") and not local.supervised
    assert server.janus_pool.node_ids == [local.id]
    assert await server.media_nodes.service_for(local.id) is server.janus
    meeting = await make_meeting()
    assert (await server.media_nodes.place(meeting)).id == local.id
    for _ in range(12):  # a minute of heartbeats: the upkeep vouches for it each time
        clock.advance(5)
        await reported_now(server, local.id, clock)
    assert (await server.media_nodes.get(None, local.id)).availability in ("ok", "cpu_busy")
    assert server.janus_pool.node_ids == [local.id] and fake_nodes.built == []
    await server.stop()
    assert "janus" in server.__dict__  # what Server.janus returns is unchanged


async def reported_now(server: Server, node_id: int, clock: FakeClock) -> None:
    """Wait (bounded, in real time: the upkeep's database work is real) for a report at ``clock.now()``."""
    for _ in range(1000):
        if (await server.media_nodes.get(None, node_id)).last_seen == clock.now():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the upkeep never reported the local node")


async def test_a_restart_finds_the_same_local_node(server: Server, config: Config, clock: FakeClock) -> None:
    [first] = await server.media_nodes.nodes(None)
    again = Server(config, clock=clock, schema="none")
    again.__dict__["janus"] = fake_service(MeetingJanus(), clock)
    again.__dict__["interpretation_workers"] = None
    await again.start()
    try:
        [local] = await again.media_nodes.nodes(None)
        assert local.id == first.id and again.janus_pool.node_ids == [first.id]
    finally:
        await again.stop()
