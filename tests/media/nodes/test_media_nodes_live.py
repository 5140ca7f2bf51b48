"""Two real media nodes in one network namespace: `parley media-node` on 127.0.0.2 and on
127.0.0.3 (a second ifb interface), each supervising its own Janus and
registering into one SQLite file database. The web side (the registry handler and a real
JanusPool) places a meeting on each, opens its rooms there, sees the rooms in the next
heartbeats, and when one node stops it is reported lost and its meeting moves to the other.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.clock import SystemClock
from parley.config import JanusConfig
from parley.handlers.media_nodes import MediaNodes, NodeView
from parley.media.janus.pool import JanusPool, remote_services
from parley.media.janus.service import RoomSpec
from parley.media.placement import PlacementPolicy
from parley.storage.database import Database
from tests.media.nodes.cluster import NodeProcess, eventually, stop_node
from tests.media_nodes.conftest import open_meeting

pytestmark = pytest.mark.media


async def test_two_media_nodes_register_heartbeat_host_meetings_and_hand_over(
        two_nodes: tuple[str, list[NodeProcess]]) -> None:
    db_url, (node_a, node_b) = two_nodes
    clock = SystemClock()
    db = Database(db_url)
    # (this machine's real CPU load is reported: a limit of 1000 keeps a busy test machine eligible)
    pool = JanusPool(clock, remote_services(JanusConfig(enabled=False), clock), lost_after=3, check_every=0.5)
    registry = MediaNodes(db, clock, policy=PlacementPolicy(stale_after=5, max_cpu=1000), pool=pool,
                          heartbeat_seconds=1)
    pool.start()
    lost: list[tuple[int, list[int]]] = []

    async def on_lost(node_id: int, meetings: list[int]) -> None:
        for meeting in meetings:
            await registry.move(meeting, away_from=node_id)
        lost.append((node_id, meetings))

    registry.on_node_lost(on_lost)
    try:
        async def both_report() -> bool:
            for node in (node_a, node_b):
                assert node.process.returncode is None, node.log.read_text()[-3000:]
            views = await registry.nodes(None)
            return [v.name for v in views if v.availability == "ok"] == ["media-a", "media-b"]

        await eventually(both_report, "both media nodes registered and heartbeating")
        views = {v.name: v for v in await registry.nodes(None)}
        assert views["media-a"].ws_url.startswith("ws://127.0.0.2:") and views["media-b"].ws_url.startswith(
            "ws://127.0.0.3:")
        assert all(v.supervised and v.max_rooms == 10 for v in views.values())

        await registry.sync_pool()
        await eventually(lambda: _ready(pool), "the pool connected to both nodes")
        first, second = await open_meeting(db, datetime.now(UTC), 1), await open_meeting(db, datetime.now(UTC), 2)
        placed: dict[int, NodeView] = {m: await registry.place(m) for m in (first, second)}
        assert {v.name for v in placed.values()} == {"media-a", "media-b"}  # one each: the least loaded
        for meeting, node in placed.items():
            service = await registry.service_for(node.id)
            await service.open_rooms(RoomSpec(room_id=1000 + meeting, text_room_id=2000 + meeting))

        async def rooms_reported() -> bool:
            return all(v.rooms == 1 for v in await registry.nodes(None))

        await eventually(rooms_reported, "each node reported its room")

        on_a = next(m for m, v in placed.items() if v.name == "media-a")
        assert await stop_node(node_a) == 0
        gone = await registry.get(None, views["media-a"].id)
        assert gone.last_seen is None and gone.availability == "stale"  # departed cleanly

        async def handed_over() -> bool:
            return bool(lost)

        await eventually(handed_over, "media-a reported lost and its meeting moved")
        assert lost == [(views["media-a"].id, [on_a])]
        assert await registry.node_of(on_a) == views["media-b"].id
        service_b = await registry.service_for(views["media-b"].id)
        await service_b.open_rooms(RoomSpec(room_id=1000 + on_a, text_room_id=2000 + on_a))
        await eventually(lambda: _rooms_on(registry, views["media-b"].id, 2), "media-b hosts both rooms")
    finally:
        await pool.stop()
        await db.close()


async def _ready(pool: JanusPool) -> bool:
    return len(pool.node_ids) == 2 and all(pool.service_for(n).ready for n in pool.node_ids)


async def _rooms_on(registry: MediaNodes, node_id: int, rooms: int) -> bool:
    return (await registry.get(None, node_id)).rooms == rooms
