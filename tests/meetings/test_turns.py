"""Timed turns through the API, time driven by the fake clock: when the speaker's time runs
out the floor passes to the next raised hand, in order, with a fresh countdown, everyone's
state follows (a `meeting.state` event on the bus), and with nobody waiting the turn ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from parley.server import Server
from parley.storage.models import User
from tests.fakes.clock import FakeClock
from tests.meetings.scenario import Setup

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]
NAMES = {"amina": "Amina Diallo", "bruno": "Bruno Silva", "chen": "Chen Wei"}


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def at(clock: FakeClock, seconds: int = 0) -> str:
    """An API timestamp ``seconds`` from the fake clock's now."""
    return (clock.now() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class Floor:
    """A started meeting with Amina, Bruno and Chen admitted; helpers to read who has the floor."""

    def __init__(self, dialogue_id: int, host: httpx.AsyncClient, clients: dict[str, httpx.AsyncClient]) -> None:
        self.id = dialogue_id
        self.host = host
        self.c = clients
        self.ids: dict[str, int] = {}

    def url(self, path: str = "") -> str:
        return f"/api/v1/meetings/{self.id}{path}"

    async def state(self, who: str = "host") -> dict[str, Any]:
        return await ok(await (self.host if who == "host" else self.c[who]).get(self.url()))  # type: ignore[no-any-return]

    async def hand(self, who: str, raised: bool = True) -> None:
        await ok(await self.c[who].post(self.url("/me/hand"), json={"raised": raised}))

    async def floor(self, action: str, **body: Any) -> dict[str, Any]:
        return await ok(await self.host.post(self.url("/floor"), json={"action": action, **body}))  # type: ignore[no-any-return]

    def name(self, pid: int | None) -> str | None:
        return next((who for who, i in self.ids.items() if i == pid), None)

    async def speaker(self, who: str = "host") -> str | None:
        turn = (await self.state(who))["turn"]
        return self.name(turn["participant_id"]) if turn else None


@pytest.fixture
async def room(make_setup: Callable[..., Awaitable[Setup]], as_user: AsUser) -> Floor:
    setup = await make_setup()
    p = setup.people
    host = await as_user(p.facilitator)
    clients = {"amina": await as_user(p.amina), "bruno": await as_user(p.bruno), "chen": await as_user(p.chen)}
    floor = Floor(setup.dialogue.id, host, clients)
    await ok(await host.post(floor.url("/start")))
    await ok(await host.post(floor.url("/join"), json={"mode": "audio"}))
    for who in ("amina", "bruno", "chen"):
        await ok(await clients[who].post(floor.url("/join"), json={"mode": "audio"}))
    waiting = (await floor.state())["waiting"]
    for person in waiting:
        await ok(await host.post(floor.url(f"/participants/{person['id']}/admit")))
    by_name = {p["display_name"]: p["id"] for p in (await floor.state())["participants"]}
    floor.ids = {who: by_name[name] for who, name in NAMES.items()}
    return floor


async def test_the_ticker_passes_the_floor_to_the_next_hand_and_everyone_sees_it(
    room: Floor, server: Server, clock: FakeClock
) -> None:
    await room.hand("amina")
    await room.hand("bruno")
    await room.floor("length", seconds=60)
    state = await room.floor("next")
    assert room.name(state["turn"]["participant_id"]) == "amina" and state["turn"]["ends_at"] == at(clock, 60)
    sub = await server.bus.subscribe([f"meeting:{room.id}"])
    try:
        clock.advance(60)  # wakes the meeting ticker; nothing else moves the floor

        async with asyncio.timeout(10):
            while True:
                _, event = await sub.get()
                turn = event.get("state", {}).get("turn") if event.get("type") == "meeting.state" else None
                if turn is not None and turn["participant_id"] == room.ids["bruno"]:
                    break
    finally:
        await sub.close()
    assert turn["started_at"] == at(clock) and turn["ends_at"] == at(clock, 60)  # a fresh minute
    for who in ("host", "amina", "bruno", "chen"):
        seen = await room.state(who)
        assert room.name(seen["turn"]["participant_id"]) == "bruno" and seen["queue"] == []
    bruno = next(p for p in (await room.state())["participants"] if p["id"] == room.ids["bruno"])
    assert bruno["turns"] == 1 and bruno["hand_raised"] is False


async def test_turns_go_down_the_queue_in_order_then_end_when_nobody_waits(
    room: Floor, server: Server, clock: FakeClock
) -> None:
    await room.hand("chen")
    clock.advance(1)
    await room.hand("amina")
    clock.advance(1)
    await room.hand("bruno")
    await room.floor("length", seconds=90)
    await room.floor("next")
    assert await room.speaker() == "chen"
    version = (await room.state())["version"]

    order = []
    for _ in range(3):
        clock.advance(90)
        await server.meetings.ticker.tick()
        state = await room.state()
        order.append(room.name(state["turn"]["participant_id"]) if state["turn"] else None)
        if state["turn"]:
            assert state["turn"]["ends_at"] == at(clock, 90)
    assert order == ["amina", "bruno", None]
    state = await room.state()
    assert state["queue"] == [] and state["version"] > version
    assert {room.name(p["id"]): p["turns"] for p in state["participants"] if p["role"] == "participant"} == \
        {"amina": 1, "bruno": 1, "chen": 1}

    clock.advance(600)
    await server.meetings.ticker.tick()
    assert (await room.state())["version"] == state["version"]  # nothing left to do


async def test_a_turn_ended_early_or_an_open_turn_never_passes_by_itself(
    room: Floor, server: Server, clock: FakeClock
) -> None:
    await room.hand("amina")
    await room.hand("bruno")
    await room.floor("length", seconds=60)
    await room.floor("next")
    clock.advance(30)
    await room.floor("end")
    clock.advance(60)
    await server.meetings.ticker.tick()
    state = await room.state()
    assert state["turn"] is None and [room.name(pid) for pid in state["queue"]] == ["bruno"]

    await room.floor("length", seconds=None)
    state = await room.floor("next")
    assert room.name(state["turn"]["participant_id"]) == "bruno" and state["turn"]["ends_at"] is None
    clock.advance(3600)
    await server.meetings.ticker.tick()
    assert await room.speaker() == "bruno"


async def test_people_who_lowered_their_hand_left_or_only_listen_are_passed_over(
    room: Floor, server: Server, clock: FakeClock
) -> None:
    for who in ("chen", "amina", "bruno"):
        await room.hand(who)
        clock.advance(1)
    await room.floor("length", seconds=60)
    await room.floor("next")  # Chen
    await room.hand("amina", raised=False)
    await ok(await room.c["bruno"].post(room.url("/join"), json={"mode": "listen"}))  # back as a listener
    clock.advance(60)
    await server.meetings.ticker.tick()
    state = await room.state()
    assert state["turn"] is None and state["queue"] == []

    await room.hand("amina")
    await room.floor("give", participant_id=room.ids["chen"])
    await ok(await room.c["amina"].post(room.url("/me/leave")))
    clock.advance(60)
    await server.meetings.ticker.tick()
    assert await room.speaker() is None
