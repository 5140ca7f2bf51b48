"""The Janus API client against the in-memory fake: transactions, keepalive, events, teardown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from parley.errors import EngineError
from parley.media.janus.client import JanusClient, JanusError, JanusEvent, JanusPluginError
from tests.fakes.clock import FakeClock
from tests.fakes.janus import FakeJanus

pytestmark = pytest.mark.unit

SECRET = "api-secret"
VIDEOROOM = "janus.plugin.videoroom"


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def janus() -> FakeJanus:
    return FakeJanus(api_secret=SECRET, admin_key="admin-key")


@pytest.fixture
async def client(janus: FakeJanus, clock: FakeClock) -> AsyncIterator[JanusClient]:
    c = JanusClient(janus.transport(), clock=clock, api_secret=SECRET, request_timeout=5, keepalive_interval=25)
    await c.connect()
    yield c
    await c.close()


async def test_session_attach_and_synchronous_request(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)

    data = await handle.request({"request": "create", "room": 7, "admin_key": "admin-key"})

    assert data == {"videoroom": "created", "room": 7, "permanent": False}
    assert janus.kinds() == ["create", "attach", "message"]
    assert all(m["apisecret"] == SECRET for m in janus.received)
    assert len({m["transaction"] for m in janus.received}) == 3


async def test_asynchronous_request_resolves_on_the_event_after_the_ack(client: JanusClient) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    await handle.request({"request": "create", "room": 7, "admin_key": "admin-key"})

    response = await handle.send({"request": "join", "ptype": "publisher", "room": 7, "display": "Ada"})

    assert response.asynchronous
    assert response.data["videoroom"] == "joined"
    assert handle.alive


async def test_plugin_error_raises_with_its_code(client: JanusClient) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)

    with pytest.raises(JanusPluginError) as caught:
        await handle.request({"request": "destroy", "room": 404})

    assert caught.value.code == 426
    assert not caught.value.retryable


async def test_missing_secret_is_refused_by_janus(janus: FakeJanus, clock: FakeClock) -> None:
    async with JanusClient(janus.transport(), clock=clock) as anonymous:
        with pytest.raises(JanusError) as caught:
            await anonymous.create_session()
    assert caught.value.code == 403
    assert not caught.value.retryable


async def test_token_limits_plugins(clock: FakeClock) -> None:
    janus = FakeJanus(tokens={"tok": {"janus.plugin.textroom"}})
    async with JanusClient(janus.transport(), clock=clock, token="tok") as c:
        session = await c.create_session()
        await session.attach("janus.plugin.textroom")
        with pytest.raises(JanusError) as caught:
            await session.attach(VIDEOROOM)
    assert caught.value.code == 405
    assert all(m.get("token") == "tok" for m in janus.received if m["janus"] != "info")


async def test_unanswered_request_times_out_as_retryable(
    client: JanusClient, janus: FakeJanus, clock: FakeClock
) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    janus.silent.add("message")

    request = asyncio.create_task(handle.request({"request": "exists", "room": 1}))
    await settle()
    assert not request.done()
    clock.advance(5)
    await settle()

    with pytest.raises(EngineError) as caught:
        await request
    assert caught.value.retryable
    assert client._pending == {}


async def test_late_reply_after_a_timeout_is_not_an_event(
    client: JanusClient, janus: FakeJanus, clock: FakeClock
) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    janus.silent.add("message")
    request = asyncio.create_task(handle.request({"request": "exists", "room": 1}))
    await settle()
    clock.advance(5)
    await settle()
    with pytest.raises(EngineError):
        await request
    late = janus.received[-1]

    janus.sessions[session.id].connection.push(
        {"janus": "success", "transaction": late["transaction"], "session_id": session.id, "sender": handle.id}
    )
    await settle()

    assert handle._events.pending() == []


async def test_keepalive_every_interval(client: JanusClient, janus: FakeJanus, clock: FakeClock) -> None:
    session = await client.create_session()
    await settle()

    for expected in (1, 2, 3):
        clock.advance(25)
        await settle()
        assert janus.sessions[session.id].keepalives == expected
    assert session.alive


async def test_keepalive_notices_a_vanished_session(client: JanusClient, janus: FakeJanus, clock: FakeClock) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    await settle()
    del janus.sessions[session.id]

    clock.advance(25)
    await settle()

    assert not session.alive
    assert not handle.alive
    assert session.id not in client.sessions


async def test_events_reach_their_handle_queue_and_callbacks(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    other = await session.attach(VIDEOROOM)
    seen: list[JanusEvent] = []
    unsubscribe = handle.on_event(seen.append)

    janus.push_event(session.id, handle.id, {"videoroom": "event", "unpublished": 5})
    janus.push_event(session.id, handle.id, {}, kind="webrtcup")
    event = await asyncio.wait_for(handle.next_event(), 1)
    second = await asyncio.wait_for(handle.next_event(), 1)
    unsubscribe()
    janus.push_event(session.id, handle.id, {}, kind="hangup")
    await asyncio.wait_for(handle.next_event(), 1)

    assert event.janus == "event" and event.data == {"videoroom": "event", "unpublished": 5}
    assert event.plugin == VIDEOROOM and event.sender == handle.id
    assert second.janus == "webrtcup"
    assert [e.janus for e in seen] == ["event", "webrtcup"]
    assert other._events.pending() == []


async def test_event_with_jsep(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)

    janus.push_event(session.id, handle.id, {"videoroom": "attached"}, jsep={"type": "offer", "sdp": "v=0"})
    event = await asyncio.wait_for(handle.next_event(), 1)

    assert event.jsep == {"type": "offer", "sdp": "v=0"}


async def test_detached_event_ends_the_handle(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)

    janus.push_event(session.id, handle.id, {}, kind="detached")
    event = await asyncio.wait_for(handle.next_event(), 1)

    assert event.janus == "detached"
    assert not handle.alive
    assert handle.id not in session.handles
    with pytest.raises(JanusError):
        await handle.request({"request": "exists", "room": 1})


async def test_session_timeout_event(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()

    janus.expire_session(session.id)
    event = await asyncio.wait_for(session.next_event(), 1)

    assert event.janus == "timeout"
    assert not session.alive
    with pytest.raises(JanusError):
        await session.attach(VIDEOROOM)


async def test_event_queue_is_bounded_and_drops_the_oldest(janus: FakeJanus, clock: FakeClock) -> None:
    async with JanusClient(janus.transport(), clock=clock, api_secret=SECRET, event_queue_size=3) as c:
        session = await c.create_session()
        handle = await session.attach(VIDEOROOM)
        for n in range(5):
            janus.push_event(session.id, handle.id, {"n": n})
        await settle()
        kept = [e.data["n"] for e in handle._events.pending()]
    assert kept == [2, 3, 4]
    assert handle.dropped_events == 2


async def test_trickle_hangup_detach(client: JanusClient, janus: FakeJanus) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)

    await handle.trickle({"candidate": "candidate:1 1 udp 1 127.0.0.2 5000 typ host", "sdpMid": "0"})
    await handle.trickle(None)
    await handle.hangup()
    await handle.detach()
    await handle.detach()

    trickles = [m for m in janus.received if m["janus"] == "trickle"]
    assert trickles[1]["candidate"] == {"completed": True}
    assert janus.kinds()[-2:] == ["hangup", "detach"]
    assert not handle.alive


async def test_connection_loss_fails_pending_requests_and_sessions(
    client: JanusClient, janus: FakeJanus
) -> None:
    session = await client.create_session()
    handle = await session.attach(VIDEOROOM)
    janus.silent.add("message")
    lost: list[str] = []
    client.on_disconnect(lambda: lost.append("lost"))
    request = asyncio.create_task(handle.request({"request": "exists", "room": 1}))
    await settle()

    janus.disconnect_all()
    await asyncio.wait_for(client.wait_closed(), 1)

    with pytest.raises(EngineError) as caught:
        await request
    assert caught.value.retryable
    assert lost == ["lost"]
    assert not session.alive and not handle.alive
    with pytest.raises(EngineError):
        await client.create_session()


async def test_close_destroys_sessions_and_stops_every_task(janus: FakeJanus, clock: FakeClock) -> None:
    c = JanusClient(janus.transport(), clock=clock, api_secret=SECRET)
    await c.connect()
    first = await c.create_session()
    second = await c.create_session()
    assert len(c._tasks) == 3  # reader + two keepalives

    await c.close()
    await c.close()

    assert janus.kinds().count("destroy") == 2
    assert janus.sessions == {}
    assert len(c._tasks) == 0
    assert c.closed and not first.alive and not second.alive
    with pytest.raises(EngineError) as caught:
        await c.info()
    assert caught.value.retryable


async def test_destroyed_session_stops_its_keepalive(client: JanusClient, janus: FakeJanus, clock: FakeClock) -> None:
    session = await client.create_session()
    await session.destroy()

    clock.advance(100)
    await settle()

    assert "keepalive" not in janus.kinds()
    assert len(client._tasks) == 1  # only the reader


async def test_info(client: JanusClient) -> None:
    info = await client.info()
    assert info["janus"] == "server_info"
