"""Admin API requests and the per-user token registry, against an in-memory Admin endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from parley.errors import EngineError
from parley.media.janus.admin import JanusAdmin, JanusTokens
from parley.media.janus.client import JanusError
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit

SECRET = "admin-secret"


class FakeAdminEndpoint:
    """The token and session parts of Janus's Admin API (1.1 reply shapes)."""

    def __init__(self) -> None:
        self.tokens: dict[str, list[str]] = {}
        self.requests: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        tx = body["transaction"]

        def ok(**fields: object) -> httpx.Response:
            return httpx.Response(200, json={"janus": "success", "transaction": tx, **fields})

        def error(code: int, reason: str) -> httpx.Response:
            return httpx.Response(200, json={"janus": "error", "transaction": tx,
                                             "error": {"code": code, "reason": reason}})

        if body.get("admin_secret") != SECRET:
            return error(403, "Unauthorized request (wrong or missing secret/token)")
        kind = body["janus"]
        if kind == "add_token":
            self.tokens[body["token"]] = list(body["plugins"])
            return ok(data={"plugins": body["plugins"]})
        if kind == "remove_token":
            if self.tokens.pop(body["token"], None) is None:
                return error(490, "Error removing token")
            return ok()
        if kind == "list_tokens":
            return ok(data={"tokens": [{"token": t, "allowed_plugins": p} for t, p in self.tokens.items()]})
        if kind == "list_sessions":
            return ok(sessions=[11, 12])
        if kind == "list_handles":
            assert request.url.path == "/admin/11"
            return ok(session_id=11, handles=[21])
        return error(453, f"Unknown request '{kind}'")

    def forget_everything(self) -> None:
        """What a Janus restart does to stored tokens."""
        self.tokens.clear()


@pytest.fixture
def endpoint() -> FakeAdminEndpoint:
    return FakeAdminEndpoint()


@pytest.fixture
async def admin(endpoint: FakeAdminEndpoint) -> AsyncIterator[JanusAdmin]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    yield JanusAdmin("http://janus/admin", SECRET, http=http)
    await http.aclose()


async def test_token_requests(admin: JanusAdmin, endpoint: FakeAdminEndpoint) -> None:
    allowed = await admin.add_token("Q7xZ-secret-token", ["videoroom", "janus.plugin.textroom"])
    listed = await admin.list_tokens()
    await admin.remove_token("Q7xZ-secret-token")

    assert allowed == ("janus.plugin.videoroom", "janus.plugin.textroom")
    assert [(t.token, t.plugins) for t in listed] == [("Q7xZ-secret-token", allowed)]
    assert "Q7xZ" not in repr(listed[0])
    assert endpoint.tokens == {}
    assert all(r["admin_secret"] == SECRET for r in endpoint.requests)


async def test_sessions_and_handles(admin: JanusAdmin) -> None:
    assert await admin.list_sessions() == [11, 12]
    assert await admin.list_handles(11) == [21]


async def test_wrong_secret_is_refused(endpoint: FakeAdminEndpoint) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        with pytest.raises(JanusError) as caught:
            await JanusAdmin("http://janus/admin", "wrong", http=http).list_sessions()
    assert caught.value.code == 403


async def test_unreachable_admin_is_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(EngineError) as caught:
            await JanusAdmin("http://janus/admin", SECRET, http=http).list_sessions()
    assert caught.value.retryable


async def test_issued_tokens_are_random_scoped_and_revocable(
    admin: JanusAdmin, endpoint: FakeAdminEndpoint, clock: FakeClock
) -> None:
    tokens = JanusTokens(admin, clock=clock)

    first = await tokens.issue()
    second = await tokens.issue(plugins=["textroom"])
    await tokens.revoke(first)
    await tokens.revoke(first)

    assert first != second and len(second) >= 32
    assert endpoint.tokens == {second: ["janus.plugin.textroom"]}
    assert second in tokens and first not in tokens


async def test_tokens_expire(admin: JanusAdmin, endpoint: FakeAdminEndpoint, clock: FakeClock) -> None:
    tokens = JanusTokens(admin, clock=clock, ttl=60)
    old = await tokens.issue()
    clock.advance(30)
    young = await tokens.issue()
    clock.advance(31)

    assert await tokens.expire() == 1
    assert list(endpoint.tokens) == [young] and old not in tokens


async def test_tokens_are_reinstalled_after_a_janus_restart(
    admin: JanusAdmin, endpoint: FakeAdminEndpoint, clock: FakeClock
) -> None:
    tokens = JanusTokens(admin, clock=clock)
    token = await tokens.issue(plugins=["videoroom"])
    endpoint.forget_everything()

    await tokens.reinstall()

    assert endpoint.tokens == {token: ["janus.plugin.videoroom"]}


async def test_revoking_a_token_janus_forgot_is_fine(
    admin: JanusAdmin, endpoint: FakeAdminEndpoint, clock: FakeClock
) -> None:
    tokens = JanusTokens(admin, clock=clock)
    token = await tokens.issue()
    endpoint.forget_everything()

    await tokens.revoke(token)

    assert token not in tokens
