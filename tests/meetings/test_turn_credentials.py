"""What /me/connect hands a browser for NAT traversal: the static STUN servers and, with a
[turn] section, TURN with a time-limited credential of that person's own, fresh on every
connect (coturn's shared-secret scheme; the secret itself never leaves the server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from parley.config import TurnConfig
from parley.media.turn import TurnIssuer, turn_password
from parley.server import Server
from parley.storage.models import User
from tests.fakes.clock import FakeClock
from tests.meetings.scenario import Setup

pytestmark = pytest.mark.integration

URLS = ("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp")


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_connect_gets_a_fresh_turn_credential_naming_the_participant(
    server: Server, clock: FakeClock, make_setup: Callable[..., Awaitable[Setup]],
    as_user: Callable[[User], Awaitable[httpx.AsyncClient]],
) -> None:
    assert server.janus is not None
    server.janus.turn = TurnIssuer(TurnConfig(urls=URLS, secret="north", ttl_seconds=3600), clock)
    setup = await make_setup()
    host = await as_user(setup.people.facilitator)
    api = f"/api/v1/meetings/{setup.dialogue.id}"
    await ok(await host.post(f"{api}/start"))
    await ok(await host.post(f"{api}/join", json={"mode": "audio"}))

    first = await ok(await host.post(f"{api}/me/connect"))
    [relay] = first["ice_servers"]
    expiry, _, ident = relay["username"].partition(":")
    assert relay["urls"] == list(URLS)
    assert ident == str(first["participant_id"])
    assert int(expiry) == int(clock.now().timestamp()) + 3600
    assert relay["credential"] == turn_password("north", relay["username"])
    assert "north" not in str(first)

    clock.advance(120)
    again = await ok(await host.post(f"{api}/me/connect"))
    assert again["ice_servers"][0]["username"] == f"{int(expiry) + 120}:{ident}"
