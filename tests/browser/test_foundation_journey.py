"""The foundation as people use it, in Chromium: an admin invites an organiser, who signs up
from the link, logs in, creates and publishes a dialogue; a participant registers in another
browser; organiser and facilitator then talk live in the dialogue's workspace channel."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from parley.server import Server
from parley.storage.models import Channel, Registration, Role
from parley.web.auth import SESSION_COOKIE
from tests.browser.pages import Factory, new_page
from tests.conftest import PASSWORD

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def log_in(page: Any, base: str, email: str, password: str) -> None:
    await page.goto(base + "/login")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.click("form button[type=submit]:has-text('Log in')")
    await expect(page.locator("header.site form[action='/logout']")).to_be_visible()


async def test_invite_sign_up_create_dialogue_register_and_chat(
    server: Server, live_url: str, make_user: Any, browser_context_factory: Factory
) -> None:
    admin = await make_user(Role.ADMIN, name="Ada Admin")
    facilitator = await make_user(Role.FACILITATOR, name="Fatou Facilitator")

    # The admin invites an organiser by link.
    admin_page = await new_page(browser_context_factory)
    await log_in(admin_page, live_url, admin.email, PASSWORD)
    await admin_page.goto(live_url + "/invitations")
    await admin_page.fill("#f-email", "olu@example.org")
    await admin_page.select_option("#f-role", "organiser")
    await admin_page.click("button:has-text('Create invitation link')")
    link = await admin_page.locator("#invite-link").input_value()
    assert "/invite/" in link

    # The organiser signs up from the link, logs out, and logs back in.
    org = await new_page(browser_context_factory)
    await org.goto(link)
    await org.fill("#f-display_name", "Olu Organiser")
    await org.fill("#f-password", "a long organiser password")
    await org.fill("#f-password_confirm", "a long organiser password")
    await org.click("button:has-text('Create my account')")
    logout = org.locator("header.site form[action='/logout'] button")
    await expect(logout).to_be_visible()
    await logout.click()
    await log_in(org, live_url, "olu@example.org", "a long organiser password")

    # ... creates a dialogue with a facilitator and publishes it.
    await org.goto(live_url + "/dialogues/new")
    await org.fill("#f-title", "Our future in 2045")
    await org.fill("#f-starts_at", "2026-12-20T15:00")
    await org.fill("#f-time_zone", "Europe/Paris")
    for code in ("en", "fr"):
        box = org.locator(f"input[name=languages][value={code}]")
        if not await box.is_checked():
            await box.check()
    await org.select_option("#f-country", "FR")
    await org.select_option("#f-facilitator_id", str(facilitator.id))
    await org.click("button:has-text('Create draft')")
    await org.wait_for_load_state()
    errors = org.locator(".errors")
    assert await errors.count() == 0, await errors.first.text_content()
    match = re.search(r"/dialogues/(\d+)\?done=created$", org.url)
    assert match, org.url
    dialogue_id = int(match.group(1))
    await org.click("button[data-action=publish]")
    await expect(org.locator("body")).to_contain_text("Published")

    # A participant registers in a separate browser, in French, with consent choices.
    part = await new_page(browser_context_factory, locale="fr-FR")
    await part.goto(f"{live_url}/dialogues/{dialogue_id}/register")
    assert await part.get_attribute("html", "lang") == "fr"
    await part.fill("#f-display_name", "Awa")
    await part.fill("#f-email", "awa@example.org")
    await part.select_option("#f-preferred_language", "fr")
    await part.select_option("#f-country", "SN")
    await part.locator("input[name=age_group]").first.check()
    await part.locator("input[name=gender]").first.check()
    await part.locator("input[name=education]").first.check()
    await part.check("input[name=consent_participate]")
    await part.check("input[name=consent_transcript]")
    await part.click("form.registration-form button[type=submit]")
    personal = await part.locator("#personal-link").input_value()
    assert "/p/" in personal
    await part.goto(live_url + "/my/dialogues")
    await expect(part.locator("main")).to_contain_text("Our future in 2045")
    async with server.db.session() as s:
        reg = (await s.execute(select(Registration).where(Registration.dialogue_id == dialogue_id))).scalar_one()
        channel = (await s.execute(select(Channel).where(Channel.dialogue_id == dialogue_id))).scalar_one()
    chosen = (reg.preferred_language, reg.country, reg.consent_transcript, reg.consent_quotes)
    assert chosen == ("fr", "SN", True, False)

    # The participant has no workspace; organiser and facilitator chat live in the dialogue channel.
    response = await part.goto(live_url + "/workspace")
    assert response is not None and response.status == 403
    fac = await new_page(browser_context_factory)
    login = await server.accounts.start_session(facilitator)
    await fac.context.add_cookies([{"name": SESSION_COOKIE, "value": login.token, "url": live_url}])
    await fac.goto(f"{live_url}/workspace/c/{channel.id}")
    await org.goto(f"{live_url}/workspace/c/{channel.id}")
    await expect(fac.locator(".ws-status")).to_have_text("Live")
    await expect(org.locator(".ws-status")).to_have_text("Live")
    await org.fill("#ws-body", "Welcome aboard @Fatou")
    await org.press("#ws-body", "Enter")
    await fac.locator(".ws-message .ws-body", has_text="Welcome aboard").wait_for()
    await fac.fill("#ws-body", "Thanks, ready for Sunday")
    await fac.press("#ws-body", "Enter")
    await org.locator(".ws-message .ws-body", has_text="ready for Sunday").wait_for()
