"""The JSON API under /api/v1/workspace: who may do what, and stable error codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley.server import Server
from parley.storage.models import Role
from tests.workspace.conftest import make_dialogue

pytestmark = pytest.mark.integration

API = "/api/v1/workspace"


def code(response: httpx.Response) -> str:
    value: str = response.json()["error"]["code"]
    return value


async def test_participants_and_anonymous_are_refused_everywhere(client: httpx.AsyncClient, staff_client: Any) -> None:
    organiser, org = await staff_client(Role.ORGANISER)
    channel = (await org.post(f"{API}/channels", json={"name": "Team"})).json()
    message = (await org.post(f"{API}/channels/{channel['id']}/messages", json={"body": "hi"})).json()
    _, participant = await staff_client(Role.PARTICIPANT)
    calls = [
        ("GET", f"{API}/channels", None),
        ("POST", f"{API}/channels", {"name": "X"}),
        ("GET", f"{API}/team-channels", None),
        ("GET", f"{API}/channels/{channel['id']}", None),
        ("POST", f"{API}/channels/{channel['id']}/join", None),
        ("GET", f"{API}/channels/{channel['id']}/messages", None),
        ("POST", f"{API}/channels/{channel['id']}/messages", {"body": "x"}),
        ("PATCH", f"{API}/messages/{message['id']}", {"body": "x"}),
        ("DELETE", f"{API}/messages/{message['id']}", None),
        ("POST", f"{API}/channels/{channel['id']}/read", {}),
        ("GET", f"{API}/unread", None),
        ("POST", f"{API}/direct", {"user_id": organiser.id}),
        ("GET", f"{API}/people", None),
        ("GET", f"{API}/notifications", None),
        ("POST", f"{API}/notifications/read", {}),
    ]
    for method, url, body in calls:
        refused = await participant.request(method, url, json=body)
        assert (refused.status_code, code(refused)) == (403, "staff_only"), (method, url)
        anonymous = await client.request(method, url, json=body)
        # Body-less anonymous posts fail the CSRF check before the login check.
        assert (anonymous.status_code, code(anonymous)) in ((401, "login_required"), (403, "csrf_failed")), url
    pages = await participant.get("/workspace", headers={"Accept": "text/html"})
    assert pages.status_code == 403


async def test_post_page_edit_delete_through_the_api(staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    created = await a.post(f"{API}/channels", json={"name": "Logistics", "topic": "Rooms", "member_ids": [bo.id]})
    assert created.status_code == 201
    cid = created.json()["id"]

    posted = await b.post(f"{API}/channels/{cid}/messages", json={"body": "<img src=x onerror=alert(1)>"})
    assert posted.status_code == 201
    m = posted.json()
    assert (m["body"], m["author_name"], m["edited_at"], m["deleted_at"]) == (
        "<img src=x onerror=alert(1)>",
        "Bo",
        None,
        None,
    )

    listed = (await a.get(f"{API}/channels")).json()
    assert listed["total_unread"] == 1 and listed["channels"][0]["unread"] == 1
    assert (await a.get(f"{API}/unread")).json() == {"total_unread": 1, "channels": {str(cid): 1}}
    read = await a.post(f"{API}/channels/{cid}/read", json={})
    assert read.json() == {"channel_id": cid, "last_read_message_id": m["id"], "unread": 0, "total_unread": 0}

    denied = await a.patch(f"{API}/messages/{m['id']}", json={"body": "rewritten"})
    assert (denied.status_code, code(denied)) == (403, "not_author")
    edited = await b.patch(f"{API}/messages/{m['id']}", json={"body": "fixed"})
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None

    deleted = await a.delete(f"{API}/messages/{m['id']}")  # organiser moderates
    assert deleted.status_code == 200 and deleted.json()["body"] == "" and deleted.json()["deleted_at"]
    page = (await b.get(f"{API}/channels/{cid}/messages")).json()
    assert page == {"messages": [deleted.json()], "has_more": False}

    detail = (await b.get(f"{API}/channels/{cid}")).json()
    assert {p["display_name"] for p in detail["members"]} == {"Ada", "Bo"}
    assert (detail["can_moderate"], detail["can_leave"], detail["can_manage"]) == (False, True, False)


async def test_bad_input_gets_stable_4xx_codes(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    _, outsider = await staff_client(Role.FACILITATOR)
    cid = (await a.post(f"{API}/channels", json={"name": "Team"})).json()["id"]
    dialogue_channel = await server.workspace.sync_dialogue_channel(await make_dialogue(server, ada), "D", [ada.id])
    cases = [
        (a.post(f"{API}/channels/{cid}/messages", json={"body": ""}), 422, "body_empty"),
        (a.post(f"{API}/channels/{cid}/messages", json={"body": "x" * 4001}), 422, "body_too_long"),
        (a.post(f"{API}/channels/{cid}/messages", json={"body": "bell\u0007"}), 422, "body_invalid"),
        # NUL and lone surrogates never reach the route (`parley.web.input_policy`).
        (a.post(f"{API}/channels/{cid}/messages", json={"body": "nul\u0000"}), 422, "invalid_input"),
        (a.post(f"{API}/channels/{cid}/messages", json={}), 422, "invalid_input"),
        (a.post(f"{API}/channels/999999/messages", json={"body": "x"}), 404, "channel_not_found"),
        (a.get(f"{API}/channels/{cid}/messages?limit=101"), 422, "invalid_input"),
        (a.get(f"{API}/channels/{cid}/messages?before=5&after=1"), 422, "invalid_cursor"),
        (a.get(f"{API}/channels/{2**40}/messages"), 422, "invalid_input"),
        (a.patch(f"{API}/messages/424242", json={"body": "x"}), 404, "message_not_found"),
        (a.post(f"{API}/channels", json={"name": "team"}), 409, "channel_name_taken"),
        (a.post(f"{API}/channels", json={"name": ""}), 422, "invalid_channel_name"),
        (a.post(f"{API}/direct", json={"user_id": ada.id}), 422, "direct_self"),
        (a.post(f"{API}/channels/{dialogue_channel}/leave"), 409, "cannot_leave"),
        (a.post(f"{API}/channels/{dialogue_channel}/members", json={"user_ids": [ada.id]}), 409, "not_team_channel"),
        (outsider.get(f"{API}/channels/{cid}/messages"), 403, "not_member"),
        (outsider.post(f"{API}/channels/{cid}/messages", json={"body": "x"}), 403, "not_member"),
        (outsider.get(f"{API}/channels/{dialogue_channel}"), 403, "not_member"),
        (outsider.post(f"{API}/channels", json={"name": "Mine"}), 403, "organisers_only"),
    ]
    for call, status, expected in cases:
        response = await call
        assert (response.status_code, code(response)) == (status, expected), response.text


async def test_cookie_clients_must_send_the_csrf_token(staff_client: Any) -> None:
    _, a = await staff_client(Role.ORGANISER)
    del a.headers["X-CSRF-Token"]
    response = await a.post(f"{API}/channels", json={"name": "Team"})
    assert (response.status_code, code(response)) == (403, "csrf_failed")


async def test_direct_messages_and_mentions_through_the_api(staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada Obi", email="ada.obi@example.org")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    people = (await b.get(f"{API}/people")).json()["people"]
    assert {"id": ada.id, "display_name": "Ada Obi", "role": "organiser"} in people
    direct = (await b.post(f"{API}/direct", json={"user_id": ada.id})).json()
    assert (direct["kind"], direct["title"]) == ("direct", "Ada Obi")
    again = (await a.post(f"{API}/direct", json={"user_id": bo.id})).json()
    assert again["id"] == direct["id"] and again["title"] == "Bo"
    await b.post(f"{API}/channels/{direct['id']}/messages", json={"body": "@ada.obi ready?"})
    notes = (await a.get(f"{API}/notifications")).json()
    assert notes["unread"] == 1
    assert notes["notifications"][0]["channel_title"] == "Bo"
    assert (await a.post(f"{API}/notifications/read", json={})).json() == {"unread": 0}


async def test_join_and_leave_public_team_channels(staff_client: Any) -> None:
    _, a = await staff_client(Role.ORGANISER)
    _, b = await staff_client(Role.INTERPRETER)
    cid = (await a.post(f"{API}/channels", json={"name": "Open"})).json()["id"]
    browse = (await b.get(f"{API}/team-channels")).json()["channels"]
    assert [(c["id"], c["is_member"]) for c in browse] == [(cid, False)]
    assert (await b.post(f"{API}/channels/{cid}/join")).json()["is_member"] is True
    assert (await b.post(f"{API}/channels/{cid}/messages", json={"body": "hi"})).status_code == 201
    assert (await b.post(f"{API}/channels/{cid}/leave")).status_code == 204
    assert (await b.get(f"{API}/channels/{cid}/messages")).status_code == 403


async def test_openapi_documents_the_workspace(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    paths = [p for p in doc["paths"] if p.startswith(API)]
    assert len(paths) >= 12
    for path in paths:
        for op in doc["paths"][path].values():
            assert op["tags"] == ["workspace"]
            assert "403" in op["responses"]
