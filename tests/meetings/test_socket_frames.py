"""What the meeting page sends on /ws/meetings/<id> (real Uvicorn): ``{"type":"ping"}`` gets
``{"type":"pong"}``, ``captions`` is taken silently, and a frame the socket cannot read gets an
error frame while the socket stays open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from parley.server import Server
from parley.storage.models import User
from parley.web.auth import SESSION_COOKIE
from tests.meetings.scenario import Setup

pytestmark = pytest.mark.integration


async def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


async def test_the_meeting_page_frames(server: Server, live_url: str, make_setup: Callable[..., Awaitable[Setup]],
                                       as_user: Callable[[User], Awaitable[httpx.AsyncClient]]) -> None:
    setup = await make_setup()
    host = await as_user(setup.people.facilitator)
    assert (await host.post(f"/api/v1/meetings/{setup.dialogue.id}/start")).status_code == 200
    login = await server.accounts.start_session(setup.people.facilitator)
    url = live_url.replace("http://", "ws://") + f"/ws/meetings/{setup.dialogue.id}"
    async with connect(url, additional_headers={"Cookie": f"{SESSION_COOKIE}={login.token}"}) as ws:
        await _next(ws, "state")
        await ws.send(json.dumps({"type": "captions", "language": "fr"}))
        await ws.send("ping")
        error = await _next(ws, "error")
        assert error["code"] == "bad_frame"
        await ws.send('{"type":"ping"}')
        assert await _next(ws, "pong") == {"type": "pong"}
        await ws.send(json.dumps({"type": "captions", "language": "x" * 40}))
        assert (await _next(ws, "error"))["code"] == "bad_frame"
