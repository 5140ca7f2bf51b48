"""Two real Parley processes sharing one database and Redis: a message posted through one
reaches WebSocket clients connected to the other."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from parley.config import Config
from parley.server import Server
from parley.storage.models import Role, User
from parley.web.auth import SESSION_COOKIE
from tests.conftest import TEST_REDIS, free_port
from tests.fakes.clock import FakeClock

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REDIS = TEST_REDIS or os.environ.get("PARLEY_REDIS_TEST_FALLBACK", "redis://127.0.0.1:6379/13")


@pytest.fixture
async def two_processes(config: Config, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    try:
        probe = aioredis.from_url(REDIS)
        await probe.ping()
        await probe.aclose()
    except Exception as exc:
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": config.database_url,
        "PARLEY_REDIS_URL": REDIS,
        "PARLEY_DATA_DIR": str(tmp_path / "procs"),
        "PARLEY_SERVER_SECRET_KEY": "two-process-test",
        "PARLEY_CONFIG": os.devnull,
        # Workspace events only: no media server or interpretation workers (two processes on one
        # data folder each starting a Janus is what once left a Janus core file in the checkout).
        "PARLEY_JANUS_ENABLED": "false",
        "PARLEY_INTERPRETATION_ENABLED": "false",
    }
    ports = [free_port(), free_port()]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.workspace.serve_app", str(port), cwd=ROOT, env=env
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as http:
            for url, proc in zip(urls, procs, strict=True):
                for _ in range(300):
                    assert proc.returncode is None, "a Parley process exited during start-up"
                    try:
                        if (await http.get(url + "/api/v1/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    pytest.fail(f"{url} did not start")
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def session_for(server: Server, user: User, base: str) -> tuple[str, httpx.AsyncClient]:
    # The other processes run on the system clock; move the fake one to now so the session is live.
    behind = (datetime.now(UTC) - server.clock.now()).total_seconds()
    if behind > 0 and isinstance(server.clock, FakeClock):
        server.clock.advance(behind)
    login = await server.accounts.start_session(user)
    client = httpx.AsyncClient(
        base_url=base, cookies={SESSION_COOKIE: login.token}, headers={"X-CSRF-Token": login.csrf_token}
    )
    return login.token, client


async def test_events_cross_processes_through_redis(
    server: Server, make_user: Any, two_processes: tuple[str, str], open_socket: Any
) -> None:
    one, two = two_processes
    ada = await make_user(Role.ORGANISER, name="Ada", password=None)
    bo = await make_user(Role.INTERPRETER, name="Bo", email="bo.two@example.org", password=None)
    team = await server.workspace.create_team_channel(ada, "Cross-process", member_ids=[bo.id])
    bo_token, _ = await session_for(server, bo, one)
    ada_token, ada_http = await session_for(server, ada, two)
    async with ada_http, open_socket(one, bo_token) as bo_sock, open_socket(two, ada_token) as ada_sock:
        # HTTP post on process two -> socket on process one.
        posted = await ada_http.post(f"/api/v1/workspace/channels/{team.id}/messages", json={"body": "via HTTP on two"})
        assert posted.status_code == 201
        frame = await bo_sock.expect("message.new", wait=10)
        assert (frame["message"]["id"], frame["message"]["body"], frame["unread"]) == (
            posted.json()["id"],
            "via HTTP on two",
            1,
        )

        # Socket post on process two, with a mention -> message and notification on process one.
        ack = await ada_sock.request({"type": "post", "channel_id": team.id, "body": "@bo.two over the socket"})
        assert ack["type"] == "ack"
        frame = await bo_sock.expect("message.new", wait=10)
        assert frame["message"]["id"] == ack["message"]["id"] and frame["unread"] == 2
        note = await bo_sock.expect("notification", wait=10)
        assert note["notification"]["message_id"] == ack["message"]["id"]

        # Bo reads on process one; Ada's process sees nothing of it, Bo's socket gets the count.
        await bo_sock.request({"type": "read", "channel_id": team.id})
        assert (await bo_sock.expect("unread", wait=10))["count"] == 0

        # A channel made on process two, Bo added there: process one subscribes and delivers.
        other = await ada_http.post("/api/v1/workspace/channels", json={"name": "Later", "member_ids": [bo.id]})
        added = await bo_sock.expect("channel.added", wait=10)
        assert added["channel"]["id"] == other.json()["id"]
        await ada_sock.request({"type": "post", "channel_id": added["channel"]["id"], "body": "in the new channel"})
        frame = await bo_sock.expect("message.new", wait=10, channel_id=added["channel"]["id"])
        assert frame["message"]["body"] == "in the new channel"
