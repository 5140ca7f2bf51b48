"""Two Parley servers on one database and bus (the scale setup): a meeting changed through
one is seen through the other, and Janus events both of them hear count once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.config import Config
from parley.server import Server
from parley.web.app import create_app
from tests.fakes.clock import FakeClock
from tests.meetings.fakes import MeetingJanus, fake_service
from tests.meetings.scenario import Setup, logged_in

pytestmark = pytest.mark.integration


@pytest.fixture
async def second(server: Server, config: Config, clock: FakeClock, janus: MeetingJanus) -> AsyncIterator[Server]:
    """Another Parley process: same database, same bus, same Janus, its own connection to it."""
    other = Server(config, clock=clock, bus=server.bus, schema="none")
    other.__dict__["janus"] = fake_service(janus, clock)
    await other.start()
    try:
        yield other
    finally:
        await other.stop()


async def client_of(srv: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(srv)), base_url="http://testserver")


async def test_a_meeting_is_the_same_through_either_server(
    server: Server, second: Server, make_setup: Callable[..., Awaitable[Setup]], janus: MeetingJanus,
    clock: FakeClock,
) -> None:
    setup = await make_setup()
    did = setup.dialogue.id
    async with await client_of(server) as a, await client_of(second) as b:
        host = await logged_in(server, a, setup.people.facilitator)
        amina = await logged_in(second, b, setup.people.amina)
        assert (await host.post(f"/api/v1/meetings/{did}/start")).status_code == 200
        sub = await server.bus.subscribe([f"meeting:{did}"])

        # Amina joins through the second server; the host on the first sees her waiting.
        assert (await amina.post(f"/api/v1/meetings/{did}/join", json={"mode": "audio"})).status_code == 200
        waiting = (await host.get(f"/api/v1/meetings/{did}")).json()["waiting"]
        assert [p["display_name"] for p in waiting] == ["Amina Diallo"]
        await host.post(f"/api/v1/meetings/{did}/participants/{waiting[0]['id']}/admit")
        async with asyncio.timeout(5):
            while True:
                _, event = await sub.get()
                people = event.get("state", {}).get("people", [])
                if any(p["display_name"] == "Amina Diallo" and p["status"] == "admitted" for p in people):
                    break
        info = (await amina.post(f"/api/v1/meetings/{did}/me/connect")).json()

        # A timed turn given on one server ends through the other's timer.
        await amina.post(f"/api/v1/meetings/{did}/me/hand", json={"raised": True})
        await host.post(f"/api/v1/meetings/{did}/floor", json={"action": "length", "seconds": 60})
        await host.post(f"/api/v1/meetings/{did}/floor", json={"action": "next"})
        clock.advance(61)
        await second.meetings.ticker.tick()
        assert (await host.get(f"/api/v1/meetings/{did}")).json()["turn"] is None

        # Both servers watch the room, as while one takes the node's monitor lease over from the
        # other (the old holder's monitor is still in the room): a talking interval counts once.
        # Which server holds the lease first is a race; wait for one, then join the other.
        room = info["room_id"]
        both = [srv.janus for srv in (server, second)]
        async with asyncio.timeout(10):
            while all(j.monitor_handle(room) is None for j in both):  # type: ignore[union-attr]  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        for j in both:
            await j.monitor.ensure(room)  # type: ignore[union-attr]  # a no-op where it watches already
        monitors = [j.monitor_handle(room) for j in both]  # type: ignore[union-attr]
        assert all(m is not None for m in monitors) and len({m.id for m in monitors if m}) == 2

        def push(kind: str) -> None:
            for m in monitors:
                assert m is not None
                janus.push_event(m.session.id, m.id, {"videoroom": kind, "room": info["room_id"],
                                                      "id": info["feed_id"]})

        async def amina_state() -> dict[str, Any]:
            state = (await host.get(f"/api/v1/meetings/{did}")).json()
            return next(p for p in state["participants"] if p["display_name"] == "Amina Diallo")

        push("talking")
        async with asyncio.timeout(5):
            while not (await amina_state())["talking"]:  # noqa: ASYNC110 - background event handling
                await asyncio.sleep(0.01)
        clock.advance(10)
        push("stopped-talking")
        async with asyncio.timeout(5):
            while (await amina_state())["talking"]:  # noqa: ASYNC110 - background event handling
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # let the slower of the two servers finish its (idempotent) update
        assert (await amina_state())["speaking_seconds"] == 10.0
        await sub.close()
