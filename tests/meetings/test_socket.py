"""/ws/meetings/<id> and /ws/janus on a real Uvicorn (with the in-memory Janus): state is
pushed to each viewer as they may see it, chat reaches the people inside, and the Janus
proxy refuses anyone not admitted, reaches only its meeting's room, and closes on removal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from parley.server import Server
from parley.storage.models import User
from parley.web.auth import SESSION_COOKIE
from tests.meetings.scenario import Setup

pytestmark = pytest.mark.integration


class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def expect(self, kind: str, where: Callable[[dict[str, Any]], bool] = lambda f: True) -> dict[str, Any]:
        async with asyncio.timeout(10):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == kind and where(frame):
                    return frame  # type: ignore[no-any-return]


@pytest.fixture
def open_socket(server: Server, live_url: str) -> Callable[..., Any]:
    @asynccontextmanager
    async def opener(user: User, path: str) -> AsyncIterator[Socket]:
        login = await server.accounts.start_session(user)
        url = live_url.replace("http://", "ws://") + path
        async with connect(url, additional_headers={"Cookie": f"{SESSION_COOKIE}={login.token}"}) as ws:
            yield Socket(ws)

    return opener


@pytest.fixture
async def started(make_setup: Callable[..., Awaitable[Setup]],
                  as_user: Callable[[User], Awaitable[httpx.AsyncClient]]) -> tuple[Setup, httpx.AsyncClient]:
    setup = await make_setup()
    host = await as_user(setup.people.facilitator)
    response = await host.post(f"/api/v1/meetings/{setup.dialogue.id}/start")
    assert response.status_code == 200, response.text
    return setup, host


async def test_each_viewer_gets_the_state_they_may_see(
    started: tuple[Setup, httpx.AsyncClient], open_socket: Callable[..., Any],
    as_user: Callable[[User], Awaitable[httpx.AsyncClient]],
) -> None:
    setup, host = started
    path = f"/ws/meetings/{setup.dialogue.id}"
    amina = await as_user(setup.people.amina)
    async with open_socket(setup.people.facilitator, path) as host_socket, \
            open_socket(setup.people.amina, path) as amina_socket:
        first = await amina_socket.expect("state")
        assert first["state"]["you"] is None and first["state"]["status"] == "open"
        await host_socket.expect("state")

        await amina.post(f"/api/v1/meetings/{setup.dialogue.id}/join", json={"mode": "audio"})
        seen_by_host = await host_socket.expect("state", lambda f: bool(f["state"]["waiting"]))
        seen_by_amina = await amina_socket.expect("state", lambda f: f["state"]["you"] is not None)
        assert [p["display_name"] for p in seen_by_host["state"]["waiting"]] == ["Amina Diallo"]
        assert seen_by_amina["state"]["waiting"] == [] and seen_by_amina["state"]["you"]["status"] == "waiting"
        assert all("user_id" not in p for p in seen_by_host["state"]["waiting"])

        pid = seen_by_host["state"]["waiting"][0]["id"]
        await host.post(f"/api/v1/meetings/{setup.dialogue.id}/participants/{pid}/admit")
        admitted = await amina_socket.expect("state", lambda f: f["state"]["you"]["status"] == "admitted")
        assert admitted["state"]["version"] > seen_by_amina["state"]["version"]

        await amina.post(f"/api/v1/meetings/{setup.dialogue.id}/chat", json={"body": "Bonjour"})
        chat = await host_socket.expect("chat")
        assert (chat["message"]["author_name"], chat["message"]["body"]) == ("Amina Diallo", "Bonjour")

        await host.post(f"/api/v1/meetings/{setup.dialogue.id}/end")
        ended_for_host = await host_socket.expect("ended")
        ended_for_amina = await amina_socket.expect("ended")
        assert {s["display_name"] for s in ended_for_host["summary"]} == {"Amina Diallo"}
        assert ended_for_amina["summary"] == []  # the summary is for the facilitator


async def test_the_janus_proxy_refuses_people_not_admitted(
    started: tuple[Setup, httpx.AsyncClient], open_socket: Callable[..., Any], live_url: str,
    as_user: Callable[[User], Awaitable[httpx.AsyncClient]],
) -> None:
    setup, _ = started
    amina = await as_user(setup.people.amina)
    await amina.post(f"/api/v1/meetings/{setup.dialogue.id}/join", json={"mode": "audio"})  # waiting
    for user in (setup.people.amina, setup.people.outsider):
        async with open_socket(user, f"/ws/janus?dialogue={setup.dialogue.id}") as sock:
            with pytest.raises(ConnectionClosed) as closed:
                await sock.ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with connect(live_url.replace("http://", "ws://") + f"/ws/janus?dialogue={setup.dialogue.id}") as anon:
        with pytest.raises(ConnectionClosed) as closed:
            await anon.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_strangers_cannot_open_the_meeting_socket(
    started: tuple[Setup, httpx.AsyncClient], open_socket: Callable[..., Any]
) -> None:
    setup, _ = started
    async with open_socket(setup.people.outsider, f"/ws/meetings/{setup.dialogue.id}") as sock:
        error = await sock.expect("error")
        assert error["code"] == "not_registered"


class FakeUpstream:
    """Stands in for Janus's WebSocket API: records what the proxy lets through, answers acks."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed = asyncio.Event()

    async def handler(self, ws: ServerConnection) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                self.frames.append(frame)
                await ws.send(json.dumps({"janus": "ack", "transaction": frame.get("transaction")}))
        finally:
            self.closed.set()


@pytest.fixture
async def upstream(server: Server) -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    async with serve(fake.handler, "127.0.0.1", 0, subprotocols=[Subprotocol("janus-protocol")]) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        assert server.janus is not None
        server.janus._ws_url = f"ws://127.0.0.1:{port}"
        yield fake


async def test_the_janus_proxy_reaches_only_its_meetings_room_and_ends_with_removal(
    started: tuple[Setup, httpx.AsyncClient], open_socket: Callable[..., Any], upstream: FakeUpstream,
    as_user: Callable[[User], Awaitable[httpx.AsyncClient]],
) -> None:
    setup, host = started
    base = f"/api/v1/meetings/{setup.dialogue.id}"
    amina = await as_user(setup.people.amina)
    await amina.post(f"{base}/join", json={"mode": "audio"})
    waiting = (await host.get(base)).json()["waiting"]
    await host.post(f"{base}/participants/{waiting[0]['id']}/admit")
    info = (await amina.post(f"{base}/me/connect")).json()
    other_room = info["room_id"] + 1

    async def ask(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
        await sock.ws.send(json.dumps(frame))
        async with asyncio.timeout(10):
            return json.loads(await sock.ws.recv())  # type: ignore[no-any-return]

    def message(tx: str, **body: Any) -> dict[str, Any]:
        return {"janus": "message", "session_id": 1, "handle_id": 2, "transaction": tx, "body": body}

    async with open_socket(setup.people.amina, f"/ws/janus?dialogue={setup.dialogue.id}") as sock:
        for tx, frame in [
            ("info", {"janus": "info", "transaction": "info"}),
            ("sub", message("sub", request="join", ptype="subscriber", room=other_room, streams=[{"feed": 7}])),
            ("list", message("list", request="listparticipants", room=other_room)),
            ("exists", message("exists", request="exists", room=other_room)),
            ("tr", {"janus": "attach", "plugin": "janus.plugin.textroom", "transaction": "tr"}),
        ]:
            reply = await ask(sock, frame)
            assert (reply["janus"], reply["transaction"], reply["error"]["code"]) == ("error", tx, 403)
        own = await ask(sock, message("own", request="join", ptype="subscriber", room=info["room_id"],
                                      streams=[{"feed": 7}], pin=info["pin"]))
        assert own == {"janus": "ack", "transaction": "own"}
        # Janus saw only what belongs to this meeting.
        assert [f["transaction"] for f in upstream.frames] == ["own"]

        await host.post(f"{base}/participants/{info['participant_id']}/remove")
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await sock.ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        # Closing the upstream connection is what makes Janus end her sessions and subscriptions.
        async with asyncio.timeout(10):
            await upstream.closed.wait()
