"""The facilitator's side of a meeting in Chromium, without media (Janus is off in the test
config: the page says the meeting server is unavailable, and every control still renders
from the meeting state). The facilitator opens the meeting; a participant in another
browser waits in the lobby and is let in from the waiting-room panel, raises a hand, gets a
timed turn whose countdown both see (and which the server's ticker ends when the fake clock
runs out); the meeting chat carries a message each way; the facilitator ends the meeting
and sees the speaking-time summary."""

from __future__ import annotations

import asyncio
import re

import pytest

from parley.server import Server
from tests.browser.pages import Factory, join_from_lobby, page_as
from tests.fakes.clock import FakeClock
from tests.meetings.scenario import MakeUser, build_setup

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_facilitator_admits_gives_a_timed_turn_chats_and_ends_with_the_summary(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, clock: FakeClock
) -> None:
    setup = await build_setup(server, make_user)
    did = setup.dialogue.id
    people = setup.people
    meeting_url = f"{live_url}/dialogues/{did}/meeting"

    # The facilitator opens the meeting from its page and joins it.
    fac = await page_as(server, browser_context_factory, live_url, people.facilitator)
    await fac.goto(meeting_url)
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    panel = fac.locator("#host-panel")
    await expect(panel).to_be_visible()
    await expect(fac.locator("#tiles .tile .name", has_text="Fatou Facilitator")).to_be_visible()

    # A participant, in another browser, joins from the lobby and waits.
    amina = await page_as(server, browser_context_factory, live_url, people.amina)
    await amina.goto(meeting_url)
    # She agreed to a written transcript when registering: not to a recording, so the box is unticked.
    await expect(amina.locator("#consent")).not_to_be_checked()
    await join_from_lobby(amina)
    await expect(amina.locator("#waiting")).to_be_visible()
    await expect(amina.locator("#room")).to_be_hidden()

    # The facilitator lets her in from the waiting-room panel.
    waiting = fac.locator("#waiting-list li", has_text="Amina Diallo")
    await expect(waiting).to_be_visible()
    await waiting.get_by_role("button", name="Let in").click()
    await expect(fac.locator("#waiting-list li")).to_have_count(0)
    await expect(amina.locator("#room")).to_be_visible()
    await expect(amina.locator("#waiting")).to_be_hidden()
    await expect(fac.locator("#tiles .tile .name", has_text="Amina Diallo")).to_be_visible()

    # Nobody agreed to a recording yet: the facilitator sees who, Amina sees that it waits for everyone.
    status = fac.locator("#consent-status")
    await expect(status).to_contain_text("Amina Diallo")
    await expect(status).to_contain_text("Fatou Facilitator")
    await expect(fac.locator("#record-btn")).to_be_disabled()
    await expect(amina.locator("#recording-note")).to_contain_text("once everyone in the meeting has agreed")
    for page in (amina, fac):
        await page.click("#consent-btn")
        await expect(page.locator("#consent-btn")).to_have_attribute("aria-pressed", "true")
    await expect(status).to_have_text("Everyone in the meeting has agreed to a recording.")

    # She raises her hand; the facilitator sees her in the queue.
    await amina.click("#hand-btn")
    await expect(amina.locator("#hand-btn")).to_have_attribute("aria-pressed", "true")
    await expect(fac.locator("#queue li", has_text="Amina Diallo")).to_be_visible()

    # Turns of 90 seconds; the facilitator gives her the floor and both see the countdown.
    await fac.select_option("#turn-length", "90")
    async with asyncio.timeout(10):
        while (await server.meetings.state(people.facilitator, did))["turn_seconds"] != 90:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)
    tile = fac.locator("#tiles .tile", has_text="Amina Diallo")
    await tile.get_by_role("button", name="Give the floor").click()
    countdown = re.compile(r"^1:[0-3]\d$")  # 1:30 going down
    for page in (fac, amina):
        await expect(page.locator("#turn")).to_be_visible()
        await expect(page.locator("#turn-name")).to_contain_text("Amina Diallo")
        await expect(page.locator("#countdown")).to_have_text(countdown)
    await expect(fac.locator("#queue li")).to_have_count(0)
    await expect(fac.locator("#queue-empty")).to_be_visible()

    # The meeting chat beside the room carries a message each way.
    await amina.fill("#chat-input", "Bonjour à tous")
    await amina.click("#chat-form button[type=submit]")
    await expect(fac.locator("#chat-messages li", has_text="Bonjour à tous")).to_contain_text("Amina Diallo")
    await fac.fill("#chat-input", "Welcome, Amina")
    await fac.click("#chat-form button[type=submit]")
    await expect(amina.locator("#chat-messages li", has_text="Welcome, Amina")).to_contain_text("Fatou Facilitator")

    # Her time runs out on the server's clock: nobody else waits, so the turn ends for everyone.
    clock.advance(90)
    for page in (fac, amina):
        await expect(page.locator("#turn")).to_be_hidden()

    # The facilitator ends the meeting and sees the speaking time of each person.
    # Engine problems reach the facilitator in words they can act on, never a server's own text.
    problems = panel.locator("#interp-problems li")
    await expect(problems.first).to_be_visible()
    for line in await problems.all_text_contents():
        assert "/" not in line and "asr" not in line and "interpretation is turned off" not in line, line
    await fac.locator("#end-form button[type=submit]").click()
    summary = fac.locator("#summary")
    await expect(summary).to_be_visible()
    rows = fac.locator("#summary-body tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="Amina Diallo")).to_contain_text("0:00")
    await expect(rows.filter(has_text="Fatou Facilitator")).to_be_visible()
    await expect(fac.locator("#room")).to_be_hidden()
    await expect(amina.locator("#room")).to_be_hidden()
    await expect(amina.locator("#summary")).to_be_hidden()  # the summary is the facilitator's
    dialogue = await server.dialogues.get(people.facilitator, did)
    assert dialogue.state.value == "ended"


async def test_the_staff_channel_beside_the_meeting_opens_in_the_workspace(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory
) -> None:
    setup = await build_setup(server, make_user)
    await server.meetings.lifecycle.start_meeting(setup.people.facilitator, setup.dialogue.id)
    fac = await page_as(server, browser_context_factory, live_url, setup.people.facilitator)
    await fac.goto(f"{live_url}/dialogues/{setup.dialogue.id}/meeting")
    await join_from_lobby(fac)
    link = fac.locator("#staff-chat a")
    await expect(link).to_be_visible()
    href = await link.get_attribute("href")
    response = await fac.goto(live_url + href)
    assert response is not None and response.status == 200
    await expect(fac.locator(".ws-status")).to_have_text("Live")
