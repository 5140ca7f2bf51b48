"""/ws/workspace on a real Uvicorn: live events, requests over the socket, refusals, and
catching up after a reconnect."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from parley.server import Server
from parley.storage.models import Role
from tests.workspace.conftest import make_dialogue

pytestmark = pytest.mark.integration

API = "/api/v1/workspace"


async def test_messages_reach_members_live_with_unread_counts(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    token = await sign_in(b, bo)
    async with open_socket(live_url, token) as sock:
        assert sock.hello["user_id"] == bo.id
        assert [c["channel_id"] for c in sock.hello["channels"]] == [team.id]
        posted = (await a.post(f"{API}/channels/{team.id}/messages", json={"body": "<b>hi</b> Bo"})).json()
        frame = await sock.expect("message.new")
        assert frame == {
            "type": "message.new",
            "channel_id": team.id,
            "message": posted,
            "unread": 1,
            "total_unread": 1,
        }

        await a.patch(f"{API}/messages/{posted['id']}", json={"body": "hello Bo"})
        edited = await sock.expect("message.edited")
        assert edited["message"]["body"] == "hello Bo" and edited["message"]["edited_at"]

        await a.delete(f"{API}/messages/{posted['id']}")
        deleted = await sock.expect("message.deleted")
        assert (deleted["message"]["body"], deleted["unread"], deleted["total_unread"]) == ("", 0, 0)


async def test_post_edit_delete_and_read_over_the_socket(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    async with open_socket(live_url, await sign_in(a, ada)) as sa, open_socket(live_url, await sign_in(b, bo)) as sb:
        ack = await sa.request({"type": "post", "channel_id": team.id, "body": "from the socket"})
        assert ack["type"] == "ack" and ack["message"]["body"] == "from the socket"
        mid = ack["message"]["id"]
        seen = await sb.expect("message.new")
        assert (seen["message"]["id"], seen["unread"]) == (mid, 1)
        own = await sa.expect("message.new")
        assert (own["unread"], own["total_unread"]) == (0, 0)

        assert (await sa.request({"type": "edit", "message_id": mid, "body": "edited"}))["type"] == "ack"
        assert (await sb.expect("message.edited"))["message"]["body"] == "edited"
        refused = await sb.request({"type": "edit", "message_id": mid, "body": "mine now"})
        assert (refused["type"], refused["code"]) == ("error", "not_author")

        read = await sb.request({"type": "read", "channel_id": team.id, "message_id": None})
        assert read == {"type": "ack", "ref": read["ref"], "message": None}
        unread = await sb.expect("unread")
        assert (unread["channel_id"], unread["count"], unread["last_read_message_id"], unread["total"]) == (
            team.id,
            0,
            mid,
            0,
        )

        page = await sb.request({"type": "fetch", "channel_id": team.id, "after": 0, "limit": 10})
        assert [m["id"] for m in page["messages"]] == [mid] and page["has_more"] is False

        assert (await sa.request({"type": "delete", "message_id": mid}))["message"]["deleted_at"]
        assert (await sb.expect("message.deleted"))["message"]["body"] == ""
        pong = await sb.request({"type": "ping"})
        assert pong["type"] == "pong"


async def test_bad_frames_and_forbidden_requests_get_error_frames(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, _ = await staff_client(Role.ORGANISER)
    cy, c = await staff_client(Role.FACILITATOR)
    other = await server.workspace.sync_dialogue_channel(await make_dialogue(server, ada), "Other", [ada.id])
    async with open_socket(live_url, await sign_in(c, cy)) as sock:
        await sock.conn.send("not json")
        assert (await sock.expect("error"))["code"] == "bad_json"
        await sock.conn.send('{"type": "post", "ref": "r1", "channel_id": "x", "body": "hi"}')
        assert await sock.expect("error") == {
            "type": "error",
            "ref": "r1",
            "code": "bad_frame",
            "message": "channel_id must be an integer",
        }
        for frame in (
            {"type": "post", "channel_id": other, "body": "let me in"},
            {"type": "fetch", "channel_id": other},
            {"type": "read", "channel_id": other},
        ):
            answer = await sock.request(frame)
            assert (answer["type"], answer["code"]) == ("error", "not_member")
        answer = await sock.request({"type": "post", "channel_id": other, "body": ""})
        assert answer["code"] == "body_empty"


async def test_participants_and_strangers_are_refused(
    live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    pat, p = await staff_client(Role.PARTICIPANT)
    async with open_socket(live_url, await sign_in(p, pat), hello=False) as sock:
        assert (await sock.recv())["code"] == "staff_only"
        with pytest.raises(ConnectionClosed) as closed:
            await sock.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with open_socket(live_url, None, hello=False) as sock:
        assert (await sock.recv())["code"] == "login_required"
        with pytest.raises(ConnectionClosed) as closed:
            await sock.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_cross_site_origins_are_refused_at_the_handshake(
    live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    token = await sign_in(a, ada)
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(live_url, token, origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with open_socket(live_url, token, origin=live_url) as sock:
        assert sock.hello["user_id"] == ada.id


async def test_membership_changes_are_live(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    dialogue = await make_dialogue(server, ada, "Nairobi youth")
    async with open_socket(live_url, await sign_in(b, bo)) as sock:
        assert sock.hello["channels"] == []
        team = (await a.post(f"{API}/channels", json={"name": "Team"})).json()
        await a.post(f"{API}/channels/{team['id']}/members", json={"user_ids": [bo.id]})
        added = await sock.expect("channel.added")
        assert added["channel"]["id"] == team["id"]
        await a.post(f"{API}/channels/{team['id']}/messages", json={"body": "welcome"})
        assert (await sock.expect("message.new"))["message"]["body"] == "welcome"

        cid = await server.workspace.sync_dialogue_channel(dialogue, "Nairobi youth", [ada.id, bo.id])
        assert (await sock.expect("channel.added"))["channel"] == {
            "id": cid,
            "kind": "dialogue",
            "name": "Nairobi youth",
            "title": "Nairobi youth",
            "topic": "",
            "dialogue_id": dialogue,
            "direct_user_id": None,
            "is_member": True,
            "last_read_message_id": 0,
            "last_message_id": 0,
            "unread": 0,
        }
        await server.workspace.post(ada, cid, "brief for interpreters")
        assert (await sock.expect("message.new", channel_id=cid))["unread"] == 1

        await server.workspace.sync_dialogue_channel(dialogue, "Nairobi youth", [ada.id])
        removed = await sock.expect("channel.removed")
        assert (removed["channel_id"], removed["total_unread"]) == (cid, 1)
        await server.workspace.post(ada, cid, "not for Bo any more")
        await server.workspace.post(ada, team["id"], "still for Bo")
        frames = await sock.silent(0.5)
        assert [f["message"]["body"] for f in frames if f["type"] == "message.new"] == ["still for Bo"]


async def test_mentions_are_pushed_to_the_mentioned_user(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo", email="bo.li@example.org")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    async with open_socket(live_url, await sign_in(b, bo)) as sock:
        m = await server.workspace.post(ada, team.id, "@bo.li can you take French?")
        note = (await sock.expect("notification"))["notification"]
        assert (note["kind"], note["message_id"], note["actor_name"], note["channel_title"]) == (
            "mention",
            m.id,
            "Ada",
            "Team",
        )
        await b.post(f"{API}/notifications/read", json={})
        assert (await sock.expect("notifications.read"))["unread"] == 0


async def test_nothing_is_lost_across_a_reconnect(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, _ = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    token = await sign_in(b, bo)
    async with open_socket(live_url, token) as sock:
        first = await server.workspace.post(ada, team.id, "before the drop")
        last_seen = (await sock.expect("message.new"))["message"]["id"]
        assert last_seen == first.id
    missed = [(await server.workspace.post(ada, team.id, f"while away {i}")).id for i in range(3)]
    async with open_socket(live_url, token) as sock:
        mark = sock.hello["channels"][0]
        assert (mark["unread"], mark["last_message_id"]) == (4, missed[-1])
        page = await sock.request({"type": "fetch", "channel_id": team.id, "after": last_seen, "limit": 2})
        assert [m["id"] for m in page["messages"]] == missed[:2] and page["has_more"]
        rest = await sock.request({"type": "fetch", "channel_id": team.id, "after": missed[1], "limit": 2})
        assert [m["id"] for m in rest["messages"]] == missed[2:] and not rest["has_more"]
    # The same over HTTP, as the browser does when the socket is down.
    http = (await b.get(f"{API}/channels/{team.id}/messages", params={"after": last_seen})).json()
    assert [m["id"] for m in http["messages"]] == missed


async def test_two_tabs_of_one_user_share_read_state(
    server: Server, live_url: str, staff_client: Any, sign_in: Any, open_socket: Any
) -> None:
    ada, _ = await staff_client(Role.ORGANISER)
    bo, b = await staff_client(Role.INTERPRETER)
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    token = await sign_in(b, bo)
    async with open_socket(live_url, token) as one, open_socket(live_url, token) as two:
        await server.workspace.post(ada, team.id, "hello")
        assert (await one.expect("message.new"))["unread"] == 1
        assert (await two.expect("message.new"))["unread"] == 1
        await one.request({"type": "read", "channel_id": team.id})
        assert (await two.expect("unread"))["count"] == 0
