"""A started meeting as the media tests drive it: the facilitator's client, admission, bots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from parley.server import Server
from parley.storage.models import User
from tests.media.meetings.bots import Bot
from tests.meetings.scenario import Setup

AsUser = Callable[[User], Awaitable[httpx.AsyncClient]]


def api(dialogue_id: int, path: str = "") -> str:
    return f"/api/v1/meetings/{dialogue_id}{path}"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Room:
    def __init__(self, server: Server, setup: Setup, host: httpx.AsyncClient, as_user: AsUser) -> None:
        self.server = server
        self.setup = setup
        self.id = setup.dialogue.id
        self.host = host
        self.as_user = as_user

    @classmethod
    async def start(cls, server: Server, setup: Setup, as_user: AsUser) -> Room:
        host = await as_user(setup.people.facilitator)
        await ok(await host.post(api(setup.dialogue.id, "/start")))
        return cls(server, setup, host, as_user)

    @property
    def janus_url(self) -> str:
        assert self.server.janus is not None
        return self.server.janus.upstream_url

    async def admit(self, name: str) -> int:
        state = await ok(await self.host.get(api(self.id)))
        p = next(p for p in state["waiting"] if p["display_name"] == name)
        await ok(await self.host.post(api(self.id, f"/participants/{p['id']}/admit")))
        return int(p["id"])

    async def bot(self, user: User, name: str, *, consent: bool = False) -> Bot:
        """``consent``: agree to a recording in the lobby (off unless asked, as in the page)."""
        client = await self.as_user(user)
        await ok(await client.post(api(self.id, "/join"), json={"mode": "audio", "consent": consent}))
        await self.admit(name)
        info = await ok(await client.post(api(self.id, "/me/connect")))
        await ok(await client.post(api(self.id, "/me/status"), json={"presence": "online"}))
        return Bot(self.janus_url, info, name=name)

    async def participant(self, name: str) -> dict[str, Any]:
        state = await ok(await self.host.get(api(self.id)))
        return next(p for p in state["participants"] + state["waiting"] if p["display_name"] == name)
