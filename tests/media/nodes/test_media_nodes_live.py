"""Two real media nodes in one network namespace: `parley media-node` on 127.0.0.2 and on
127.0.0.3 (a second ifb interface), each supervising its own Janus and
registering into one SQLite file database. The web side (the registry handler and a real
JanusPool) places a meeting on each, opens its rooms there, sees the rooms in the next
heartbeats, and when one node stops it is reported lost and its meeting moves to the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parley.clock import SystemClock
from parley.config import JanusConfig
from parley.handlers.media_nodes import MediaNodes, NodeView
from parley.media.janus.pool import JanusPool, remote_services
from parley.media.janus.service import RoomSpec
from parley.media.placement import PlacementPolicy
from parley.storage.database import Database, upgrade
from tests.media.netns import Netns
from tests.media_nodes.conftest import open_meeting

pytestmark = pytest.mark.media

SRC = Path(__file__).resolve().parents[3] / "src"
SECOND_ADDRESS = "127.0.0.3"
SECOND_INTERFACE = "jx1"


@dataclass
class NodeProcess:
    name: str
    address: str
    process: asyncio.subprocess.Process
    log: Path


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    """Poll ``check`` until it holds (bounded: a hung node fails the test instead of hanging it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"gave up waiting: {what}")


async def start_node(tmp_path: Path, db_url: str, name: str, address: str, janus_binary: str,
                     rtp: tuple[int, int]) -> NodeProcess:
    data = tmp_path / name
    data.mkdir()
    log = tmp_path / f"{name}.log"
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC), "PARLEY_DATA_DIR": str(data),
        "PARLEY_DATABASE_URL": db_url, "PARLEY_JANUS_BINARY": janus_binary, "PARLEY_JANUS_BIND_HOST": address,
        "PARLEY_JANUS_ICE_ENFORCE_LIST": address, "PARLEY_JANUS_RTP_PORT_MIN": str(rtp[0]),
        "PARLEY_JANUS_RTP_PORT_MAX": str(rtp[1]), "PARLEY_MEDIA_NODE_NAME": name,
        "PARLEY_MEDIA_MAX_ROOMS": "10", "PARLEY_MEDIA_HEARTBEAT_SECONDS": "1", "PARLEY_MEDIA_STALE_SECONDS": "5",
        "PARLEY_SERVER_SECRET_KEY": "live-test-secret",
    }
    out = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "parley.cli", "media-node", env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT)
    finally:
        out.close()
    return NodeProcess(name, address, process, log)


async def stop_node(node: NodeProcess) -> int:
    if node.process.returncode is None:
        node.process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(node.process.wait(), 30)
    except TimeoutError:
        node.process.kill()
        return await node.process.wait()


@pytest.fixture
def second_interface(netns: Netns) -> str:
    """A second ifb in the test's namespace, carrying 127.0.0.3 (set up from the test's thread)."""
    # A second ifb rather than a second address on the first: Janus's WebSocket transport binds
    # the *interface* its ws_ip belongs to, at that interface's first address (seen with Janus
    # 1.1.2: ws_ip 127.0.0.3 on jx0 listened on 127.0.0.2), so each node needs its own interface.
    subprocess.run(["sh", "-c", f"ip link add {SECOND_INTERFACE} type ifb && ip addr add {SECOND_ADDRESS}/32 dev "
                    f"{SECOND_INTERFACE} && ip link set {SECOND_INTERFACE} up"], check=True, capture_output=True,
                   timeout=10)
    return SECOND_ADDRESS


@pytest.fixture
async def two_nodes(netns: Netns, second_interface: str, janus_binary: str,
                    tmp_path: Path) -> AsyncIterator[tuple[str, list[NodeProcess]]]:
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    await asyncio.to_thread(upgrade, db_url)
    nodes = [await start_node(tmp_path, db_url, "media-a", netns.address, janus_binary, (20000, 20999)),
             await start_node(tmp_path, db_url, "media-b", second_interface, janus_binary, (21000, 21999))]
    try:
        yield db_url, nodes
    finally:
        for node in nodes:
            with contextlib.suppress(ProcessLookupError):
                await stop_node(node)


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
