"""The workspace page in Chromium: live messages, inline edit and delete, unread badges, and
catching up after the socket drops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from parley.server import Server
from parley.storage.models import Role, User
from parley.web.auth import SESSION_COOKIE
from tests.browser.conftest import browser_context_factory  # noqa: F401  (fixture)

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

Factory = Callable[..., Awaitable[Any]]


async def open_as(server: Server, factory: Factory, live_url: str, user: User, path: str) -> Any:
    login = await server.accounts.start_session(user)
    ctx = await factory(locale="en-GB")
    await ctx.add_cookies([{"name": SESSION_COOKIE, "value": login.token, "url": live_url}])
    page = ctx.pages[0] if ctx.pages else await ctx.new_page()
    await page.goto(live_url + path)
    await expect(page.locator(".ws-status")).to_have_text("Live")
    return page


async def test_two_people_chat_live(
    server: Server,
    live_url: str,
    make_user: Any,
    browser_context_factory: Factory,  # noqa: F811
) -> None:
    ada = await make_user(Role.ORGANISER, name="Ada", password=None)
    bo = await make_user(Role.INTERPRETER, name="Bo", password=None)
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    a = await open_as(server, browser_context_factory, live_url, ada, f"/workspace/c/{team.id}")
    b = await open_as(server, browser_context_factory, live_url, bo, f"/workspace/c/{team.id}")
    lobby = await open_as(server, browser_context_factory, live_url, bo, "/workspace")

    # Ada sends with Enter; Bo sees the text exactly, never as HTML.
    await a.fill("#ws-body", "Hello <b>Bo</b>")
    await a.press("#ws-body", "Enter")
    await b.locator(".ws-message .ws-body", has_text="Hello <b>Bo</b>").wait_for()
    assert await b.locator(".ws-messages b").count() == 0
    # Bo may neither edit nor delete Ada's message: he is not shown the buttons.
    adas = b.locator(".ws-message", has_text="Hello <b>Bo</b>")
    assert not await adas.locator(".ws-actions").is_visible()
    assert await a.input_value("#ws-body") == ""
    badge = lobby.locator(f'li[data-channel-id="{team.id}"] .ws-unread .ws-count')
    await badge.wait_for()
    assert await badge.text_content() == "1"

    # Bo answers, then edits the answer in place; Ada sees the edit.
    await b.fill("#ws-body", "Hi Ada, typo hre")
    await b.click(".ws-composer button[type=submit]")
    mine = b.locator(".ws-message", has_text="typo hre")
    await mine.wait_for()
    await mine.locator(".ws-edit, .ws-edit-button").click()
    await mine.locator("textarea").fill("Hi Ada, typo here")
    await mine.locator("button[type=submit]").click()
    edited = a.locator(".ws-message", has_text="typo here")
    await edited.locator(".ws-edited").wait_for(state="visible")

    # Ada, an organiser, deletes Bo's message; it keeps its place, body erased.
    a.on("dialog", lambda dialog: dialog.accept())
    await edited.locator(".ws-delete button, .ws-delete-button").click()
    await b.locator(".ws-message.ws-deleted .ws-body--deleted").wait_for(state="visible")
    assert await b.locator(".ws-message", has_text="typo here").count() == 0


async def test_missed_messages_arrive_after_the_socket_drops(
    server: Server,
    live_url: str,
    make_user: Any,
    browser_context_factory: Factory,  # noqa: F811
) -> None:
    ada = await make_user(Role.ORGANISER, name="Ada", password=None)
    bo = await make_user(Role.INTERPRETER, name="Bo", password=None)
    team = await server.workspace.create_team_channel(ada, "Team", member_ids=[bo.id])
    await server.workspace.post(ada, team.id, "before the drop")

    login = await server.accounts.start_session(bo)
    ctx = await browser_context_factory(locale="en-GB")
    await ctx.add_cookies([{"name": SESSION_COOKIE, "value": login.token, "url": live_url}])
    page = ctx.pages[0] if ctx.pages else await ctx.new_page()
    routes: list[Any] = []

    async def relay(ws: Any) -> None:
        ws.connect_to_server()
        routes.append(ws)

    await page.route_web_socket("**/ws/workspace", relay)
    await page.goto(live_url + f"/workspace/c/{team.id}")
    await expect(page.locator(".ws-status")).to_have_text("Live")

    await routes[-1].close(code=1006, reason="network drop")
    await expect(page.locator(".ws-status")).not_to_have_text("Live")
    for i in range(3):
        await server.workspace.post(ada, team.id, f"while away {i}")
    await expect(page.locator(".ws-status")).to_have_text("Live", timeout=15_000)
    for i in range(3):
        await page.locator(".ws-message .ws-body", has_text=f"while away {i}").wait_for()
    bodies = await page.locator(".ws-message .ws-body:not(.ws-body--deleted)").all_text_contents()
    assert bodies == ["before the drop", "while away 0", "while away 1", "while away 2"]
    assert len(routes) == 2
