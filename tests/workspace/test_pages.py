"""The /workspace pages without JavaScript: server-rendered history and plain forms."""

from __future__ import annotations

import re
from typing import Any

import pytest

from parley.server import Server
from parley.storage.models import Role

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


def form_csrf(client: Any) -> dict[str, str]:
    return {"csrf_token": client.headers["X-CSRF-Token"]}


async def test_workspace_page_lists_channels_with_unread_badges(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Logistics", member_ids=[bo.id])
    await server.workspace.post(ada, team.id, "one")
    await server.workspace.post(ada, team.id, "two")
    await server.workspace.open_direct(ada, bo.id)

    page = await b.get("/workspace", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert f'href="/workspace/c/{team.id}"' in html and "# Logistics" in html
    badge = re.search(rf'data-channel-id="{team.id}".*?<span class="ws-count">(\d+)</span>', html, re.S)
    assert badge and badge.group(1) == "2"
    assert ">Ada<" in html  # the direct channel is titled with the other person's name
    assert '<script src="/static/js/workspace.js" defer></script>' in html
    assert "<script>" not in html  # no inline scripts (CSP)


async def test_channel_page_renders_history_escaped_and_marks_it_read(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    await server.workspace.post(ada, team.id, "<script>alert('x')</script>")
    page = await b.get(f"/workspace/c/{team.id}", headers=HTML)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert f'action="/workspace/c/{team.id}/messages"' in page.text
    assert (await server.workspace.list_channels(bo))[1] == 0


async def test_posting_with_the_plain_form(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    team = await server.workspace.create_team_channel(ada, "Team")
    response = await a.post(f"/workspace/c/{team.id}/messages", data={"body": "Hello team", **form_csrf(a)})
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/workspace/c/{team.id}#m-")
    page = await a.get(f"/workspace/c/{team.id}", headers=HTML)
    assert "Hello team" in page.text


async def test_a_failed_post_keeps_what_was_typed(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    team = await server.workspace.create_team_channel(ada, "Team")
    draft = "y" * 4001
    response = await a.post(f"/workspace/c/{team.id}/messages", data={"body": draft, **form_csrf(a)}, headers=HTML)
    assert response.status_code == 422
    assert draft in response.text
    assert 'aria-invalid="true"' in response.text and "4000" in response.text


async def test_form_posts_without_the_csrf_token_are_refused(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    team = await server.workspace.create_team_channel(ada, "Team")
    del a.headers["X-CSRF-Token"]
    response = await a.post(f"/workspace/c/{team.id}/messages", data={"body": "x"})
    assert response.status_code == 403


async def test_edit_and_delete_with_plain_forms(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    bo, b = await staff_client(Role.INTERPRETER)
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    mine = await server.workspace.post(bo, team.id, "typo hre")

    form = await b.get(f"/workspace/m/{mine.id}/edit", headers=HTML)
    assert form.status_code == 200 and "typo hre" in form.text
    assert (await a.get(f"/workspace/m/{mine.id}/edit", headers=HTML)).status_code == 403
    saved = await b.post(f"/workspace/m/{mine.id}/edit", data={"body": "typo here", **form_csrf(b)})
    assert saved.status_code == 303
    page = await b.get(f"/workspace/c/{team.id}", headers=HTML)
    assert "typo here" in page.text and "(edited)" in page.text

    deleted = await b.post(f"/workspace/m/{mine.id}/delete", data=form_csrf(b))
    assert deleted.status_code == 303
    page = await b.get(f"/workspace/c/{team.id}", headers=HTML)
    assert "typo here" not in page.text and "This message was deleted." in page.text


async def test_create_join_leave_and_direct_with_plain_forms(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    bo, b = await staff_client(Role.FACILITATOR, name="Bo")
    created = await a.post("/workspace/channels", data={"name": "Rooms", "topic": "Zoom links", **form_csrf(a)})
    assert created.status_code == 303
    cid = int(created.headers["location"].rsplit("/", 1)[1])

    taken = await a.post("/workspace/channels", data={"name": "rooms", "topic": "kept", **form_csrf(a)}, headers=HTML)
    assert taken.status_code == 409 and 'value="kept"' in taken.text

    browse = await b.get("/workspace/browse", headers=HTML)
    assert f'action="/workspace/c/{cid}/join"' in browse.text
    assert 'action="/workspace/channels"' not in browse.text  # facilitators cannot create
    assert (await b.post(f"/workspace/c/{cid}/join", data=form_csrf(b))).status_code == 303
    assert (await b.get(f"/workspace/c/{cid}", headers=HTML)).status_code == 200
    assert (await b.post(f"/workspace/c/{cid}/leave", data=form_csrf(b))).status_code == 303
    assert (await b.get(f"/workspace/c/{cid}", headers=HTML)).status_code == 403

    direct = await a.post("/workspace/direct", data={"user_id": str(bo.id), **form_csrf(a)})
    assert direct.status_code == 303
    page = await a.get(direct.headers["location"], headers=HTML)
    assert '<h2 id="ws-pane-title">Bo</h2>' in page.text


async def test_older_messages_link_pages_back(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER)
    team = await server.workspace.create_team_channel(ada, "Team")
    ids = [(await server.workspace.post(ada, team.id, f"message number {i}")).id for i in range(55)]
    page = await a.get(f"/workspace/c/{team.id}", headers=HTML)
    assert "message number 54" in page.text and "message number 4<" not in page.text
    assert f"?before={ids[5]}" in page.text
    older = await a.get(f"/workspace/c/{team.id}?before={ids[5]}", headers=HTML)
    assert "message number 4<" in older.text and "message number 5<" not in older.text


async def test_mentions_page(server: Server, staff_client: Any) -> None:
    ada, a = await staff_client(Role.ORGANISER, name="Ada")
    bo, b = await staff_client(Role.INTERPRETER, name="Bo")
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    await server.workspace.post(ada, team.id, "@Bo please check")
    page = await b.get("/workspace/notifications", headers=HTML)
    assert "Ada mentioned you in Team" in page.text
    assert (await b.post("/workspace/notifications/read", data=form_csrf(b))).status_code == 303
    assert (await server.workspace.notifications(bo))[1] == 0
