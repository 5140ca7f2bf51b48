"""Date fields in Chromium: the field itself writes a date the way the browser's language does
(12/10/2026 in an American browser, whatever the page's language), so beside it the chosen date
is spelled out in the page's language, for a date alone and for a date and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.server import Server
from parley.storage.models import Role
from parley.web.auth import LOCALE_COOKIE
from tests.browser.pages import Factory, new_page, page_as
from tests.browser.screens import snap
from tests.meetings.scenario import MakeUser

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.mark.parametrize(("page_language", "spelled"), [
    pytest.param("fr", "jeudi 10 décembre 2026", id="french"),
    pytest.param("ar", "ديسمبر", id="arabic"),
])
async def test_a_date_filter_spells_the_chosen_day_in_the_page_s_language(
    live_url: str, browser_context_factory: Factory, tmp_path: Path, page_language: str, spelled: str,
) -> None:
    page = await new_page(browser_context_factory, locale="en-US")  # the browser's own language
    await page.context.add_cookies([{"name": LOCALE_COOKIE, "value": page_language, "url": live_url}])
    await page.goto(f"{live_url}/dialogues")
    assert await page.get_attribute("html", "lang") == page_language
    spelled_out = page.locator("#f-date_from-spelled")
    await expect(spelled_out).to_have_text("")  # nothing chosen, nothing said
    await page.fill("#f-date_from", "2026-12-10")
    await expect(spelled_out).to_contain_text(spelled)
    await expect(spelled_out).to_contain_text("2026")
    await snap(page, tmp_path, f"date-filter-{page_language}")


async def test_the_start_of_a_new_dialogue_is_spelled_with_its_time(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
) -> None:
    organiser = await make_user(Role.ORGANISER, name="Olga Organiser")
    page = await page_as(server, browser_context_factory, live_url, organiser, locale="en-US")
    await page.context.add_cookies([{"name": LOCALE_COOKIE, "value": "fr", "url": live_url}])
    await page.goto(f"{live_url}/dialogues/new")
    await page.fill("#f-starts_at", "2026-12-10T14:30")
    spelled_out = page.locator("#f-starts_at-spelled")
    await expect(spelled_out).to_contain_text("jeudi 10 décembre 2026")
    await expect(spelled_out).to_contain_text("14:30")
    await snap(page, tmp_path, "new-dialogue-start-fr")
