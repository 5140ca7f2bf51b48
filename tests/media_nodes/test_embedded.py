"""The embedded default: `parley serve` with its one Janus has exactly one media node,
"local", served by the very `Server.janus` meetings use today."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.config import Config
from parley.server import Server
from tests.conftest import TEST_DB
from tests.fakes.clock import FakeClock
from tests.media_nodes.conftest import MakeMeeting
from tests.media_nodes.fakes import FakeNodes
from tests.meetings.fakes import MeetingJanus, fake_service

pytestmark = pytest.mark.integration


@pytest.fixture
async def server(config: Config, clock: FakeClock, fake_nodes: FakeNodes) -> AsyncIterator[Server]:
    srv = Server(config, clock=clock, schema="create")
    srv.__dict__["janus"] = fake_service(MeetingJanus(), clock)
    srv.__dict__["interpretation_workers"] = None
    if TEST_DB:
        await srv.db.drop_all()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_the_one_janus_is_the_one_node(server: Server, make_meeting: MakeMeeting, clock: FakeClock,
                                             fake_nodes: FakeNodes) -> None:
    [local] = await server.media_nodes.nodes(None)
    # (this machine's real CPU load is reported for it: busy is a soft limit, see test_placement)
    assert local.name == "local" and local.availability in ("ok", "cpu_busy") and not local.supervised
    assert server.janus_pool.node_ids == [local.id]
    assert await server.media_nodes.service_for(local.id) is server.janus
    meeting = await make_meeting()
    assert (await server.media_nodes.place(meeting)).id == local.id
    await clock.run_for(60, step=1)  # the upkeep keeps it fresh, and builds no second service
    assert (await server.media_nodes.get(None, local.id)).availability in ("ok", "cpu_busy")
    assert server.janus_pool.node_ids == [local.id] and fake_nodes.built == []
    await server.stop()
    assert "janus" in server.__dict__  # what Server.janus returns is unchanged


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
