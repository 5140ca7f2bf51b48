"""The staff's journeys in Chromium, from their first link to their last page, clicking only
what they see; screenshots of each step go where `tests/browser/screens.py` says.

- The interpreter on a desktop, in French, English and Arabic: the organiser invites him from the
  dialogue's page, by its title and into French; he signs up from the link and lands on the dialogue as
  its interpreter; days later he logs in and finds it in his overview; on the day, the lobby
  asks him no language, the room is his booth (told first whom he speaks to; the floor to
  listen to, no channel to choose, no hand to raise), a French participant is offered his
  channel and takes it; when the meeting ends he is shown his next steps.
- The facilitator on a phone in English, French and Arabic, and on a desktop in French and
  Arabic: logs in from the home page, finds the dialogue in the overview (its time in her own
  zone only where it reads differently), opens and starts the meeting speaking and reading
  the captions in the page's language where the dialogue has it, sees at the top of the room
  that a participant is waiting and lets her in from there, reloads the page and is still in
  the room with "End the meeting for everyone" in view, ends it, starts the report (the
  languages spoken ticked by name), submits it (what she wrote in its own direction) and
  finds it counted on the overview; every page on the screen.
- The organiser on a phone in English and in Arabic, and on a desktop in French: logs in
  (on a phone through the header's "Menu"), creates a dialogue inviting its facilitator by
  email, publishes it from her part of the page, finds it on the overview (on a phone a card per
  dialogue, nothing off the screen; the invitation's address until it is accepted), sees the
  facilitator accept, ends on the dashboard (the figures on the first screen).
- The interpreter on a phone, in English and in Arabic: from the invitation link to the
  dialogue, the lobby (no "Listen only" for him), his booth (whom he speaks to and his
  controls on the first screen), his next steps and the transcript.

Janus is off in the test config: the room renders from the meeting state, without media
(an interpreter's voice reaching listeners is `tests/meetings/test_interpretation.py`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.handlers.dialogues import Action, DialogueInput
from parley.server import Server
from parley.storage.models import Role, User
from tests.browser.pages import (
    Factory,
    click_in_header,
    fits_the_screen,
    join_from_lobby,
    log_in_from_home,
    new_page,
    page_as,
    sign_up_from_invitation,
)
from tests.browser.screens import snap
from tests.conftest import PASSWORD
from tests.meetings.scenario import MakeUser, register

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# A journey in the browser's language: (locale, the page's language, its direction).
PAGE_LANGUAGE = ("locale", "language", "direction")
ENGLISH = pytest.param("en-GB", "en", "ltr", id="english")
FRENCH = pytest.param("fr-FR", "fr", "ltr", id="french")
ARABIC = pytest.param("ar", "ar", "rtl", id="arabic")
# As each page's language names French, and English and French together.
FRENCH_NAME = {"en": "French", "fr": "français", "ar": "الفرنسية"}
SPOKEN = {"en": "English and French", "fr": "anglais et français", "ar": "الإنجليزية والفرنسية"}
YOUR_TIME = {"en": "Your time:", "fr": "Votre heure :", "ar": "توقيتك:"}
SPEAKS = {"en": "en", "fr": "fr", "ar": "en"}  # in the English and French meeting, from each page


async def water_for_all(server: Server, make_user: MakeUser) -> tuple[int, User, User]:
    """A published English/French dialogue in three days: (id, organiser, facilitator)."""
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    facilitator = await make_user(Role.FACILITATOR, name="Fatou Facilitator")
    starts = (server.clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT14:00")
    view = await server.dialogues.create(organiser, DialogueInput(
        title="Water for all", starts_at=starts, time_zone="Africa/Dakar", languages=["en", "fr"], country="SN",
        facilitator_id=facilitator.id))
    return (await server.dialogues.transition(organiser, view.id, Action.PUBLISH)).id, organiser, facilitator


async def lang_dir(page: Any) -> tuple[str | None, str | None]:
    return await page.get_attribute("html", "lang"), await page.get_attribute("html", "dir")


@pytest.mark.parametrize(("locale", "page_language", "direction", "french"), [
    pytest.param("fr-FR", "fr", "ltr", "français", id="french"),
    pytest.param("en-GB", "en", "ltr", "French", id="english"),
    pytest.param("ar", "ar", "rtl", "الفرنسية", id="arabic"),
])
async def test_the_interpreter_is_invited_into_french_finds_the_dialogue_and_interprets_the_meeting(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, page_language: str, direction: str, french: str,
) -> None:
    did, organiser, facilitator = await water_for_all(server, make_user)

    # The organiser finds the dialogue in the overview and invites its interpreter from its page.
    org = await new_page(browser_context_factory, viewport=DESKTOP)
    await log_in_from_home(org, live_url, organiser.email, PASSWORD)
    await org.locator(f"main tr[data-dialogue='{did}'] a").first.click()
    await org.get_by_role("link", name="Invite an interpreter").click()
    await expect(org.locator("#f-dialogue_id option:checked")).to_have_text("Water for all")
    await expect(org.locator("#f-role")).to_have_value("interpreter")
    language = org.locator("#f-language")
    await expect(language).to_be_visible()  # asked for an interpreter, and only the dialogue's languages
    assert await language.locator("option:not([value=''])").all_text_contents() == ["English", "French"]
    await org.fill("#f-email", "ibou@example.org")
    await language.select_option(label="French")
    await org.get_by_role("button", name="Create invitation link").click()
    link = await org.locator("#invite-link").input_value()
    await expect(org.locator("table tr", has_text="ibou@example.org")).to_contain_text("Water for all (into French)")
    await snap(org, tmp_path, f"journey-interpreter-invited-by-organiser-{page_language}", full_page=True)
    # Inviting a facilitator asks no language.
    await org.select_option("#f-role", "facilitator")
    await expect(language).to_be_hidden()

    # Ibou opens the link in his browser, signs up, and lands on the dialogue he interprets.
    ibou = await new_page(browser_context_factory, locale=locale, viewport=DESKTOP)
    name = f"journey-interpreter-{page_language}"
    await ibou.goto(link)
    assert await lang_dir(ibou) == (page_language, direction)
    await expect(ibou.locator("main")).to_contain_text("Water for all")
    await expect(ibou.locator("main")).to_contain_text(french)  # the language he interprets into
    await snap(ibou, tmp_path, f"{name}-invitation", full_page=True)
    await sign_up_from_invitation(ibou, "Ibou Interprète", "a long interpreter password")
    await ibou.wait_for_url(re.compile(rf"/dialogues/{did}\?done=invitation$"))
    part = ibou.locator("#your-part")
    await expect(part.locator("#interpreting-into")).to_contain_text(french)
    await expect(ibou.locator("#staff-pending")).to_have_count(0)
    await expect(ibou.locator(f"a[href='/dialogues/{did}/register']")).to_have_count(0)
    await snap(ibou, tmp_path, f"{name}-landing", full_page=True)

    # Days later he logs in again: the overview lists the dialogue he interprets.
    await ibou.click("header.site form[action='/logout'] button")
    await log_in_from_home(ibou, live_url, "ibou@example.org", "a long interpreter password")
    assert ibou.url.endswith("/organise"), ibou.url
    await ibou.locator(f"main tr[data-dialogue='{did}'] a").first.click()
    await snap(ibou, tmp_path, f"{name}-dialogue-page", full_page=True)

    # On the day the facilitator starts the meeting; Ibou opens the lobby from the dialogue's page.
    fac = await page_as(server, browser_context_factory, live_url, facilitator, viewport=DESKTOP)
    await fac.goto(f"{live_url}/dialogues/{did}/meeting")
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    await expect(fac.locator("#host-panel")).to_be_visible()
    await ibou.reload()
    await ibou.locator("#your-part #open-meeting").click()
    await expect(ibou.locator("#interpreting-into")).to_contain_text(french)
    await expect(ibou.locator("#language")).to_be_hidden()  # no "language you will speak" to choose
    await expect(ibou.locator("label[for=language]")).to_have_count(0)
    await snap(ibou, tmp_path, f"{name}-lobby", full_page=True)
    await join_from_lobby(ibou)

    # His booth: straight in (staff wait for nobody), told whom he speaks to; the floor is what he
    # hears, so there is no channel to choose and nothing is offered to him.
    await expect(ibou.locator("#room")).to_be_visible()
    await expect(ibou.locator("#interpreting-note")).to_contain_text(french)
    await expect(ibou.locator("#listen-channel")).to_be_hidden()
    await expect(ibou.locator("#channel-offer")).to_be_hidden()
    await expect(ibou.locator("#hand-btn")).to_be_hidden()  # he never takes the floor
    note_box = await ibou.locator("#interpreting-note").bounding_box()
    tiles_box = await ibou.locator("#tiles").bounding_box()
    assert note_box and tiles_box and note_box["y"] < tiles_box["y"]  # whom he speaks to comes first
    # Everyone sees who interprets, and into what.
    ibou_tile = fac.locator("#tiles .tile", has=fac.locator(".name", has_text="Ibou Interprète"))
    await expect(ibou_tile.locator(".tags .interpreter")).to_have_text("Interpreter (French)")
    await snap(ibou, tmp_path, f"{name}-booth", full_page=True)

    # Awa, registered in French, joins from My dialogues on her computer and is let in.
    awa_user = await register(server, did, "Awa Ndiaye", "awa@example.org", language="fr")
    awa = await page_as(server, browser_context_factory, live_url, awa_user, locale="fr-FR", viewport=DESKTOP)
    await awa.goto(f"{live_url}/my/dialogues")
    await awa.locator(f"li.card[data-dialogue='{did}'] a.button[href='/dialogues/{did}/meeting']").click()
    await join_from_lobby(awa)
    await fac.locator("#waiting-list li", has_text="Awa Ndiaye").get_by_role("button", name="Let in").click()
    await expect(awa.locator("#room")).to_be_visible()

    ibou_tile = awa.locator("#tiles .tile", has=awa.locator(".name", has_text="Ibou Interprète"))
    await expect(ibou_tile.locator(".tags .interpreter")).to_have_text("Interprète (français)")

    # She is offered Ibou's channel in her language, and takes it.
    offer = awa.locator("#channel-offer")
    await expect(offer).to_be_visible()
    await expect(offer).to_contain_text("Ibou Interprète")
    assert await lang_dir(awa) == ("fr", "ltr")
    await snap(awa, tmp_path, f"journey-participant-fr-offered-the-interpreter-{page_language}", full_page=True)
    await awa.click("#channel-offer-yes")
    await expect(offer).to_be_hidden()
    await expect(awa.locator("#listen-channel")).to_have_value("interpreter:fr")
    await expect(awa.locator("#listen-channel option:checked")).to_contain_text("Ibou Interprète")
    view = await server.interpretation.view(awa_user, did)
    assert view["listen_channel"] == "interpreter:fr"

    # The facilitator ends the meeting: Ibou is shown where to go next, in French.
    await fac.click("#end-form button[type=submit]")
    await expect(ibou.locator("#next-steps")).to_be_visible()
    await expect(ibou.locator("#room")).to_be_hidden()
    await expect(ibou.locator("#next-report")).to_have_count(0)  # the report is the facilitator's
    await expect(ibou.locator("#next-transcript")).to_have_attribute("href", f"/dialogues/{did}/transcript")
    await expect(awa.locator("#next-survey")).to_be_visible()
    await snap(ibou, tmp_path, f"{name}-meeting-ended", full_page=True)
    await ibou.click("#next-dialogue")
    assert ibou.url.endswith(f"/dialogues/{did}"), ibou.url
    await expect(ibou.locator("#your-part a[href$='/transcript']")).to_be_visible()
    assert await lang_dir(ibou) == (page_language, direction)


@pytest.mark.parametrize((*PAGE_LANGUAGE, "device"), [
    pytest.param(*ENGLISH.values, "phone", id="english-phone"),
    pytest.param(*FRENCH.values, "phone", id="french-phone"),
    pytest.param(*ARABIC.values, "phone", id="arabic-phone"),
    pytest.param(*FRENCH.values, "desktop", id="french-desktop"),
    pytest.param(*ARABIC.values, "desktop", id="arabic-desktop"),
])
async def test_the_facilitator_runs_the_meeting_and_a_reload_keeps_her_in(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, language: str, direction: str, device: str,
) -> None:
    did, _, facilitator = await water_for_all(server, make_user)
    # Her computer keeps Paris's time; her phone reads the same time as Dakar's (UTC).
    viewport, zone = (PHONE, "UTC") if device == "phone" else (DESKTOP, "Europe/Paris")
    fac = await new_page(browser_context_factory, locale=locale, viewport=viewport, timezone_id=zone)
    await log_in_from_home(fac, live_url, facilitator.email, PASSWORD)
    assert fac.url.endswith("/organise"), fac.url
    assert await lang_dir(fac) == (language, direction)
    name = f"journey-facilitator-{device}-{language}"
    assert await fits_the_screen(fac), "the overview is wider than the screen"
    await snap(fac, tmp_path, f"{name}-overview", full_page=True)
    await fac.locator(f"main tr[data-dialogue='{did}'] a").first.click()
    open_meeting = fac.locator("#your-part #open-meeting")
    await expect(open_meeting).to_be_in_viewport()  # her next step, on the first screen
    # The time in her own zone too, where it reads differently, not the same time twice.
    await fac.wait_for_load_state()
    await expect(fac.locator("main .local-time")).to_have_count(0 if zone == "UTC" else 1)
    if zone != "UTC":
        await expect(fac.locator("main .local-time")).to_contain_text(YOUR_TIME[language])
        await expect(fac.locator("main .local-time")).to_contain_text("(Europe/Paris)")
    assert await fits_the_screen(fac), "the dialogue's page is wider than the screen"
    await snap(fac, tmp_path, f"{name}-dialogue", full_page=True)
    await open_meeting.click()
    await expect(fac.locator("#start-meeting")).to_be_in_viewport()
    assert await fits_the_screen(fac), "the lobby is wider than the screen"
    await snap(fac, tmp_path, f"{name}-lobby", full_page=True)
    await fac.click("#start-meeting")
    # She speaks the language she reads the page in where the dialogue has it, and reads the
    # captions in it: not set to the dialogue's first language (English) on a French page.
    await expect(fac.locator("#language")).to_have_value(SPEAKS[language])
    await join_from_lobby(fac)
    await expect(fac.locator("#room")).to_be_visible()
    await expect(fac.locator("#host-panel")).to_be_visible()
    await expect(fac.locator("#caption-language")).to_have_value(SPEAKS[language])
    assert await lang_dir(fac) == (language, direction)
    assert await fits_the_screen(fac), "the room is wider than the screen"

    # A participant knocks: the facilitator sees it at the top of her phone and lets her in there.
    amina_user = await register(server, did, "Amina Diallo", "amina@example.org", language="fr")
    amina = await page_as(server, browser_context_factory, live_url, amina_user, locale="fr-FR", viewport=PHONE)
    await amina.goto(f"{live_url}/dialogues/{did}/meeting")
    await join_from_lobby(amina)
    knock = fac.locator("#waiting-alert")
    await expect(knock).to_contain_text("Amina Diallo")
    await expect(knock).to_be_in_viewport()
    await expect(fac.locator("#waiting-list li", has_text="Amina Diallo")).to_be_attached()  # also in the panel
    await snap(fac, tmp_path, f"{name}-waiting", full_page=True)
    await knock.locator("#waiting-alert-admit").click()  # "Let in", in her language
    await expect(amina.locator("#room")).to_be_visible()
    await expect(knock).to_be_hidden()
    await expect(fac.locator("#tiles .tile .name", has_text="Amina Diallo")).to_be_visible()

    # Her phone reloads the page: she is still in the room, with the panel and the end in reach.
    await fac.reload()
    await expect(fac.locator("#room")).to_be_visible()
    await expect(fac.locator("#lobby")).to_be_hidden()
    await expect(fac.locator("#host-panel")).to_be_visible()
    end = fac.locator("#end-form button[type=submit]")
    await expect(end).to_be_in_viewport()
    await expect(fac.locator("#tiles .tile .name", has_text="Amina Diallo")).to_be_visible()
    await snap(fac, tmp_path, f"{name}-reloaded", full_page=True)
    # ... and so is the participant whose phone reloads.
    await amina.reload()
    await expect(amina.locator("#room")).to_be_visible()
    await expect(amina.locator("#lobby")).to_be_hidden()

    # Someone who left on purpose sees the lobby again after a reload, not the room.
    await amina.click("#leave-btn")
    await expect(amina.locator("#left")).to_be_visible()
    await amina.reload()
    await expect(amina.locator("#lobby")).to_be_visible()
    await expect(amina.locator("#room")).to_be_hidden()

    await end.click()
    await expect(fac.locator("#next-steps")).to_be_in_viewport()
    assert await fits_the_screen(fac), "the next steps are wider than the screen"
    await snap(fac, tmp_path, f"{name}-ended", full_page=True)
    await fac.click("#next-report")
    assert fac.url.endswith(f"/dialogues/{did}/report"), fac.url
    assert await lang_dir(fac) == (language, direction)
    await fac.click("button[name=action][value=start]")
    await expect(fac.locator("#report-form")).to_be_visible()
    assert await fits_the_screen(fac), "the report is wider than the screen"
    # The languages spoken are ticked by name in her language, not typed as codes: French (from
    # Amina's registration) already; she adds English, which she spoke, and saves the draft.
    spoken = fac.locator("#f-languages")
    french = spoken.locator("label", has=fac.locator("input[value=fr]"))
    await expect(french).to_have_text(FRENCH_NAME[language])
    await expect(french.locator("input")).to_be_checked()
    await spoken.locator("label", has=fac.locator("input[value=en]")).click()
    await fac.click("button[name=action][value=save]")
    await fac.wait_for_url(re.compile(r"/report\?done=saved$"))
    await expect(spoken.locator("input:checked")).to_have_count(2)
    await snap(fac, tmp_path, f"{name}-report", full_page=True)

    # She completes and submits it: the report reads back, locked; the overview counts it.
    await fac.fill("#f-future", "Water within a short walk of every home.")
    await fac.locator("#f-on_track input[value=partly]").check()
    await fac.fill("#f-actions", "Map the wells; ask the council for two more.")
    await fac.click("button[name=action][value=submit]")
    await fac.wait_for_url(re.compile(r"/report\?done=submitted$"))
    await expect(fac.locator("article.report")).to_have_attribute("data-status", "submitted")
    await expect(fac.locator("#report-form")).to_have_count(0)
    # In her language's own list ("الإنجليزية والفرنسية"); what she wrote in English reads left
    # to right on an Arabic page too (its full stop at its end).
    await expect(fac.locator("#section-participants .spoken")).to_have_text(SPOKEN[language])
    written = fac.locator(":is(#section-future, #section-actions) p")
    directions = await written.evaluate_all("l => l.map(e => getComputedStyle(e).direction)")
    assert directions == ["ltr", "ltr"], directions
    assert await lang_dir(fac) == (language, direction)
    assert await fits_the_screen(fac), "the submitted report is wider than the screen"
    await snap(fac, tmp_path, f"{name}-report-submitted", full_page=True)
    await click_in_header(fac, "a[href='/organise']")
    await expect(fac.locator("ul.counts li[data-state=report_submitted] .count")).to_have_text("1")
    await snap(fac, tmp_path, f"{name}-overview-after", full_page=True)


@pytest.mark.parametrize((*PAGE_LANGUAGE, "device"), [
    pytest.param(*ENGLISH.values, "phone", id="english-phone"),
    pytest.param(*ARABIC.values, "phone", id="arabic-phone"),
    pytest.param(*FRENCH.values, "desktop", id="french-desktop"),
])
async def test_the_organiser_sets_up_a_dialogue_and_follows_it_on_the_overview(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, language: str, direction: str, device: str,
) -> None:
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    org = await new_page(browser_context_factory, locale=locale, viewport=PHONE if device == "phone" else DESKTOP)
    name = f"journey-organiser-{device}-{language}"
    await log_in_from_home(org, live_url, organiser.email, PASSWORD)
    assert org.url.endswith("/organise"), org.url
    assert await lang_dir(org) == (language, direction)
    await snap(org, tmp_path, f"{name}-overview", full_page=True)
    await org.locator("main a.button[href='/dialogues/new']").click()  # "New dialogue"

    # The new-dialogue form: nothing wider than the screen.
    await org.fill("#f-title", "Water for all")
    await org.fill("#f-questions", "Who carries the water?\nWhat would change it?")
    starts = (server.clock.now() + timedelta(days=10)).strftime("%Y-%m-%dT14:00")
    await org.fill("#f-starts_at", starts)
    await org.fill("#f-time_zone", "Africa/Dakar")
    for code in ("en", "fr"):
        await org.check(f"#f-languages input[value={code}]")
    await org.select_option("#f-country", "SN")
    await org.fill("#f-facilitator_email", "nadia@example.org")  # no account yet: invited by email
    await expect(org.locator("#f-interpreters")).to_be_visible()
    assert await fits_the_screen(org), "the new-dialogue form is wider than the phone"
    await snap(org, tmp_path, f"{name}-new-dialogue", full_page=True)
    await org.click("form.dialogue-form button[type=submit]")  # "Create draft"

    # The draft's page: the facilitator's invitation link to copy, the draft's next step, Publish.
    await expect(org.locator("h1")).to_have_text("Water for all")
    # What she wrote in English reads left to right on an Arabic page too ("?" at its end).
    written = org.locator("h1 > span, ol.questions li > span")
    directions = await written.evaluate_all("l => l.map(e => getComputedStyle(e).direction)")
    assert directions == ["ltr"] * 3, directions
    invite = org.locator("#facilitator-invite")
    await expect(invite).to_contain_text("nadia@example.org")
    link = await org.locator("#invite-link").input_value()
    assert "/invite/" in link
    assert await fits_the_screen(org), "the draft's page is wider than the phone"
    await snap(org, tmp_path, f"{name}-draft", full_page=True)
    # Publish is the draft's next step: in her part of the page, on the first screen, once.
    publish = org.locator("button[data-action=publish]")
    await expect(publish).to_have_count(1)
    await expect(org.locator("#your-part button[data-action=publish]")).to_be_in_viewport()
    await publish.click()
    await expect(org.locator("article.dialogue")).to_have_attribute("data-state", "scheduled")
    await expect(publish).to_have_count(0)
    # The link is no longer shown; the page still says who is invited and has yet to accept.
    waiting = org.locator("#your-part .staff-invited")
    await expect(waiting).to_contain_text("nadia@example.org")
    if language == "en":
        await expect(waiting).to_contain_text("nadia@example.org is invited to facilitate it and has not accepted yet")
    await snap(org, tmp_path, f"{name}-published", full_page=True)

    # Back on the overview (from the header, as on any page): the dialogue is listed and counted.
    await click_in_header(org, "a[href='/organise']")
    row = org.locator("main tr[data-dialogue]", has_text="Water for all")
    await expect(row).to_be_visible()
    await expect(org.locator("ul.counts li[data-state=scheduled] .count")).to_have_text("1")
    # Every column is on the screen (each row a card on a phone), registrations against places
    # included; the facilitator's cell names whom the invitation went to until she accepts.
    await expect(row.locator("td.fill")).to_be_visible()
    await expect(row.locator(".invited bdi")).to_have_text("nadia@example.org")
    assert await fits_the_screen(org, "main td"), "the overview's table is wider than the phone"
    await snap(org, tmp_path, f"{name}-overview-after", full_page=True)

    # Nadia accepts on her phone: the overview then names her as the facilitator.
    nadia = await new_page(browser_context_factory, viewport=PHONE)
    await nadia.goto(link)
    await sign_up_from_invitation(nadia, "Nadia Facilitator", "a long facilitator password")
    await expect(nadia.locator("#your-part #open-meeting")).to_be_visible()  # she runs it
    await org.reload()
    await expect(row).to_contain_text("Nadia Facilitator")
    await row.locator("a", has_text="Water for all").click()
    await expect(org.locator("#your-part")).to_be_visible()
    await expect(waiting).to_have_count(0)
    await expect(org.locator("main dl.facts").first).to_contain_text("Nadia Facilitator")
    await click_in_header(org, "a[href='/organise']")

    # The dashboard, last: the campaign at a glance, readable on the phone.
    await click_in_header(org, "a[href='/dashboard']")
    assert org.url.endswith("/dashboard"), org.url
    # Wide tables scroll inside their frame; every heading, question, field and button stays on
    # the screen, and the filters leave room for the figures on the first screen.
    readable = "main :is(h1, h2, h3, p, caption, label, select, input, button, a)"
    assert await fits_the_screen(org, readable), "part of the dashboard is off the phone's screen"
    await expect(org.locator("ul.totals").first).to_be_in_viewport()
    # The breakdown's questions are numbered in her language, not named by their internal keys.
    tabs = await org.locator("#breakdown nav.tabs").first.locator("a").all_text_contents()
    assert len(tabs) == 4 and not {"future", "priorities", "trends", "cooperation"} & set(tabs), tabs
    await snap(org, tmp_path, f"{name}-dashboard", full_page=True)



@pytest.mark.parametrize(("locale", "page_language", "direction", "into", "into_name"), [
    pytest.param("en-GB", "en", "ltr", "en", "English", id="english-into-english"),
    pytest.param("ar", "ar", "rtl", "fr", "الفرنسية", id="arabic-into-french"),
])
async def test_the_interpreter_works_the_meeting_from_a_phone(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, page_language: str, direction: str, into: str, into_name: str,
) -> None:
    did, organiser, facilitator = await water_for_all(server, make_user)
    invited = await server.accounts.invite(organiser, email="kofi@example.org", role=Role.INTERPRETER,
                                           dialogue_id=did, language=into)
    name = f"journey-interpreter-phone-{page_language}"

    # Kofi opens the link the organiser sent him, on his phone, and signs up.
    kofi = await new_page(browser_context_factory, locale=locale, viewport=PHONE)
    await kofi.goto(f"{live_url}/invite/{invited.token}")
    assert await lang_dir(kofi) == (page_language, direction)
    await expect(kofi.locator("main")).to_contain_text("Water for all")
    await expect(kofi.locator("main")).to_contain_text(into_name)
    if page_language == "en":  # two sentences, not run together
        await expect(kofi.locator("main")).to_contain_text("invited kofi@example.org. It is for interpreting")
    assert await fits_the_screen(kofi), "the invitation is wider than the phone"
    await snap(kofi, tmp_path, f"{name}-invitation", full_page=True)
    await sign_up_from_invitation(kofi, "Kofi Mensah", "a long interpreter password")
    await kofi.wait_for_url(re.compile(rf"/dialogues/{did}\?done=invitation$"))
    part = kofi.locator("#your-part")
    await expect(part.locator("#interpreting-into")).to_contain_text(into_name)
    await expect(part.locator("#open-meeting")).to_be_in_viewport()  # his next step, on the first screen
    assert await fits_the_screen(kofi), "the dialogue's page is wider than the phone"
    await snap(kofi, tmp_path, f"{name}-dialogue", full_page=True)

    # On the day the facilitator starts the meeting; Kofi opens the lobby from the dialogue's page.
    fac = await page_as(server, browser_context_factory, live_url, facilitator, viewport=DESKTOP)
    await fac.goto(f"{live_url}/dialogues/{did}/meeting")
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    await kofi.reload()
    await part.locator("#open-meeting").click()
    await expect(kofi.locator("#interpreting-into")).to_contain_text(into_name)
    await expect(kofi.locator("#language")).to_be_hidden()
    # He joins to speak: "Listen only" would leave his listeners in silence, so it is not offered.
    await expect(kofi.locator("input[name=mode][value=audio]")).to_be_visible()
    await expect(kofi.locator("input[name=mode][value=listen]")).to_have_count(0)
    assert await fits_the_screen(kofi), "the lobby is wider than the phone"
    await snap(kofi, tmp_path, f"{name}-lobby", full_page=True)
    await join_from_lobby(kofi)

    # His booth on the phone: whom he speaks to first, on the screen; his controls in reach.
    await expect(kofi.locator("#room")).to_be_visible()
    note = kofi.locator("#interpreting-note")
    await expect(note).to_contain_text(into_name)
    assert await lang_dir(kofi) == (page_language, direction)
    await expect(note).to_be_in_viewport()
    await expect(kofi.locator("#mute-btn")).to_be_in_viewport()
    await expect(kofi.locator("#hand-btn")).to_be_hidden()
    await expect(kofi.locator("#listen-channel")).to_be_hidden()
    assert await fits_the_screen(kofi), "the booth is wider than the phone"
    await snap(kofi, tmp_path, f"{name}-booth", full_page=True)
    await snap(kofi, tmp_path, f"{name}-booth-screen")

    # The meeting ends: his next steps, then the dialogue's page leads to the transcript.
    await fac.click("#end-form button[type=submit]")
    await expect(kofi.locator("#next-steps")).to_be_in_viewport()
    await expect(kofi.locator("#next-report")).to_have_count(0)
    await snap(kofi, tmp_path, f"{name}-ended", full_page=True)
    await kofi.click("#next-dialogue")
    assert kofi.url.endswith(f"/dialogues/{did}"), kofi.url
    await part.locator("a[href$='/transcript']").click()
    assert kofi.url.endswith(f"/dialogues/{did}/transcript"), kofi.url
    assert await fits_the_screen(kofi), "the transcript is wider than the phone"
    await snap(kofi, tmp_path, f"{name}-transcript", full_page=True)
