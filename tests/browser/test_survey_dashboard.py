"""The survey end to end, in Chromium: one respondent answers in Arabic (Arabic interface,
right to left), another in French, through the real web form; an organiser then logs in and
finds both on the dashboard, counted in the breakdowns by country, language, region and age
group. On a phone a breakdown wider than the screen says it scrolls sideways, shows shadows at
its hidden edges, and scrolls from the keyboard (in Arabic too)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parley.server import Server
from parley.storage.consultation_models import SurveyResponse
from parley.storage.models import Role, User
from tests.browser.pages import page_as
from tests.browser.screens import snap
from tests.conftest import PASSWORD
from tests.fakes.clock import FakeClock
from tests.survey.test_dashboard import load_random

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

Factory = Callable[..., Awaitable[Any]]
ARABIC = re.compile(r"[\u0600-\u06FF]")


async def new_page(factory: Factory, **kwargs: Any) -> Any:
    ctx = await factory(**kwargs)
    return ctx.pages[0] if ctx.pages else await ctx.new_page()


async def answer_survey(page: Any, base: str, *, country: str, age: str, gender: str, education: str,
                        advice: str) -> None:
    await page.goto(f"{base}/survey")
    await page.check('input[name="answers.future"][value="better"]')
    for option in ("environment", "human_rights"):
        await page.check(f'input[name="answers.priorities"][value="{option}"]')
    await page.check('input[name="answers.trends"][value="climate"]')
    await page.check('input[name="answers.cooperation"][value="essential"]')
    await page.fill('textarea[name="answers.advice"]', advice)
    await page.select_option("#field-age_group", age)
    await page.select_option("#field-gender", gender)
    await page.select_option("#field-education", education)
    await page.select_option("#field-country", country)
    await page.check("#consent-yes")
    await page.click("button.send")
    await expect(page.locator("#survey-receipt")).to_be_visible(timeout=30_000)


async def row(page: Any, table_heading: str, value: str) -> list[str]:
    """The number cells of one row of the side-by-side table under ``table_heading``."""
    cells = page.locator(f"section:has(#{table_heading}) tr[data-value='{value}'] td.num")
    return [text.strip() for text in await cells.all_text_contents()]


async def test_answers_in_arabic_and_french_show_in_the_dashboard_breakdowns(
    server: Server, live_url: str, make_user: Callable[..., Awaitable[User]], browser_context_factory: Factory,
    tmp_path: Path,
) -> None:
    # An Arabic speaker: the browser asks for Arabic, the whole page is Arabic and right to left.
    arabic = await new_page(browser_context_factory, locale="ar")
    await arabic.goto(f"{live_url}/survey")
    assert await arabic.get_attribute("html", "lang") == "ar"
    assert await arabic.get_attribute("html", "dir") == "rtl"
    assert await arabic.get_attribute(".survey", "dir") == "rtl"
    assert ARABIC.search(await arabic.text_content("h1") or "")
    assert ARABIC.search(await arabic.text_content("button.send") or "")
    await answer_survey(arabic, live_url, country="EG", age="18-24", gender="female", education="university",
                        advice="على الأمم المتحدة أن تستمع إلى الشباب.")

    # A French speaker: French interface, left to right.
    french = await new_page(browser_context_factory, locale="fr-FR")
    await french.goto(f"{live_url}/survey")
    assert await french.get_attribute("html", "lang") == "fr"
    assert await french.get_attribute("html", "dir") == "ltr"
    await expect(french.locator("button.send")).to_have_text(re.compile("Envoyer"))
    await answer_survey(french, live_url, country="FR", age="35-44", gender="male", education="secondary",
                        advice="Agir enfin pour le climat.")

    async with server.db.session() as s:
        rows = await s.execute(select(SurveyResponse.language, SurveyResponse.country))
        stored = sorted((language, country) for language, country in rows)
    assert stored == [("ar", "EG"), ("fr", "FR")]

    # An organiser logs in and opens the dashboard.
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    page = await new_page(browser_context_factory)
    await page.goto(live_url + "/login")
    await page.fill("#f-email", organiser.email)
    await page.fill("#f-password", PASSWORD)
    await page.click("form button[type=submit]:has-text('Log in')")
    await expect(page.locator("header.site form[action='/logout']")).to_be_visible()
    await page.goto(live_url + "/dashboard")
    await expect(page.locator("h1")).to_have_text("Survey results")
    await expect(page.locator("ul.totals li").first).to_contain_text("2")

    # By country (survey responses, their share, then the dialogue columns: none held yet).
    assert await row(page, "countries-title", "EG") == ["1", "50.0%", "—", "—", "—"]
    assert await row(page, "countries-title", "FR") == ["1", "50.0%", "—", "—", "—"]
    await expect(page.locator("section:has(#countries-title) tr[data-value='EG'] th")).to_have_text("Egypt")
    # ... and on the world map, each country a link to the dashboard filtered to it.
    await expect(page.locator("figure.world-map path[data-country='EG']")).to_be_visible()
    await expect(page.locator("figure.world-map path[data-country='FR']")).to_be_visible()
    await snap(page.locator("#countries"), tmp_path, "dashboard-countries")

    # By language: each respondent in the language they answered in.
    assert await row(page, "languages-title", "ar") == ["1", "50.0%", "—", "—", "—"]
    assert await row(page, "languages-title", "fr") == ["1", "50.0%", "—", "—", "—"]
    await expect(page.locator("section:has(#languages-title) tr[data-value='ar'] th")).to_have_text("Arabic")

    # By region, then by age group, through the side-by-side tabs (filters live in the URL).
    assert await row(page, "compare-title", "africa") == ["1", "50.0%", "—", "—", "—"]
    assert await row(page, "compare-title", "europe") == ["1", "50.0%", "—", "—", "—"]
    await page.click("section:has(#compare-title) nav.tabs a:has-text('Age group')")
    await expect(page).to_have_url(re.compile(r"by=age"))
    assert await row(page, "compare-title", "18-24") == ["1", "50.0%", "—", "—", "—"]
    assert await row(page, "compare-title", "35-44") == ["1", "50.0%", "—", "—", "—"]

    # Filtering by a country keeps only that respondent, in every breakdown.
    await page.select_option("#f-country", "EG")
    await expect(page).to_have_url(re.compile(r"country=EG"))
    await expect(page.locator("ul.totals li").first).to_contain_text("1")
    assert await row(page, "compare-title", "18-24") == ["1", "100.0%", "—", "—", "—"]
    assert await page.locator("section:has(#compare-title) tr[data-value='35-44']").count() == 0


@pytest.mark.parametrize(("locale", "direction", "onward"), [
    pytest.param("en-GB", "ltr", "ArrowRight", id="english"), pytest.param("ar", "rtl", "ArrowLeft", id="arabic"),
])
async def test_on_a_phone_a_wide_breakdown_says_it_scrolls_and_scrolls_from_the_keyboard(
    server: Server, live_url: str, clock: FakeClock, make_user: Callable[..., Awaitable[User]],
    browser_context_factory: Factory, tmp_path: Path, locale: str, direction: str, onward: str,
) -> None:
    await load_random(server, clock, n=20)
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    page = await page_as(server, browser_context_factory, live_url, organiser, locale=locale,
                         viewport={"width": 390, "height": 844})
    await page.goto(f"{live_url}/dashboard?q=priorities#breakdown")
    assert await page.get_attribute("html", "dir") == direction
    region = page.locator("#breakdown .scroll-region")
    hidden_px = await region.evaluate("e => e.scrollWidth - e.clientWidth")
    assert hidden_px > 0, "the breakdown fits the phone: nothing to scroll"
    # Said in words above it, and drawn as a shadow at its edges.
    await expect(page.locator("#breakdown .scroll-hint")).to_be_visible()
    assert "radial-gradient" in await region.evaluate("e => getComputedStyle(e).backgroundImage")
    # A labelled region in the tab order: named after its question, scrolled by the arrow keys.
    await expect(region).to_have_attribute("role", "region")
    label = await region.get_attribute("aria-labelledby")
    await expect(page.locator(f"#{label}")).to_have_class("crosstab-title")
    await region.focus()
    await expect(region).to_be_focused()
    await snap(page, tmp_path, f"dashboard-phone-{direction}-breakdown")
    for _ in range(3):
        await page.keyboard.press(onward)
    await page.wait_for_function("e => Math.abs(e.scrollLeft) > 0", arg=await region.element_handle())

    # A table that fits says nothing (on a desktop the language table does).
    await page.set_viewport_size({"width": 1280, "height": 800})
    await expect(page.locator("#languages .scroll-hint")).to_be_hidden()
    assert await page.locator("#languages .scroll-region").evaluate("e => e.scrollWidth <= e.clientWidth + 1")
