"""The home page renders and the interface switches to Arabic, right to left."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser


async def test_language_switch_to_arabic_turns_page_right_to_left(
    live_url: str, browser_context_factory: Callable[..., Awaitable[Any]]
) -> None:
    ctx = await browser_context_factory(locale="en-GB")
    page = ctx.pages[0] if ctx.pages else await ctx.new_page()
    await page.goto(live_url + "/")
    assert await page.get_attribute("html", "dir") == "ltr"
    # choosing submits the form and reloads the same address: wait for that page, not the URL
    async with page.expect_navigation():
        await page.select_option("#locale-picker", "ar")
    await page.wait_for_selector("html[lang=ar]")
    assert await page.get_attribute("html", "dir") == "rtl"
