"""Janus tokens nobody may use any more (holder left or was removed, meeting over, token
expired) are revoked in Janus and forgotten in the database: right away when Janus answers,
otherwise by the ticker's sweep, a bounded batch at a time. After a Janus restart only the
live tokens come back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.handlers.meetings.ticker import TOKEN_SWEEP_SECONDS
from parley.server import Server
from parley.storage.models import User
from parley.storage.stores import meetings as meeting_store
from tests.fakes.clock import FakeClock
from tests.meetings.fakes import MeetingJanus
from tests.meetings.scenario import Setup

pytestmark = pytest.mark.integration

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]
NAMES = {"amina": "Amina Diallo", "bruno": "Bruno Silva", "chen": "Chen Wei"}


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(10):
        while not await check():  # noqa: ASYNC110 - polls the database, nothing to wait on
            await asyncio.sleep(0.01)


class People:
    """A started meeting whose participants connected to Janus (each holds a token)."""

    def __init__(self, server: Server, janus: MeetingJanus, dialogue_id: int, host: httpx.AsyncClient,
                 clients: dict[str, httpx.AsyncClient]) -> None:
        self.server = server
        self.janus = janus
        self.id = dialogue_id
        self.host = host
        self.c = clients
        self.info: dict[str, dict[str, Any]] = {}

    def url(self, path: str = "") -> str:
        return f"/api/v1/meetings/{self.id}{path}"

    async def connect(self, who: str) -> dict[str, Any]:
        self.info[who] = await ok(await self.c[who].post(self.url("/me/connect")))
        return self.info[who]

    def token(self, who: str) -> str:
        return str(self.info[who]["token"])

    async def stored(self) -> dict[str, str | None]:
        """Each participant's token as the database holds it."""
        async with self.server.db.session() as s:
            meeting = await meeting_store.meeting_for(s, self.id)
            assert meeting is not None
            rows = await meeting_store.participants(s, meeting.id)
        names = {v: k for k, v in NAMES.items()}
        return {names[p.display_name]: p.janus_token for p in rows if p.display_name in names}

    def in_janus(self, who: str) -> bool:
        assert self.janus.tokens is not None
        return self.token(who) in self.janus.tokens

    def allowed(self, who: str) -> bool:
        room = self.janus.videoroom.rooms[int(self.info[who]["room_id"])]
        return room.allowed is not None and self.token(who) in room.allowed

    async def remove(self, who: str) -> None:
        await ok(await self.host.post(self.url(f"/participants/{self.info[who]['participant_id']}/remove")))


@pytest.fixture
async def people(server: Server, janus: MeetingJanus, make_setup: Callable[..., Awaitable[Setup]],
                 as_user: AsUser) -> People:
    setup = await make_setup()
    p = setup.people
    host = await as_user(p.facilitator)
    clients = {"amina": await as_user(p.amina), "bruno": await as_user(p.bruno), "chen": await as_user(p.chen)}
    out = People(server, janus, setup.dialogue.id, host, clients)
    await ok(await host.post(out.url("/start")))
    for who in ("amina", "bruno", "chen"):
        await ok(await clients[who].post(out.url("/join"), json={"mode": "audio"}))
    for person in (await ok(await host.get(out.url())))["waiting"]:
        await ok(await host.post(out.url(f"/participants/{person['id']}/admit")))
    for who in ("amina", "bruno", "chen"):
        await out.connect(who)
    return out


async def test_a_token_janus_would_not_revoke_at_removal_is_revoked_by_the_ticker_later(
    people: People, janus: MeetingJanus, clock: FakeClock
) -> None:
    janus.failing.add("remove_token")
    await people.remove("amina")

    # Janus kept it, so the database keeps it too, for the sweep.
    assert people.in_janus("amina") and (await people.stored())["amina"] == people.token("amina")

    janus.failing.clear()
    clock.advance(TOKEN_SWEEP_SECONDS)  # the meeting ticker's next round sweeps

    async def swept() -> bool:
        return not people.in_janus("amina") and (await people.stored())["amina"] is None

    await eventually(swept)
    assert not people.allowed("amina")
    assert all(people.in_janus(who) for who in ("bruno", "chen"))
    assert (await people.stored())["bruno"] == people.token("bruno")


async def test_the_sweep_revokes_a_bounded_batch_each_time_oldest_first(
    people: People, server: Server, janus: MeetingJanus
) -> None:
    janus.failing.add("remove_token")
    for who in ("amina", "bruno", "chen"):
        await ok(await people.c[who].post(people.url("/me/leave")))
    assert all(people.in_janus(who) for who in NAMES)
    janus.failing.clear()
    server.meetings.tokens.sweep_batch = 2

    assert await server.meetings.tokens.sweep() == 2
    assert [people.in_janus(who) for who in ("amina", "bruno", "chen")] == [False, False, True]
    assert await people.stored() == {"amina": None, "bruno": None, "chen": people.token("chen")}
    assert await server.meetings.tokens.sweep() == 1
    assert not people.in_janus("chen") and (await people.stored())["chen"] is None
    assert await server.meetings.tokens.sweep() == 0


async def test_an_expired_token_is_revoked_and_its_holder_gets_a_fresh_one(
    people: People, server: Server, janus: MeetingJanus, clock: FakeClock
) -> None:
    ttl = server.meetings.connections.token_ttl
    first = people.token("bruno")
    clock.advance(ttl - 120)
    await people.connect("bruno")  # within five minutes of expiry: a new token, the old one revoked
    assert people.token("bruno") != first and people.in_janus("bruno")
    assert janus.tokens is not None and first not in janus.tokens
    clock.advance(180)  # Amina's and Chen's tokens are now past their time; Bruno's is not

    await server.meetings.tokens.sweep()

    assert not people.in_janus("amina") and not people.in_janus("chen") and people.in_janus("bruno")
    assert await people.stored() == {"amina": None, "bruno": people.token("bruno"), "chen": None}
    state = await ok(await people.host.get(people.url()))
    assert {p["display_name"] for p in state["participants"]} >= set(NAMES.values())  # nobody was put out
    old = people.token("amina")
    again = await people.connect("amina")
    assert again["token"] != old and people.in_janus("amina") and people.allowed("amina")


async def test_ending_while_janus_refuses_leaves_the_tokens_to_the_sweep(
    people: People, server: Server, janus: MeetingJanus
) -> None:
    janus.failing.add("remove_token")
    await ok(await people.host.post(people.url("/end")))
    assert all(people.in_janus(who) for who in NAMES)
    assert await people.stored() == {who: people.token(who) for who in NAMES}

    janus.failing.clear()
    assert await server.meetings.tokens.sweep() == 3
    assert not any(people.in_janus(who) for who in NAMES)
    assert await people.stored() == dict.fromkeys(NAMES)


async def test_after_a_janus_restart_only_live_tokens_come_back(
    people: People, server: Server, janus: MeetingJanus
) -> None:
    janus.failing.add("remove_token")
    await people.remove("bruno")  # the revocation fails: still stored, but no longer live
    janus.failing.clear()
    assert server.janus is not None
    before = server.janus.recoveries

    janus.restart()

    async def recovered() -> bool:
        return server.janus is not None and server.janus.recoveries > before and bool(janus.videoroom.rooms)

    await eventually(recovered)
    assert people.in_janus("amina") and people.in_janus("chen") and not people.in_janus("bruno")
    assert people.allowed("amina") and not people.allowed("bruno")
    # Janus has forgotten Bruno's token already; the sweep only has to forget it too.
    assert await server.meetings.tokens.sweep() == 1
    assert (await people.stored())["bruno"] is None
