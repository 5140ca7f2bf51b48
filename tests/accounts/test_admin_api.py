"""User administration through the JSON API: listing, roles, disabling, the last admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from parley.server import Server
from parley.storage.models import Role, User
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]


async def test_only_admins_list_users(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401
    for role in (Role.PARTICIPANT, Role.ORGANISER, Role.FACILITATOR):
        await login(client, await make_user(role))
        response = await client.get("/api/v1/users")
        assert response.status_code == 403, role
        assert response.json()["error"]["code"] == "role_required"
        assert (await client.patch("/api/v1/users/1", json={"role": "admin"})).status_code == 403


async def test_list_search_filter_and_pages(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN, email="root@example.org", name="Root")
    await make_user(Role.ORGANISER, email="maria.lopez@example.org", name="María López")
    await make_user(Role.FACILITATOR, email="kwame@example.org", name="Kwame Lopez-Asante")
    await make_user(Role.PARTICIPANT, email="percent%_@example.org", name="Odd 100%")
    await login(client, admin)

    everyone = (await client.get("/api/v1/users")).json()
    assert everyone["total"] == 4 and everyone["page"] == 1 and everyone["per_page"] == 50
    assert [u["email"] for u in everyone["users"]][0] == "root@example.org"

    lopez = (await client.get("/api/v1/users", params={"q": "LOPEZ"})).json()
    assert sorted(u["email"] for u in lopez["users"]) == ["kwame@example.org", "maria.lopez@example.org"]
    # LIKE wildcards in the search are literal.
    assert [u["email"] for u in (await client.get("/api/v1/users", params={"q": "%_"})).json()["users"]] == [
        "percent%_@example.org"]
    assert (await client.get("/api/v1/users", params={"role": "facilitator"})).json()["total"] == 1

    page2 = (await client.get("/api/v1/users", params={"per_page": 3, "page": 2})).json()
    assert page2["total"] == 4 and len(page2["users"]) == 1
    assert (await client.get("/api/v1/users", params={"per_page": 1000})).status_code == 422
    assert (await client.get("/api/v1/users", params={"page": 0})).status_code == 422
    assert (await client.get("/api/v1/users", params={"q": "a\x00b"})).status_code == 422


async def test_admin_changes_a_role(server: Server, client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await login(client, await make_user(Role.ADMIN))
    user = await make_user(Role.PARTICIPANT)
    response = await client.patch(f"/api/v1/users/{user.id}", json={"role": "organiser"})
    assert response.status_code == 200 and response.json()["role"] == "organiser"
    assert (await client.get(f"/api/v1/users/{user.id}")).json()["role"] == "organiser"
    assert (await client.patch(f"/api/v1/users/{user.id}", json={"role": "emperor"})).status_code == 422
    missing = await client.patch("/api/v1/users/99999", json={"role": "admin"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    assert (await client.get("/api/v1/users/99999")).status_code == 404
    assert (await client.patch(f"/api/v1/users/{2**40}", json={"role": "admin"})).status_code == 422


async def test_disabling_ends_sessions_and_enabling_restores_login(
    client: httpx.AsyncClient, make_client: Callable[[], httpx.AsyncClient], make_user: MakeUser
) -> None:
    await login(client, await make_user(Role.ADMIN))
    user = await make_user(Role.FACILITATOR)
    theirs = make_client()
    await login(theirs, user)
    response = await client.patch(f"/api/v1/users/{user.id}", json={"disabled": True})
    assert response.status_code == 200 and response.json()["disabled"] is True
    assert (await theirs.get("/api/v1/me")).status_code == 401
    again = await theirs.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 401 and again.json()["error"]["code"] == "bad_credentials"
    await client.patch(f"/api/v1/users/{user.id}", json={"disabled": False})
    await login(theirs, user)
    # Re-enabling does not revive the sessions that were ended.
    assert (await theirs.get("/api/v1/me")).status_code == 200


async def test_the_last_admin_cannot_be_removed(server: Server, client: httpx.AsyncClient,
                                                make_user: MakeUser) -> None:
    admin = await make_user(Role.ADMIN)
    await login(client, admin)
    for change in ({"role": "organiser"}, {"disabled": True}, {"role": "participant", "disabled": True}):
        response = await client.patch(f"/api/v1/users/{admin.id}", json=change)
        assert response.status_code == 409, change
        assert response.json()["error"]["code"] == "last_admin"
    # A disabled admin does not count as a way back in.
    dormant = await make_user(Role.ADMIN)
    await client.patch(f"/api/v1/users/{dormant.id}", json={"disabled": True})
    assert (await client.patch(f"/api/v1/users/{admin.id}", json={"role": "organiser"})).status_code == 409
    # With a second enabled admin, the first may step down.
    await client.patch(f"/api/v1/users/{dormant.id}", json={"disabled": False})
    response = await client.patch(f"/api/v1/users/{admin.id}", json={"role": "organiser"})
    assert response.status_code == 200
    assert (await client.get("/api/v1/users")).status_code == 403  # no longer an admin
    stored = await server.accounts.user(dormant.id)
    assert stored is not None and stored.role == Role.ADMIN and not stored.disabled


async def test_admin_api_needs_csrf_with_a_cookie(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await login(client, await make_user(Role.ADMIN))
    user = await make_user(Role.PARTICIPANT)
    del client.headers["X-CSRF-Token"]
    response = await client.patch(f"/api/v1/users/{user.id}", json={"role": "admin"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
