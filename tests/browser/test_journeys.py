"""Journeys without dead ends, in Chromium: each person's next step is on the page they land
on, and they get there by clicking only what they see.

- An organiser who logs in lands on the overview with "New dialogue"; the first-start admin
  is asked there to replace the printed password.
- An organiser invites a facilitator to a dialogue chosen by its title; the facilitator signs
  up from the link and lands on that dialogue, whose page leads with their part (the meeting
  lobby), without Register.
- In a meeting, a participant on a phone sees the captions before the tiles and is offered
  the interpreter of her language; the interpreter's lobby asks no language; Enter sends a
  chat message and Shift+Enter starts a new line; a facilitator
  who reloads the page is still in the room and can end the meeting; when it ends, everyone
  gets their next steps (transcript, report for the facilitator, survey, My dialogues); the
  facilitator starts the report and the page follows its pre-draft to the draft.
  (The interpreter's and the facilitator-on-a-phone journeys are in test_staff_journeys.py.)
- A newcomer, in Arabic, English and French, on a phone and on a desktop, goes from the home page to
  a dialogue, registers, finds it in My dialogues, joins on the day when Join appears, is let
  in, and after the meeting reaches the survey, every page in her language and direction.

Janus is off in the test config: the room renders from the meeting state without media.
Screenshots go where `tests/browser/screens.py` says, for review.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from parley.handlers.accounts import FIRST_ADMIN_EMAIL
from parley.handlers.dialogues import Action, DialogueInput
from parley.media.janus.mixdown import mix_meeting
from parley.media.janus.recording import convert, write_mjr
from parley.server import Server
from parley.storage.meeting_models import MeetingRecording, RecordingStatus
from parley.storage.models import Role
from parley.storage.stores import meetings as meeting_store
from parley.storage.stores import transcripts as transcript_store
from tests.browser.pages import Factory, fits_the_screen, join_from_lobby, log_in_from_home, new_page, page_as
from tests.browser.screens import snap
from tests.conftest import PASSWORD
from tests.meetings.scenario import MakeUser, build_setup
from tests.meetings.test_recording import rtp

expect = pytest.importorskip("playwright.async_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_organiser_lands_on_the_overview_and_the_first_admin_is_asked_to_change_the_password(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path
) -> None:
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    org = await new_page(browser_context_factory)
    await log_in_from_home(org, live_url, organiser.email, PASSWORD)
    assert org.url.endswith("/organise"), org.url
    await expect(org.get_by_role("link", name="New dialogue")).to_be_visible()
    await expect(org.locator("#first-password")).to_have_count(0)
    await snap(org, tmp_path, "journey-organiser-landing", full_page=True)

    # The admin the first start created still has the printed password: the overview says so.
    await make_user(Role.ADMIN, email=FIRST_ADMIN_EMAIL, name="Administrator")
    admin = await new_page(browser_context_factory)
    await log_in_from_home(admin, live_url, FIRST_ADMIN_EMAIL, PASSWORD)
    assert admin.url.endswith("/organise"), admin.url
    prompt = admin.locator("#first-password")
    await expect(prompt).to_be_visible()
    await snap(admin, tmp_path, "journey-first-admin-landing", full_page=True)
    await prompt.get_by_role("link").click()
    await admin.fill("#password-current_password", PASSWORD)
    await admin.fill("#password-new_password", "a password of my own choosing")
    await admin.fill("#password-new_password_confirm", "a password of my own choosing")
    await admin.click("button:has-text('Change password')")
    await expect(admin.locator(".flash")).to_be_visible()
    await admin.click("header.site a[href='/organise']")
    await expect(admin.get_by_role("link", name="New dialogue")).to_be_visible()
    await expect(admin.locator("#first-password")).to_have_count(0)


async def test_a_facilitator_invited_to_a_dialogue_by_its_title_lands_on_it(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path
) -> None:
    organiser = await make_user(Role.ORGANISER, name="Olu Organiser")
    starts = (server.clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT14:00")
    view = await server.dialogues.create(organiser, DialogueInput(
        title="Water for all", starts_at=starts, time_zone="Africa/Dakar", languages=["en", "fr"], country="SN"))
    did = (await server.dialogues.transition(organiser, view.id, Action.PUBLISH)).id

    # The organiser invites its facilitator from the dialogue's own page, by email.
    org = await page_as(server, browser_context_factory, live_url, organiser)
    await org.goto(f"{live_url}/dialogues/{did}")
    await org.click("a:has-text('Invite a facilitator')")
    await expect(org.locator("#f-dialogue_id option:checked")).to_have_text("Water for all")
    await expect(org.locator("#f-role")).to_have_value("facilitator")
    await org.fill("#f-email", "nadia@example.org")
    await org.click("button:has-text('Create invitation link')")
    link = await org.locator("#invite-link").input_value()
    pending = org.locator("table tr", has_text="nadia@example.org")
    await expect(pending).to_contain_text("Water for all")  # listed by title, not by number
    await snap(org, tmp_path, "journey-invitation-by-title", full_page=True)
    await expect(org.locator("#back-to-dialogue")).to_have_attribute("href", f"/dialogues/{did}")

    # Nadia signs up from the link and lands on the dialogue she will run.
    nadia = await new_page(browser_context_factory)
    await nadia.goto(link)
    await expect(nadia.locator("main")).to_contain_text("Water for all")
    await nadia.fill("#f-display_name", "Nadia Facilitator")
    await nadia.fill("#f-password", "a long facilitator password")
    await nadia.fill("#f-password_confirm", "a long facilitator password")
    await nadia.click("button:has-text('Create my account')")
    await nadia.wait_for_url(re.compile(rf"/dialogues/{did}\?done=invitation$"))
    await expect(nadia.locator(".flash")).to_contain_text("Welcome")
    part = nadia.locator("#your-part")
    await expect(part).to_contain_text("You facilitate this dialogue")
    await expect(nadia.locator(f"a[href='/dialogues/{did}/register']")).to_have_count(0)
    await expect(nadia.locator("button[data-action=start]")).to_have_count(0)
    await snap(nadia, tmp_path, "journey-invited-facilitator-landing", full_page=True)

    # Her next step is the meeting lobby, where she starts the meeting on the day.
    await part.get_by_role("link", name="Open the meeting lobby").click()
    await expect(nadia.locator("#start-meeting")).to_be_visible()


async def test_a_meeting_ends_into_next_steps_for_everyone(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path
) -> None:
    setup = await build_setup(server, make_user)
    did = setup.dialogue.id
    people = setup.people

    # Amina comes back through "My dialogues": the meeting is live, and Join is right there.
    fac = await page_as(server, browser_context_factory, live_url, people.facilitator)
    await fac.goto(f"{live_url}/dialogues/{did}")
    await fac.locator("#your-part").get_by_role("link", name="Open the meeting lobby").click()
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    await expect(fac.locator("#host-panel")).to_be_visible()

    amina = await page_as(server, browser_context_factory, live_url, people.amina, locale="fr-FR",
                          viewport={"width": 390, "height": 844})  # on her phone
    await amina.goto(f"{live_url}/my/dialogues")
    card = amina.locator(f"li.card[data-dialogue='{did}']")
    join = card.locator(f"a.button[href='/dialogues/{did}/meeting']")  # "Join the meeting", in French
    await expect(join).to_be_visible()
    await join.click()
    await join_from_lobby(amina)
    waiting = fac.locator("#waiting-list li", has_text="Amina Diallo")
    await waiting.get_by_role("button", name="Let in").click()
    await expect(amina.locator("#room")).to_be_visible()

    # On a phone, the captions come before the tiles.
    captions_box = await amina.locator("#captions-panel").bounding_box()
    tiles_box = await amina.locator("#tiles").bounding_box()
    assert captions_box and tiles_box and captions_box["y"] < tiles_box["y"]

    # The interpreter's lobby asks nothing about a language: she speaks the one she interprets into.
    ines = await page_as(server, browser_context_factory, live_url, people.interpreter)
    await ines.goto(f"{live_url}/dialogues/{did}/meeting")
    await expect(ines.locator("#interpreting-into")).to_contain_text("French")
    await expect(ines.locator("select#language")).to_have_count(0)
    await snap(ines, tmp_path, "journey-interpreter-lobby", full_page=True)
    await join_from_lobby(ines)
    await expect(ines.locator("#room")).to_be_visible()

    # Amina speaks French: she is offered Ines's channel, without hunting for "Listen to".
    offer = amina.locator("#channel-offer")
    await expect(offer).to_be_visible()
    await expect(offer).to_contain_text("Ines Interpreter")
    await snap(amina, tmp_path, "journey-participant-phone-offer", full_page=True)
    await offer.get_by_role("button").first.click()
    await expect(offer).to_be_hidden()
    await expect(amina.locator("#listen-channel")).to_have_value("interpreter:fr")

    # Enter sends, Shift+Enter starts a new line: as in the workspace chat.
    await amina.click("#chat-input")
    await amina.keyboard.type("Bonjour")
    await amina.keyboard.press("Shift+Enter")
    await amina.keyboard.type("à tous")
    assert await amina.locator("#chat-input").input_value() == "Bonjour\nà tous"
    await amina.keyboard.press("Enter")
    message = fac.locator("#chat-messages li", has_text="à tous")
    await expect(message).to_contain_text("Amina Diallo")
    await expect(message).to_contain_text("Bonjour")
    await expect(amina.locator("#chat-input")).to_have_value("")

    # The facilitator reloads: still in the room (no lobby), and the end is in reach.
    await fac.reload()
    await expect(fac.locator("#room")).to_be_visible()
    await expect(fac.locator("#lobby")).to_be_hidden()
    end = fac.locator("#end-form button[type=submit]")
    await expect(end).to_be_visible()
    await snap(fac, tmp_path, "journey-facilitator-reloaded", full_page=True)
    await end.click()

    # Everyone gets the next steps, in place of the room.
    fac_next = fac.locator("#next-steps")
    await expect(fac_next).to_be_visible()
    await expect(fac.locator("#next-report")).to_have_attribute("href", f"/dialogues/{did}/report")
    await expect(fac.locator("#end-form")).to_be_hidden()
    next_steps = amina.locator("#next-steps")
    await expect(next_steps).to_be_visible()
    await expect(amina.locator("#room")).to_be_hidden()
    await expect(amina.locator("#next-transcript")).to_have_attribute("href", f"/dialogues/{did}/transcript")
    await expect(amina.locator("#next-survey")).to_have_attribute("href", "/survey")
    await expect(amina.locator("#next-report")).to_have_count(0)  # the report is the staff's
    await snap(amina, tmp_path, "journey-participant-meeting-ended", full_page=True)
    await snap(fac, tmp_path, "journey-facilitator-meeting-ended", full_page=True)

    # The same steps greet whoever opens the ended meeting later; My dialogues is one click.
    await amina.reload()
    await expect(next_steps).to_be_visible()
    await amina.click("#next-mine")
    await expect(amina.locator(f"li.card[data-dialogue='{did}'] a[href='/dialogues/{did}/transcript']")).to_be_visible()
    await fac.click("#next-report")
    assert fac.url.endswith(f"/dialogues/{did}/report"), fac.url

    # She starts the report: the page follows the pre-draft (it reloads itself while it runs)
    # and lands on the draft, saying what it could not do (nobody's words were transcribed).
    await fac.get_by_role("button", name="Start the report").click()
    await expect(fac.locator("#report-form")).to_be_visible()
    await expect(fac.locator(".run-progress")).to_have_count(0)
    await expect(fac.locator("[data-notice=no_transcript]")).to_be_visible()
    await snap(fac, tmp_path, "journey-facilitator-report-drafted", full_page=True)


@pytest.mark.parametrize(("locale", "language", "country", "viewport", "direction"), [
    pytest.param("ar", "ar", "EG", {"width": 390, "height": 844}, "rtl", id="arabic-phone"),
    pytest.param("en-GB", "en", "GB", {"width": 1280, "height": 800}, "ltr", id="english-desktop"),
    pytest.param("fr-FR", "fr", "SN", {"width": 1280, "height": 800}, "ltr", id="french-desktop"),
    pytest.param("en-GB", "en", "GB", {"width": 390, "height": 844}, "ltr", id="english-phone"),
    pytest.param("ar", "ar", "EG", {"width": 1280, "height": 800}, "rtl", id="arabic-desktop"),
    pytest.param("fr-FR", "fr", "SN", {"width": 390, "height": 844}, "ltr", id="french-phone"),
])
async def test_a_newcomer_finds_registers_joins_and_is_shown_what_comes_next(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path,
    locale: str, language: str, country: str, viewport: dict[str, int], direction: str,
) -> None:
    """From the home page to the survey after the meeting, in her language, by clicking."""
    setup = await build_setup(server, make_user)
    did = setup.dialogue.id
    name = f"journey-newcomer-{language}-{'phone' if viewport['width'] < 600 else 'desktop'}"
    me = await new_page(browser_context_factory, locale=locale, viewport=viewport)
    await me.goto(live_url + "/")
    assert (await me.get_attribute("html", "lang"), await me.get_attribute("html", "dir")) == (language, direction)
    await me.click("main a.button[href='/dialogues']")  # "Find a dialogue"
    await me.click(f"a[href='/dialogues/{did}']")
    await me.locator(".register-box a.button").click()  # "Register"
    await me.fill("#f-display_name", "Salma Haddad")
    await me.fill("#f-email", f"salma-{language}@example.org")
    # She speaks in the meeting in one of its languages (English, French): hers when it is one.
    speaks = language if language in ("en", "fr") else "en"
    if speaks == language:  # her page's language, already chosen for her
        await expect(me.locator("#f-preferred_language")).to_have_value(speaks)
    await me.select_option("#f-preferred_language", speaks)
    await me.select_option("#f-country", country)
    for group in ("age_group", "gender", "education"):
        await me.locator(f"input[name={group}]").first.check()
    await me.check("input[name=consent_participate]")
    await me.check("input[name=consent_transcript]")
    await snap(me, tmp_path, f"{name}-registration", full_page=True)
    await me.click("form.registration-form button[type=submit]")
    link = me.locator("#personal-link")
    await expect(link).to_be_visible()
    # A link reads left to right in every language: in Arabic too it starts with its address.
    assert await link.evaluate("e => getComputedStyle(e).direction") == "ltr"
    await me.click("main a.button[href='/my/dialogues']")
    card = me.locator(f"li.card[data-dialogue='{did}']")
    await expect(card).to_contain_text("The future we want")
    lobby = card.locator(f"a[href='/dialogues/{did}/meeting']")
    await expect(lobby).to_have_class("button secondary")  # the lobby is open early; Join comes on the day
    assert await fits_the_screen(me, "main *"), "My dialogues reaches past the screen"
    await snap(me, tmp_path, f"{name}-my-dialogues", full_page=True)

    # On the day the facilitator opens the meeting: Join appears where she looks.
    fac = await page_as(server, browser_context_factory, live_url, setup.people.facilitator)
    await fac.goto(f"{live_url}/dialogues/{did}")
    await fac.locator("#your-part").get_by_role("link", name="Open the meeting lobby").click()
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    await me.reload()
    await expect(lobby).to_have_class("button")  # "Join the meeting", in her language
    await lobby.click()
    assert await me.get_attribute("html", "dir") == direction
    await expect(me.locator("#language")).to_have_value(speaks)  # the language she registered with
    await snap(me, tmp_path, f"{name}-lobby", full_page=True)
    await join_from_lobby(me)
    await fac.locator("#waiting-list li", has_text="Salma Haddad").get_by_role("button", name="Let in").click()
    await expect(me.locator("#room")).to_be_visible()
    assert await fits_the_screen(me, "#room *:not(option)"), "the meeting reaches past the screen"
    await snap(me, tmp_path, f"{name}-in-the-meeting", full_page=True)

    await fac.click("#end-form button[type=submit]")
    await expect(me.locator("#next-steps")).to_be_visible()
    await snap(me, tmp_path, f"{name}-meeting-ended", full_page=True)
    await me.click("#next-survey")
    assert me.url.endswith("/survey"), me.url
    assert await me.get_attribute("html", "lang") == language
    await snap(me, tmp_path, f"{name}-survey", full_page=True)


async def test_after_the_meeting_the_facilitator_downloads_the_whole_meeting_and_each_voice_by_name(
    server: Server, live_url: str, make_user: MakeUser, browser_context_factory: Factory, tmp_path: Path
) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/setup installs it)")
    setup = await build_setup(server, make_user)
    did = setup.dialogue.id
    fac = await page_as(server, browser_context_factory, live_url, setup.people.facilitator)
    await fac.goto(f"{live_url}/dialogues/{did}/meeting")
    await fac.click("#start-meeting")
    await join_from_lobby(fac)
    await fac.click("#end-form button[type=submit]")
    await expect(fac.locator("#next-steps")).to_be_visible()

    # What the converter made of a recording in which Amina (named in Arabic) and Bruno spoke.
    async with server.db.session() as s:
        meeting = await meeting_store.meeting_for(s, did)
        assert meeting is not None
        rec = MeetingRecording(meeting_id=meeting.id, dialogue_id=did, status=RecordingStatus.PROCESSING,
                               directory="", files=[], started_by_id=setup.people.facilitator.id,
                               started_at=server.clock.now(), stopped_at=server.clock.now(), error=None)
        await meeting_store.add(s, rec)
        rec.directory = f"recordings/{did}/{rec.id}"
        rid = rec.id
    folder = server.config.data_path / "recordings" / str(did) / str(rid)
    folder.mkdir(parents=True)
    names = {5: "أمينة ديالو", 6: "Bruno Silva"}
    for pid in names:
        write_mjr(folder / f"videoroom-1-user-{(pid << 20) | 1}-1-audio-0.mjr", [rtp(i, i * 960) for i in range(100)],
                  first_us=1_000_000 * pid)
    manifest = convert(folder, 5_000_000, names=names)
    mixed = mix_meeting(folder, manifest)
    assert mixed is not None
    manifest.insert(0, mixed)
    async with server.db.session() as s:
        row = await s.get(MeetingRecording, rid)
        assert row is not None
        row.files, row.status = manifest, RecordingStatus.READY

    await fac.reload()
    links = fac.locator("#after-recordings a[download]")
    await expect(links).to_have_text(["Download: The whole meeting, every voice together (0 min 3 s)",
                                      "Download: أمينة ديالو alone (0 min 2 s)",
                                      "Download: Bruno Silva alone (0 min 3 s)"], use_inner_text=True)
    await snap(fac.locator("#next-steps"), tmp_path, "journey-facilitator-recordings")
    async with fac.expect_download() as info:
        await links.filter(has_text="أمينة").click()
    download = await info.value
    assert download.suggested_filename == "01 أمينة ديالو.opus"
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert saved == await asyncio.to_thread((folder / "01-speaker.opus").read_bytes)

    # Days later she comes back from the dialogue's page: the recordings are on the transcript
    # and on the report, in plain HTML, with the same names, lengths and downloads.
    async with server.db.session() as s:
        meeting = await meeting_store.meeting_for(s, did)
        assert meeting is not None and meeting.ended_at is not None
        await transcript_store.add(
            s, dialogue_id=did, speaker_user_id=None, speaker_name="Bruno Silva", language="fr",
            started_at=meeting.ended_at, ended_at=meeting.ended_at + timedelta(seconds=4),
            text="Nous voulons de l'eau potable.", created_at=meeting.ended_at, translations={})
    await fac.goto(f"{live_url}/dialogues/{did}")
    await fac.locator("main a", has_text="Transcript").first.click()
    assert fac.url.endswith(f"/dialogues/{did}/transcript"), fac.url
    await fac.get_by_role("link", name="Recordings of the meeting").click()
    section = fac.locator("section.recordings")
    await expect(section).to_be_visible()
    page_links = section.locator("a[download]")
    await expect(page_links).to_have_text(["Download: The whole meeting, every voice together",
                                           "Download: أمينة ديالو alone", "Download: Bruno Silva alone"],
                                          use_inner_text=True)
    await expect(section.locator(".duration")).to_have_text(["(0 min 3 s)", "(0 min 2 s)", "(0 min 3 s)"])
    await snap(section, tmp_path, "journey-facilitator-transcript-recordings")
    async with fac.expect_download() as info:
        await page_links.first.click()
    whole = await info.value
    saved = await asyncio.to_thread(Path(await whole.path()).read_bytes)
    assert saved == await asyncio.to_thread((folder / str(mixed["file"])).read_bytes)

    # The meeting's end queued its translation: before choosing English she reads how far it is;
    # choosing it shows the progress (it runs in the background, once) and a way to the originals.
    english = fac.locator("#transcript-language option[value=en]")
    await expect(english).to_contain_text("English (being translated: 0 of 1)")
    await fac.select_option("#transcript-language", "en")
    await fac.get_by_role("button", name="Show").click()
    await expect(fac.locator("#translation-progress")).to_contain_text("Translating into English: 0 of 1 line.")
    await expect(fac.get_by_role("link", name="Read the originals meanwhile")).to_be_visible()
    await snap(fac, tmp_path, "journey-facilitator-transcript-in-english", full_page=True)

    await fac.get_by_role("link", name="Facilitator report").click()
    assert fac.url.endswith(f"/dialogues/{did}/report"), fac.url
    await fac.get_by_role("link", name="Recordings of the meeting").click()
    await expect(fac.locator("section.recordings a[download]")).to_have_count(3)
    await snap(fac.locator("section.recordings"), tmp_path, "journey-facilitator-report-recordings")
