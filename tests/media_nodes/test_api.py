"""Media nodes over HTTP: the admin JSON API and the /admin/nodes page with its Drain and
Undrain buttons (CSRF-checked forms), for admins only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from parley.handlers.media_nodes import LoadReport, MediaNodes
from parley.storage.models import Role, User
from tests.conftest import csrf_from, login
from tests.media_nodes.conftest import MakeMeeting, registration
from tests.media_nodes.fakes import CREDS

pytestmark = pytest.mark.integration

MakeUser = Callable[..., Awaitable[User]]


async def test_admins_list_nodes_with_load_and_meetings_never_secrets(
        client: httpx.AsyncClient, make_user: MakeUser, media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    node = await media_nodes.register(registration("media-1"))
    await media_nodes.heartbeat(node.id, LoadReport(rooms=2, participants=9, cpu_load=0.3))
    meeting = await make_meeting()
    await media_nodes.place(meeting)
    await login(client, await make_user(Role.ADMIN))
    response = await client.get("/api/v1/admin/nodes")
    assert response.status_code == 200
    [listed] = response.json()["nodes"]
    assert listed["name"] == "media-1" and listed["state"] == "active" and listed["availability"] == "ok"
    assert (listed["rooms"], listed["participants"], listed["cpu_load"]) == (2, 9, 0.3)
    assert [m["meeting_id"] for m in listed["meetings"]] == [meeting]
    for secret in (CREDS.api_secret, CREDS.admin_secret, CREDS.admin_key):
        assert secret not in response.text
    page = await client.get("/admin/nodes")
    assert page.status_code == 200 and "media-1" in page.text and "Dialogue 1" in page.text
    assert CREDS.admin_secret not in page.text


async def test_drain_undrain_and_remove_through_the_api(client: httpx.AsyncClient, make_user: MakeUser,
                                                       media_nodes: MediaNodes) -> None:
    node = await media_nodes.register(registration("media-1"))
    await login(client, await make_user(Role.ADMIN))
    drained = await client.post(f"/api/v1/admin/nodes/{node.id}/drain")
    assert drained.status_code == 200 and drained.json()["state"] == "draining"
    assert drained.json()["availability"] == "draining"
    assert (await client.post(f"/api/v1/admin/nodes/{node.id}/undrain")).json()["state"] == "active"
    missing = await client.post("/api/v1/admin/nodes/999/drain")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "node_not_found"
    removed = await client.delete(f"/api/v1/admin/nodes/{node.id}")
    assert removed.status_code == 200 and removed.json()["state"] == "removed"
    assert (await client.get("/api/v1/admin/nodes")).json()["nodes"] == []
    assert len((await client.get("/api/v1/admin/nodes?all=true")).json()["nodes"]) == 1
    gone = await client.post(f"/api/v1/admin/nodes/{node.id}/drain")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "node_removed"


async def test_removing_a_busy_node_needs_force(client: httpx.AsyncClient, make_user: MakeUser,
                                               media_nodes: MediaNodes, make_meeting: MakeMeeting) -> None:
    node = await media_nodes.register(registration("media-1"))
    await media_nodes.place(await make_meeting())
    await login(client, await make_user(Role.ADMIN))
    busy = await client.delete(f"/api/v1/admin/nodes/{node.id}")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "node_busy"
    assert (await client.delete(f"/api/v1/admin/nodes/{node.id}?force=true")).status_code == 200


async def test_the_page_drains_and_undrains_with_csrf(client: httpx.AsyncClient, make_user: MakeUser,
                                                     media_nodes: MediaNodes) -> None:
    node = await media_nodes.register(registration("media-1"))
    admin = await make_user(Role.ADMIN)
    await login(client, admin)
    del client.headers["X-CSRF-Token"]
    page = await client.get("/admin/nodes")
    token = csrf_from(page.text)
    assert 'value="drain"' in page.text
    forged = await client.post(f"/admin/nodes/{node.id}", data={"action": "drain"})
    assert forged.status_code == 403
    assert (await media_nodes.get(None, node.id)).state.value == "active"
    done = await client.post(f"/admin/nodes/{node.id}", data={"action": "drain", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/admin/nodes?done=saved"
    assert (await media_nodes.get(None, node.id)).state.value == "draining"
    page = await client.get("/admin/nodes?done=saved")
    assert 'value="undrain"' in page.text and "Draining" in page.text
    await client.post(f"/admin/nodes/{node.id}", data={"action": "undrain", "csrf_token": token})
    assert (await media_nodes.get(None, node.id)).state.value == "active"
    missing = await client.post("/admin/nodes/999", data={"action": "drain", "csrf_token": token})
    assert missing.status_code == 404 and "No such media node" in missing.text


@pytest.mark.parametrize("role", [Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER, Role.PARTICIPANT])
async def test_only_admins_see_or_change_nodes(client: httpx.AsyncClient, make_user: MakeUser,
                                              media_nodes: MediaNodes, role: Role) -> None:
    node = await media_nodes.register(registration("media-1"))
    await login(client, await make_user(role))
    for response in (await client.get("/api/v1/admin/nodes"), await client.post(f"/api/v1/admin/nodes/{node.id}/drain"),
                     await client.get("/admin/nodes")):
        assert response.status_code == 403
    assert (await media_nodes.get(None, node.id)).state.value == "active"


async def test_nobody_logged_in_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/admin/nodes")).status_code == 401
    page = await client.get("/admin/nodes")
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]
