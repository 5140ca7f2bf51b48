"""Logging in and out through the JSON API."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import httpx
import pytest

from parley.server import Server
from parley.storage.models import Role, User
from parley.storage.stores import accounts as store
from tests.conftest import PASSWORD, login
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]


def session_cookie_header(response: httpx.Response) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith("parley_session=")]
    assert len(headers) == 1, headers
    return headers[0]


async def test_login_returns_user_and_csrf_and_sets_a_safe_cookie(client: httpx.AsyncClient,
                                                                   make_user: MakeUser) -> None:
    user = await make_user(Role.ORGANISER, email="Ama@Example.org", name="Ama Mensah")
    response = await client.post("/api/v1/session", json={"email": " AMA@example.org ", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": user.id, "email": "ama@example.org", "display_name": "Ama Mensah", "role": "organiser",
        "locale": None, "time_zone": None, "disabled": False, "created_at": body["user"]["created_at"],
    }
    assert len(body["csrf_token"]) > 20
    cookie = session_cookie_header(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie


async def test_cookie_is_secure_when_configured(server: Server, client: httpx.AsyncClient,
                                                make_user: MakeUser) -> None:
    server.config = dataclasses.replace(
        server.config, server=dataclasses.replace(server.config.server, secure_cookies=True)
    )
    user = await make_user()
    response = await client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "secure" in session_cookie_header(response).lower()


async def test_me_needs_login_and_shows_the_logged_in_user(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "login_required"
    user = await make_user(Role.FACILITATOR)
    await login(client, user)
    me = (await client.get("/api/v1/me")).json()
    assert me["id"] == user.id and me["role"] == "facilitator"


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "disabled", "malformed_email", "no_password"])
async def test_every_failed_login_gives_the_same_vague_answer(
    server: Server, client: httpx.AsyncClient, make_user: MakeUser, case: str
) -> None:
    user = await make_user(Role.ORGANISER, email="kofi@example.org")
    email, password = user.email, PASSWORD
    if case == "wrong_password":
        password = "not the password"
    elif case == "unknown_email":
        email = "nobody@example.org"
    elif case == "disabled":
        admin = await make_user(Role.ADMIN)
        await server.accounts.update_user(admin, user.id, disabled=True)
    elif case == "malformed_email":
        email = "kofi\x07@example.org"  # (NUL never gets this far: parley.web.input_policy refuses it)
    elif case == "no_password":
        linked = await make_user(Role.PARTICIPANT, password=None)
        email = linked.email
    response = await client.post("/api/v1/session", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "bad_credentials", "message": "Wrong email or password."}
    assert "parley_session" not in response.headers.get("set-cookie", "")


async def test_login_body_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/session", json={"email": "a@example.org"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert "password" in response.json()["error"]["fields"]


async def test_logout_ends_the_session(client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient],
                                       make_user: MakeUser) -> None:
    user = await make_user()
    await login(client, user)
    cookie = client.cookies.get("parley_session")
    assert cookie
    response = await client.delete("/api/v1/session")
    assert response.status_code == 204
    cleared = session_cookie_header(response).lower()
    assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
    assert (await client.get("/api/v1/me")).status_code == 401
    # The old cookie value is dead on the server too, not just forgotten by this browser.
    replay = make_client()
    replay.cookies.set("parley_session", cookie)
    assert (await replay.get("/api/v1/me")).status_code == 401


async def test_logout_needs_the_csrf_token(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await login(client, await make_user())
    del client.headers["X-CSRF-Token"]
    response = await client.delete("/api/v1/session")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    client.headers["X-CSRF-Token"] = "forged"
    assert (await client.delete("/api/v1/session")).status_code == 403
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_logging_in_again_replaces_the_previous_session(client: httpx.AsyncClient,
                                                              make_client: Callable[[], httpx.AsyncClient],
                                                              make_user: MakeUser) -> None:
    first, second = await make_user(), await make_user()
    await login(client, first)
    old_cookie = client.cookies.get("parley_session")
    await login(client, second)
    assert (await client.get("/api/v1/me")).json()["id"] == second.id
    replay = make_client()
    replay.cookies.set("parley_session", old_cookie or "")
    assert (await replay.get("/api/v1/me")).status_code == 401


async def test_login_is_rate_limited_per_client_and_account(server: Server, client: httpx.AsyncClient,
                                                            make_user: MakeUser, clock: FakeClock) -> None:
    user = await make_user()
    limit = server.config.auth.login_attempts_per_minute
    for _ in range(limit):
        response = await client.post("/api/v1/session", json={"email": user.email, "password": "guess guess guess"})
        assert response.status_code == 401
    # Even the right password is refused while limited: guessing cannot go faster.
    response = await client.post("/api/v1/session", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    clock.advance(61)
    # The client may try again, but its failures on this account count for 15 minutes.
    assert (await client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})).status_code == 429
    clock.advance(15 * 60)
    assert (await client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})).status_code == 200


async def test_login_is_rate_limited_per_address(server: Server, client: httpx.AsyncClient,
                                                 make_user: MakeUser) -> None:
    limit = server.config.auth.login_attempts_per_minute
    for n in range(limit):
        response = await client.post("/api/v1/session", json={"email": f"x{n}@example.org", "password": "guess"})
        assert response.status_code == 401
    user = await make_user()
    response = await client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


async def test_a_disabled_users_session_stops_working(server: Server, client: httpx.AsyncClient,
                                                      make_user: MakeUser) -> None:
    user = await make_user(Role.FACILITATOR)
    await login(client, user)
    admin = await make_user(Role.ADMIN)
    await server.accounts.update_user(admin, user.id, disabled=True)
    response = await client.get("/api/v1/me")
    assert response.status_code == 401


async def test_expired_sessions_are_swept(server: Server, make_user: MakeUser, clock: FakeClock) -> None:
    user = await make_user(Role.ORGANISER)
    old = await server.accounts.start_session(user)
    clock.advance(server.config.auth.session_days * 86400 + 60)
    fresh = await server.accounts.start_session(user)

    # The server's hourly sweeper wakes on the same clock and may get there first; either way
    # exactly the expired session is gone.
    await server.accounts.sweep_sessions()
    async with server.db.session() as s:
        assert await store.count_sessions(s, user.id) == 1
    assert await server.accounts.resolve_session(old.token) is None
    assert await server.accounts.resolve_session(fresh.token) is not None
