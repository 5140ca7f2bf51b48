"""Opening pages as people in browser tests: a fresh browser, one already logged in, logging
in from the home page, the header's links (behind "Menu" on a phone), signing up from an
invitation, the meeting lobby's join; whether a page fits a phone's screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from parley.server import Server
from parley.storage.models import User
from parley.web.auth import SESSION_COOKIE

Factory = Callable[..., Awaitable[Any]]


async def new_page(factory: Factory, **kwargs: Any) -> Any:
    """A page in a browser of its own (``kwargs``: locale, viewport...)."""
    ctx = await factory(**kwargs)
    return ctx.pages[0] if ctx.pages else await ctx.new_page()


async def page_as(server: Server, factory: Factory, live_url: str, user: User, **kwargs: Any) -> Any:
    """A page in a browser of its own, logged in as ``user`` (a session made directly)."""
    page = await new_page(factory, **kwargs)
    login = await server.accounts.start_session(user)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": login.token, "url": live_url}])
    return page


async def join_from_lobby(page: Any) -> None:
    """Join a meeting from its lobby, audio only (the fake camera adds nothing to a test)."""
    from playwright.async_api import expect

    await expect(page.locator("#lobby")).to_be_visible()
    await page.check("input[name=mode][value=audio]")
    await page.click("#join-button")


async def log_in_from_home(page: Any, base: str, email: str, password: str) -> None:
    """As a person does, in whatever language the page is: the home page, the header's
    "Log in", the form."""
    from playwright.async_api import expect

    await page.goto(base + "/")
    await click_in_header(page, "a[href='/login']")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.click("main form button[type=submit]")
    await expect(page.locator("header.site form[action='/logout']")).to_be_attached()


async def click_in_header(page: Any, selector: str) -> None:
    """Click a link of the header's navigation as a person does: on a phone, "Menu" first."""
    menu = page.locator("#site-menu")
    if await menu.locator("summary").is_visible() and await menu.get_attribute("open") is None:
        await menu.locator("summary").click()
    await menu.locator(selector).click()


async def sign_up_from_invitation(page: Any, name: str, password: str) -> None:
    """On the page an invitation link opened: a name, a password twice, "Create my account"."""
    await page.fill("#f-display_name", name)
    await page.fill("#f-password", password)
    await page.fill("#f-password_confirm", password)
    await page.click("main form button[type=submit]")


async def fits_the_screen(page: Any, selector: str = "body") -> bool:
    """Whether nothing matched by ``selector`` reaches past the window's sides, and the page
    does not scroll sideways: on a phone a person would not find what is off to the side."""
    return bool(await page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].every(
             e => e.getBoundingClientRect().right <= window.innerWidth + 1
               && e.getBoundingClientRect().left >= -1)
           && document.documentElement.scrollWidth <= window.innerWidth + 1""", selector))
