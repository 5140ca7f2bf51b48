"""Meetings on several media nodes: a meeting is placed on one and reached there; when that
node is lost, the meeting moves to another with its people's tokens and its pin, the browsers
are told to reconnect, and connecting again reaches the new node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from parley.bus.base import Subscription
from parley.config import Config
from parley.media.janus.pool import JanusPool
from parley.server import Server
from parley.storage.stores import meetings as meeting_store
from tests.conftest import TEST_DB
from tests.fakes.clock import FakeClock
from tests.media_nodes.conftest import registration
from tests.media_nodes.fakes import FakeNodes
from tests.meetings.scenario import Setup
from tests.meetings.test_api import api, ok, person

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_nodes(clock: FakeClock) -> FakeNodes:
    return FakeNodes(clock)


@pytest.fixture
async def server(config: Config, clock: FakeClock, fake_nodes: FakeNodes) -> AsyncIterator[Server]:
    """A web process with no Janus of its own: two media nodes reached through its pool."""
    srv = Server(config, clock=clock, schema="create")
    srv.__dict__["janus"] = None
    srv.__dict__["interpretation_workers"] = None
    srv.__dict__["janus_pool"] = JanusPool(clock, fake_nodes.factory, lost_after=15, check_every=1)
    if TEST_DB:
        await srv.db.drop_all()
    await srv.start()
    for name in ("media-1", "media-2"):
        await srv.media_nodes.add(None, registration(name, supervised=False))
    await srv.media_nodes.sync_pool()
    try:
        yield srv
    finally:
        await srv.stop()


async def until(check: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    async with asyncio.timeout(20):
        while True:
            result = check()
            if result if isinstance(result, bool) else await result:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(what)  # pragma: no cover


async def next_event(sub: Subscription, kind: str) -> None:
    async with asyncio.timeout(20):
        while True:
            _, event = await sub.get()
            if event.get("type") == kind:
                return


async def test_a_lost_node_s_meeting_moves_and_its_people_reconnect_to_the_new_node(
    server: Server, make_setup: Callable[..., Awaitable[Setup]], as_user: Callable[..., Awaitable[httpx.AsyncClient]],
    fake_nodes: FakeNodes, clock: FakeClock,
) -> None:
    await until(lambda: all(fake_nodes[n].sessions for n in ("media-1", "media-2")), "the pool never connected")
    await server.media_nodes.keep_alive()  # the web process vouches for the nodes that answer
    setup = await make_setup(live=True)
    did = setup.dialogue.id
    host = await as_user(setup.people.facilitator)
    amina = await as_user(setup.people.amina)
    await ok(await host.post(api(did, "/start")))
    await ok(await amina.post(api(did, "/join"), json={"mode": "audio", "consent": True}))
    waiting = person(await ok(await host.get(api(did))), "Amina Diallo")
    await ok(await host.post(api(did, f"/participants/{waiting['id']}/admit")))
    first = await ok(await amina.post(api(did, "/me/connect")))

    async with server.db.session() as s:
        meeting = await meeting_store.meeting_for(s, did)
    assert meeting is not None
    old = await server.media_nodes.node_of(meeting.id)
    nodes = {n.id: n.name for n in await server.media_nodes.nodes(None)}
    old_janus = fake_nodes[nodes[old]]
    assert first["room_id"] in old_janus.videoroom.rooms and first["token"] in (old_janus.tokens or {})

    sub = await server.bus.subscribe([f"meeting:{did}"])
    old_janus.kill()
    # The pool notices within a second, and reports the node lost after 15 s without it.
    for _ in range(20):
        clock.advance(1)
        await asyncio.sleep(0.02)
    await next_event(sub, "meeting.media_restarted")
    await sub.close()

    new = await server.media_nodes.node_of(meeting.id)
    assert new is not None and new != old
    new_janus = fake_nodes[nodes[new]]
    # Recreated there from the database: the room with its pin, Amina's token let in.
    assert first["room_id"] in new_janus.videoroom.rooms
    assert first["token"] in (new_janus.tokens or {})
    again = await ok(await amina.post(api(did, "/me/connect")))
    assert again["room_id"] == first["room_id"] and again["pin"] == first["pin"]
    assert again["token"] in (new_janus.tokens or {})
    # Nobody else moves it a second time.
    assert await server.meetings.rooms.rehome(meeting.id, old) is False
