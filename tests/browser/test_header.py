"""The site's header in Chromium: on a phone one short row (the links behind "Menu", opened by
touch or keyboard, every link then on the screen, in Arabic too, right to left); on a desktop a
row of links with no menu to open; everyone logged in can log out from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.server import Server
from parley.storage.models import Role
from tests.browser.pages import Factory, fits_the_screen, new_page, page_as
from tests.browser.screens import snap
from tests.meetings.scenario import MakeUser

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Generous: one row of the brand, the menu button and the language picker is about 60 px; the
# header with every staff link in rows took about 200 px of the phone's 844.
SHORT_HEADER_PX = 120
# Every link an administrator has in the header (the most of anyone), and "Log out".
STAFF_LINKS = ["/dialogues", "/survey", "/organise", "/workspace", "/reports", "/analysis", "/dashboard", "/account"]


@pytest.mark.parametrize(("locale", "direction"), [
    pytest.param("en-GB", "ltr", id="english"), pytest.param("ar", "rtl", id="arabic"),
])
async def test_on_a_phone_the_header_is_one_short_row_whose_menu_reaches_every_link(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, direction: str,
) -> None:
    admin = await make_user(Role.ADMIN, name="Ada Admin")
    page = await page_as(server, browser_context_factory, live_url, admin, locale=locale, viewport=PHONE)
    await page.goto(f"{live_url}/organise")
    assert await page.get_attribute("html", "dir") == direction
    header = page.locator("header.site")
    box = await header.bounding_box()
    assert box and box["height"] < SHORT_HEADER_PX, box
    links = page.locator("header.site nav ul")
    await expect(links).to_be_hidden()
    await expect(page.locator("#locale-picker")).to_be_in_viewport()  # the language stays in reach
    await snap(page, tmp_path, f"header-phone-{direction}-closed")

    # By keyboard: Tab to "Menu", Enter opens it, the next Tab is its first link.
    menu = page.locator("#site-menu > summary")
    await menu.focus()
    await page.keyboard.press("Enter")
    await expect(links).to_be_visible()
    await page.keyboard.press("Tab")
    await expect(page.locator("header.site nav ul a").first).to_be_focused()
    for href in STAFF_LINKS:
        await expect(page.locator(f"header.site nav ul a[href='{href}']")).to_be_in_viewport()
    await expect(page.locator("header.site nav ul form[action='/logout'] button")).to_be_in_viewport()
    assert await fits_the_screen(page, "header.site nav ul li"), "the menu runs off the phone's screen"
    box = await header.bounding_box()
    assert box and box["height"] < SHORT_HEADER_PX, "the open menu pushed the page down instead of covering it"
    await snap(page, tmp_path, f"header-phone-{direction}-open")
    # Escape closes it and leaves the focus on its button; a tap on a link goes there.
    await page.keyboard.press("Escape")
    await expect(links).to_be_hidden()
    await expect(menu).to_be_focused()
    await menu.click()
    await page.locator("header.site nav ul a[href='/dashboard']").click()
    assert page.url.endswith("/dashboard"), page.url
    await expect(links).to_be_hidden()  # each page starts with it closed

    # The menu button sits at the row's start side after the brand, in either direction.
    brand = await page.locator("header.site .brand").bounding_box()
    button = await menu.bounding_box()
    assert brand and button
    assert (button["x"] > brand["x"]) == (direction == "ltr"), (brand, button)


async def test_a_visitor_on_a_phone_logs_in_through_the_menu_and_a_desktop_shows_the_links_in_a_row(
    live_url: str, browser_context_factory: Factory, tmp_path: Path
) -> None:
    phone = await new_page(browser_context_factory, viewport=PHONE)
    await phone.goto(f"{live_url}/")
    box = await phone.locator("header.site").bounding_box()
    assert box and box["height"] < SHORT_HEADER_PX, box
    await phone.locator("#site-menu > summary").click()
    await phone.locator("header.site a[href='/login']").click()
    assert phone.url.endswith("/login"), phone.url

    desk = await new_page(browser_context_factory, viewport=DESKTOP)
    await desk.goto(f"{live_url}/")
    await expect(desk.locator("#site-menu > summary")).to_be_hidden()
    await expect(desk.locator("header.site a[href='/login']")).to_be_visible()
    await snap(desk, tmp_path, "header-desktop")


async def test_a_participant_logs_out_from_the_header_menu(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory
) -> None:
    """A participant on a shared phone or computer ends their session as staff do (the header
    once had no "Log out" for them)."""
    amina = await make_user(Role.PARTICIPANT, name="Amina Diallo")
    page = await page_as(server, browser_context_factory, live_url, amina, locale="fr-FR", viewport=PHONE)
    await page.goto(f"{live_url}/my/dialogues")
    await page.locator("#site-menu > summary").click()
    await expect(page.locator("header.site a[href='/my/data']")).to_be_in_viewport()
    await page.locator("header.site form[action='/logout'] button").click()
    await expect(page.locator("header.site a[href='/login']")).to_be_attached()
    await expect(page.locator("header.site form[action='/logout']")).to_have_count(0)
