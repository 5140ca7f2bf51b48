"""Request bodies are capped before anything parses them (`parley.web.body_limit`)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from tests.conftest import login

from parley.server import Server
from parley.storage.models import Role, User
from parley.web.app import create_app

pytestmark = pytest.mark.integration

MB = 1024 * 1024


def too_large(response: httpx.Response) -> bool:
    return response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"


async def test_a_declared_oversized_body_is_refused_unread(server: Server, client: httpx.AsyncClient) -> None:
    body = b'{"email": "a@example.org", "password": "' + b"x" * (3 * MB) + b'"}'
    response = await client.post("/api/v1/session", content=body, headers={"Content-Type": "application/json"})
    assert too_large(response)
    assert response.json()["error"]["message"] == "The request is too large."
    # The route never ran: the attempt was not even counted against the login limits.
    assert not server.rate_limiter._hits


async def test_a_streamed_body_stops_being_read_at_the_cap(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"email": "a@example.org", "password": "'
        for _ in range(50):
            sent += 1
            yield b"x" * (MB // 4)

    response = await client.post("/api/v1/session", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert too_large(response)
    assert sent < 12  # 2 MiB read, not 12.5


async def test_a_form_page_over_the_cap_gets_an_error_page(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", content=b"email=" + b"a" * (3 * MB),
                                 headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert response.status_code == 413 and "text/html" in response.headers["content-type"]


async def test_a_glossary_import_may_be_as_large_as_its_list(
    client: httpx.AsyncClient, make_user: Callable[..., Awaitable[User]]
) -> None:
    await login(client, await make_user(Role.ORGANISER))
    body = b'{"csv": "' + b"a" * (3 * MB) + b'"}'
    response = await client.post("/api/v1/glossary/import", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422  # read, and refused for its length, not its size


async def test_the_cap_holds_on_a_real_server(live_url: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{live_url}/api/v1/session", content=b"{" + b" " * (5 * MB) + b"}",
                                   headers={"Content-Type": "application/json"})
    assert too_large(response)


async def test_the_cap_is_the_configured_one(server: Server) -> None:
    server.config = dataclasses.replace(
        server.config, server=dataclasses.replace(server.config.server, max_body_bytes=1024))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(server)), base_url="http://t") as c:
        small = await c.post("/api/v1/session", json={"email": "a@example.org", "password": "x" * 500})
        large = await c.post("/api/v1/session", json={"email": "a@example.org", "password": "x" * 1100})
    assert small.status_code == 401 and too_large(large)
