"""`parley media-node` around its Janus (fake Janus, fake clock): it registers the node at
the address it advertises, heartbeats rooms, participants and CPU while Janus answers, says
nothing while Janus is down (so the node goes stale), and departs on a clean stop."""

from __future__ import annotations

import asyncio

import pytest

from parley.handlers.media_node_agent import MediaNodeAgent, at_address
from parley.handlers.media_nodes import MediaNodes
from parley.media.janus.service import RoomSpec
from tests.fakes.clock import FakeClock
from tests.media_nodes.fakes import FakeNodes, node_service

pytestmark = pytest.mark.integration


def test_urls_carry_the_advertised_address() -> None:
    assert at_address("ws://127.0.0.1:8188", "10.0.0.5") == "ws://10.0.0.5:8188"
    assert at_address("http://127.0.0.1:7088/admin", "media-2.example") == "http://media-2.example:7088/admin"
    assert at_address("ws://127.0.0.1:8188", "fd00::5") == "ws://[fd00::5]:8188"
    assert at_address("ws://127.0.0.1:8188", "") == "ws://127.0.0.1:8188"


async def next_round(agent: MediaNodeAgent, clock: FakeClock) -> None:
    """Move fake time one heartbeat on and wait (bounded, in real time: the database work is
    real) until the agent has finished a round of its loop."""
    done = agent.rounds
    clock.advance(5)
    for _ in range(1000):
        if agent.rounds > done:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the agent did no heartbeat round")


async def test_a_media_node_registers_heartbeats_and_departs(media_nodes: MediaNodes, fake_nodes: FakeNodes,
                                                             clock: FakeClock) -> None:
    janus = fake_nodes["m1"]
    service = node_service(janus, clock)
    agent = MediaNodeAgent(media_nodes, service, clock, name="m1", advertise="127.0.0.3", max_rooms=50,
                           heartbeat_seconds=5, measure_cpu=lambda: 0.42)
    node_id = await agent.start()
    node = await media_nodes.get(None, node_id)
    assert node.supervised and node.max_rooms == 50 and node.advertise == "127.0.0.3"
    assert node.ws_url == "ws://127.0.0.3:8188" and node.admin_url == "http://127.0.0.3:7088/admin"
    await service.open_rooms(RoomSpec(room_id=11, text_room_id=12))
    janus.videoroom.rooms[11].participants.update({7 << 20: {"id": 7 << 20}, 8 << 20: {"id": 8 << 20}})
    stop = asyncio.Event()
    running = asyncio.create_task(agent.run(stop))
    await next_round(agent, clock)
    assert agent.heartbeats >= 1
    node = await media_nodes.get(None, node_id)
    # two people and Parley's monitor in the room: the monitor is not counted
    assert (node.rooms, node.participants, node.cpu_load) == (1, 2, 0.42) and node.availability == "ok"

    janus.kill()
    for _ in range(1000):
        if not service.ready:
            break
        await asyncio.sleep(0.01)
    await next_round(agent, clock)  # a round that may have begun before the kill is over
    beats = agent.heartbeats
    for _ in range(8):
        await next_round(agent, clock)
    assert agent.heartbeats == beats  # Janus down: no word from this node
    assert (await media_nodes.get(None, node_id)).availability == "stale"
    janus.revive()
    for _ in range(20):
        if agent.heartbeats > beats:
            break
        await next_round(agent, clock)
    assert (await media_nodes.get(None, node_id)).availability == "ok"

    stop.set()
    await asyncio.wait_for(running, 30)
    node = await media_nodes.get(None, node_id)
    assert node.last_seen is None and node.availability == "stale" and not service.ready
