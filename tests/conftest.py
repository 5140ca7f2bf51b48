"""Shared fixtures: a real `Server` on a throwaway database, with a fake clock.

The same tests run on SQLite (default) and on PostgreSQL + Redis when
``PARLEY_TEST_DATABASE_URL`` / ``PARLEY_TEST_REDIS_URL`` are set (`.ci/run` does both).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from parley.config import Config
from parley.server import Server
from parley.storage.models import Role, User
from parley.web.app import create_app
from tests import boundary
from tests.fakes.clock import FakeClock

TEST_DB = os.environ.get("PARLEY_TEST_DATABASE_URL", "")
TEST_REDIS = os.environ.get("PARLEY_TEST_REDIS_URL", "")
EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
PASSWORD = "correct horse battery"


def pytest_report_header() -> list[str]:
    return [f"parley database: {'postgresql' if TEST_DB else 'sqlite'}; bus: {'redis' if TEST_REDIS else 'local'}"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config.load(
        env={},
        overrides={
            "server": {"data_dir": str(tmp_path / "data"), "secret_key": "test-secret-key"},
            "database": {"url": TEST_DB or f"sqlite:///{tmp_path / 'data' / 'parley.sqlite3'}"},
            "bus": {"redis_url": TEST_REDIS, "redis_prefix": f"parley-test-{uuid.uuid4().hex[:12]}:"},
            "analysis": {"enabled": False},
            # Tests run transcript translations themselves (`run_pending`) or start the worker.
            "transcripts": {"translate_in_background": False, "export_wait_s": 0},
            "janus": {"enabled": False},
            "interpretation": {"enabled": False},
        },
    )


@contextlib.asynccontextmanager
async def running_server(config: Config, clock: FakeClock,
                         parts: Callable[[Server], dict[str, Any]] | None = None) -> AsyncIterator[Server]:
    """A started `Server` on a fresh database; ``parts`` names services to use instead of the
    ones it would build (a fake Janus, leases, no worker processes), given the server."""
    srv = Server(config, clock=clock, schema="create")
    srv.__dict__.update(parts(srv) if parts is not None else {})
    if TEST_DB:
        await srv.db.drop_all()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def server(config: Config, clock: FakeClock) -> AsyncIterator[Server]:
    async with running_server(config, clock) as srv:
        yield srv


@pytest.fixture
def app(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The web app, seeing the server through the row guard (`tests.boundary`): a test fails
    when an ORM row reached web code during it."""
    guard = boundary.install(monkeypatch)
    application = create_app(server)
    application.state.server = guard.wrap(server, "server")
    try:
        yield application
    finally:
        boundary.uninstall(guard)
    assert not guard.problems, "ORM rows reached web code:\n" + "\n".join(guard.problems)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client; the server is already started by the `server` fixture."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def make_client(app: Any) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """More independent clients (separate cookie jars) for multi-user tests."""
    clients: list[httpx.AsyncClient] = []

    def factory() -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(c)
        return c

    yield factory
    for c in clients:
        await c.aclose()


@pytest.fixture
def make_user(server: Server) -> Callable[..., Awaitable[User]]:
    counter = iter(range(1, 10_000))

    async def factory(role: Role | str = Role.ORGANISER, *, email: str | None = None, name: str | None = None,
                      password: str | None = PASSWORD) -> User:
        n = next(counter)
        r = Role(role)
        return await server.accounts.create_user(
            email=email or f"{r.value}{n}@example.org", display_name=name or f"{r.value.title()} {n}",
            role=r, password=password,
        )

    return factory


async def login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> str:
    """Log ``client`` in as ``user`` through the real login API; returns the CSRF token."""
    response = await client.post("/api/v1/session", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_url(app: Any) -> AsyncIterator[str]:
    """The app served by a real Uvicorn on loopback (for WebSockets and browsers)."""
    port = free_port()
    cfg = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="auto")
    srv = uvicorn.Server(cfg)
    task = asyncio.create_task(srv.serve(), name="test-uvicorn")
    while not srv.started:  # noqa: ASYNC110 - uvicorn offers no started event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 10)


PROXY = "10.0.0.2"


def trust_proxies(server: Server, *networks: str) -> None:
    """Declare ``server.trusted_proxies`` on a running server (routes read the config per request)."""
    import dataclasses

    server.config = dataclasses.replace(
        server.config, server=dataclasses.replace(server.config.server, trusted_proxies=networks))


def behind_proxy(app: Any, forwarded_for: str, peer: str = PROXY) -> httpx.AsyncClient:
    """A client whose requests reach Parley from ``peer`` with ``X-Forwarded-For: forwarded_for``."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver",
                             headers={"X-Forwarded-For": forwarded_for})
