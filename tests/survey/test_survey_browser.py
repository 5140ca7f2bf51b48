"""The survey in a real browser (Chromium): draft kept across reloads, at most three boxes,
and a submission whose answer is lost on the way back is retried and counted once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from parley.consultation.dashboard import Filters
from parley.server import Server
from tests.browser.conftest import browser_context_factory  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


async def fill(page: Any) -> None:
    await page.check('input[name="answers.future"][value="better"]')
    for option in ("less_conflict", "environment", "human_rights"):
        await page.check(f'input[name="answers.priorities"][value="{option}"]')
    await page.check('input[name="answers.trends"][value="climate"]')
    await page.check('input[name="answers.cooperation"][value="essential"]')
    await page.fill('textarea[name="answers.advice"]', "Keep the promise of the Charter.")
    await page.select_option("#field-country", "KE")
    await page.check("#consent-yes")


async def test_a_lost_answer_is_retried_and_counted_once(
        browser_context_factory: Callable[..., Awaitable[Any]], live_url: str, server: Server) -> None:  # noqa: F811
    context = await browser_context_factory(**PHONE)
    page = await context.new_page()
    await page.goto(f"{live_url}/survey")
    await fill(page)
    assert await page.is_disabled('input[name="answers.priorities"][value="employment"]')

    lost = {"count": 0}

    async def lose_first_answer(route: Any) -> None:
        if route.request.method == "POST" and lost["count"] == 0:
            lost["count"] += 1
            await route.fetch()  # the server gets and stores it ...
            await route.abort("internetdisconnected")  # ... but the reply never arrives
        else:
            await route.continue_()

    await page.route("**/survey", lose_first_answer)
    await page.click("button.send")
    await page.wait_for_selector("#survey-receipt", timeout=30_000)
    assert lost["count"] == 1
    code = await page.text_content(".code code")
    assert code and len(code) == 22
    counts, _ = await server.dashboard.counts(["_n"], Filters(), None)
    assert counts["_n"][None][""] == 1
    drafts = await page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('parley-survey'))")
    assert drafts == []


async def test_answers_survive_a_reload(browser_context_factory: Callable[..., Awaitable[Any]],  # noqa: F811
                                        live_url: str) -> None:
    context = await browser_context_factory(**PHONE)
    page = await context.new_page()
    await page.goto(f"{live_url}/survey?lang=ar")
    assert await page.get_attribute(".survey", "dir") == "rtl"
    await fill(page)
    key = await page.input_value('input[name="key"]')
    await page.reload()
    assert await page.input_value('textarea[name="answers.advice"]') == "Keep the promise of the Charter."
    assert await page.is_checked('input[name="answers.priorities"][value="environment"]')
    assert await page.input_value("#field-country") == "KE"
    assert await page.input_value('input[name="key"]') == key  # a resend after reload is a retry
