"""One's own account through the JSON API: preferences, password, API tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from parley.handlers.accounts import MAX_API_TOKENS
from parley.security import hash_token
from parley.server import Server
from parley.storage.models import ApiToken, Role, User
from parley.storage.stores import accounts as store
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]
NEW_PASSWORD = "a much longer new passphrase"


async def test_preferences_are_saved(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await login(client, await make_user(Role.INTERPRETER))
    response = await client.patch("/api/v1/me", json={"display_name": "  Leila   Haddad ", "locale": "ar",
                                                        "time_zone": "Africa/Casablanca"})
    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["locale"], body["time_zone"]) == ("Leila Haddad", "ar", "Africa/Casablanca")
    # Omitted fields stay; null means "follow the browser".
    body = (await client.patch("/api/v1/me", json={"locale": None})).json()
    assert (body["display_name"], body["locale"], body["time_zone"]) == ("Leila Haddad", None, "Africa/Casablanca")


async def test_invalid_preferences_are_all_reported_and_nothing_is_written(
    server: Server, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    user = await make_user(Role.ORGANISER, name="Before")
    await login(client, user)
    response = await client.patch("/api/v1/me", json={"display_name": "  ", "locale": "de",
                                                        "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["fields"] == {"display_name": "length", "locale": "unknown", "time_zone": "unknown"}
    # A single problem keeps its own code.
    response = await client.patch("/api/v1/me", json={"display_name": "After", "time_zone": "../../etc/passwd"})
    assert response.json()["error"]["code"] == "unknown_time_zone"
    stored = await server.accounts.user(user.id)
    assert stored is not None and stored.display_name == "Before" and stored.time_zone is None
    response = await client.patch("/api/v1/me", json={"display_name": None})
    assert response.status_code == 422


async def test_password_change(server: Server, client: httpx.AsyncClient,
                               make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser) -> None:
    user = await make_user(Role.ORGANISER)
    other_device = make_client()
    await login(other_device, user)
    await login(client, user)

    wrong = await client.post("/api/v1/me/password", json={"current_password": "nope", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert wrong.json()["error"]["fields"] == {"current_password": "wrong"}
    short = await client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    assert short.json()["error"]["fields"] == {"new_password": "too_short"}
    assert (await other_device.get("/api/v1/me")).status_code == 200  # nothing changed yet

    done = await client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 200
    assert (await other_device.get("/api/v1/me")).status_code == 401
    stored = await server.accounts.user(user.id)
    assert stored is not None and stored.credentials_version == user.credentials_version + 1
    fresh = make_client()
    assert (await fresh.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})).status_code == 401
    await login(fresh, user, NEW_PASSWORD)


async def test_password_change_needs_csrf(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await login(client, await make_user())
    del client.headers["X-CSRF-Token"]
    response = await client.post("/api/v1/me/password", json={"current_password": PASSWORD,
                                                               "new_password": NEW_PASSWORD})
    assert response.status_code == 403


async def test_api_tokens_are_shown_once_and_work_as_bearer(server: Server, client: httpx.AsyncClient,
                                                            make_client: Callable[[], httpx.AsyncClient],
                                                            make_user: MakeUser) -> None:
    user = await make_user(Role.ORGANISER)
    await login(client, user)
    created = await client.post("/api/v1/me/tokens", json={"name": "Reporting dashboard"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    token_id = created.json()["token"]["id"]
    assert secret.startswith("prl_")
    async with server.db.session() as s:
        row = await s.get(ApiToken, token_id)
        assert row is not None and row.token_hash == hash_token(secret) and secret not in row.token_hash

    listed = (await client.get("/api/v1/me/tokens")).json()["tokens"]
    assert [(t["id"], t["name"], t["last_used_at"]) for t in listed] == [(token_id, "Reporting dashboard", None)]
    assert "secret" not in listed[0]

    integration = make_client()
    integration.headers["Authorization"] = f"Bearer {secret}"
    assert (await integration.get("/api/v1/me")).json()["id"] == user.id
    # Bearer requests need no CSRF token, but cannot mint more tokens.
    assert (await integration.patch("/api/v1/me", json={"time_zone": "Asia/Dhaka"})).status_code == 200
    refused = await integration.post("/api/v1/me/tokens", json={"name": "another"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "session_required"
    assert (await client.get("/api/v1/me/tokens")).json()["tokens"][0]["last_used_at"] is not None

    assert (await client.delete(f"/api/v1/me/tokens/{token_id}")).status_code == 204
    response = await integration.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_token"
    assert (await client.delete(f"/api/v1/me/tokens/{token_id}")).status_code == 404


async def test_tokens_of_others_cannot_be_revoked(client: httpx.AsyncClient,
                                                  make_client: Callable[[], httpx.AsyncClient],
                                                  make_user: MakeUser) -> None:
    owner = make_client()
    await login(owner, await make_user())
    token_id = (await owner.post("/api/v1/me/tokens", json={"name": "mine"})).json()["token"]["id"]
    await login(client, await make_user(Role.ADMIN))
    response = await client.delete(f"/api/v1/me/tokens/{token_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "token_not_found"
    assert len((await owner.get("/api/v1/me/tokens")).json()["tokens"]) == 1


async def test_token_names_are_validated_and_counted(server: Server, client: httpx.AsyncClient,
                                                     make_user: MakeUser) -> None:
    user = await make_user()
    await login(client, user)
    response = await client.post("/api/v1/me/tokens", json={"name": " \t "})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"name": "length"}
    for n in range(MAX_API_TOKENS):
        assert (await client.post("/api/v1/me/tokens", json={"name": f"t{n}"})).status_code == 201
    response = await client.post("/api/v1/me/tokens", json={"name": "one too many"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_tokens"
    async with server.db.session() as s:
        assert await store.count_api_tokens(s, user.id) == MAX_API_TOKENS


async def test_a_disabled_users_token_stops_working(server: Server, client: httpx.AsyncClient,
                                                    make_client: Callable[[], httpx.AsyncClient],
                                                    make_user: MakeUser) -> None:
    user = await make_user(Role.INTERPRETER)
    await login(client, user)
    secret = (await client.post("/api/v1/me/tokens", json={"name": "x"})).json()["secret"]
    admin = await make_user(Role.ADMIN)
    await server.accounts.update_user(admin, user.id, disabled=True)
    integration = make_client()
    response = await integration.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


async def test_a_password_change_revokes_every_api_token(client: httpx.AsyncClient,
                                                         make_client: Callable[[], httpx.AsyncClient],
                                                         make_user: MakeUser) -> None:
    """Whoever learnt the old password may have made a token with it: tokens go with it."""
    await login(client, await make_user(Role.ORGANISER))
    secret = (await client.post("/api/v1/me/tokens", json={"name": "Integration"})).json()["secret"]
    integration = make_client()
    integration.headers["Authorization"] = f"Bearer {secret}"
    assert (await integration.get("/api/v1/me")).status_code == 200
    done = await client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    refused = await integration.get("/api/v1/me")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "bad_token"
    assert (await client.get("/api/v1/me/tokens")).json()["tokens"] == []
