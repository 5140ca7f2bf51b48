"""Workspace test helpers: signed-in clients, dialogues, and WebSocket connections."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from parley.server import Server
from parley.storage.models import Dialogue, Role, User
from parley.web.auth import SESSION_COOKIE

SignIn = Callable[[httpx.AsyncClient, User], Awaitable[str]]


@pytest.fixture
def sign_in(server: Server) -> SignIn:
    """Give ``client`` a login session for ``user`` (cookie + CSRF header); returns the cookie value.

    Sessions are made through `Accounts` so these tests do not depend on the login pages.
    """

    async def factory(client: httpx.AsyncClient, user: User) -> str:
        login = await server.accounts.start_session(user)
        client.cookies.set(SESSION_COOKIE, login.token)
        client.headers["X-CSRF-Token"] = login.csrf_token
        return login.token

    return factory


@pytest.fixture
def staff_client(make_client: Callable[[], httpx.AsyncClient], make_user: Any, sign_in: SignIn) -> Any:
    """``user, client = await staff_client(Role.ORGANISER, name="Ada")``."""

    async def factory(role: Role = Role.ORGANISER, **kwargs: Any) -> tuple[User, httpx.AsyncClient]:
        user = await make_user(role, password=None, **kwargs)
        client = make_client()
        await sign_in(client, user)
        return user, client

    return factory


async def make_dialogue(server: Server, organiser: User | None = None, title: str = "Dialogue") -> int:
    now = server.clock.now()
    async with server.db.session() as s:
        d = Dialogue(
            title=title,
            description="",
            questions=["Q1"],
            languages=["en"],
            invite_code=secrets.token_hex(8),
            organiser_id=organiser.id if organiser else None,
            created_at=now,
            updated_at=now,
        )
        s.add(d)
        await s.flush()
        return d.id


class Socket:
    """A test WebSocket client that reads typed-enough frames with a timeout."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.refs = 0

    async def recv(self, wait: float = 5.0) -> dict[str, Any]:
        data = json.loads(await asyncio.wait_for(self.conn.recv(), wait))
        assert isinstance(data, dict)
        return data

    async def expect(self, type_: str, wait: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next frame of ``type_`` (matching ``match``), skipping others."""
        while True:
            frame = await self.recv(wait)
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def request(self, frame: dict[str, Any], wait: float = 5.0) -> dict[str, Any]:
        self.refs += 1
        ref = f"t{self.refs}"
        await self.conn.send(json.dumps({**frame, "ref": ref}))
        while True:
            answer = await self.recv(wait)
            if answer.get("ref") == ref and answer["type"] in ("ack", "error", "messages", "pong"):
                return answer

    async def silent(self, wait: float = 0.3) -> list[dict[str, Any]]:
        """Frames that arrive within ``wait`` seconds (to check that something did NOT arrive)."""
        frames = []
        try:
            while True:
                frames.append(await self.recv(wait))
        except TimeoutError:
            return frames


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/ws/workspace"


@pytest.fixture
def open_socket() -> Callable[..., Any]:
    """``async with open_socket(live_url, token) as sock:``; waits for the hello frame."""

    @asynccontextmanager
    async def factory(
        base: str, token: str | None, *, origin: str | None = None, hello: bool = True
    ) -> AsyncIterator[Socket]:
        headers = {}
        if token is not None:
            headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        if origin is not None:
            headers["Origin"] = origin
        async with connect(ws_url(base), additional_headers=headers, open_timeout=10) as conn:
            sock = Socket(conn)
            if hello:
                sock.hello = await sock.expect("hello")  # type: ignore[attr-defined]
            yield sock

    return factory
