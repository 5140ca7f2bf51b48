"""The report pages work as plain forms: start, save, failed submit that keeps what was
typed, submit, read-only view, reopen; and the transcript page with its anchors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx

from parley.server import Server
from parley.storage.models import DialogueState
from tests.analysis.helpers import Cast, client_for, ended_dialogue, install_analysis, register, say
from tests.conftest import csrf_from

HTML = {"Accept": "text/html"}
REFRESH = 'http-equiv="refresh"'


async def drafted(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The report page once the background pre-draft is done, followed as a browser would
    (the page reloads itself while it shows progress; bounded for a stuck draft)."""
    async with asyncio.timeout(30):
        while True:
            page = await client.get(url, headers=HTML)
            if REFRESH not in page.text:
                return page
            assert 'class="run-progress"' in page.text and "Pre-drafting:" in page.text
            assert 'id="report-form"' not in page.text and 'value="start"' not in page.text
            await asyncio.sleep(0.05)


async def said_in_french(server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient],
                         text: str) -> tuple[int, httpx.AsyncClient]:
    """An ended dialogue where a participant registered in French said ``text``, and its
    facilitator's client, posting forms as a browser does (the CSRF token as a form field)."""
    install_analysis(server)
    d = await ended_dialogue(server, cast)
    speaker = cast.participants[0]
    await register(server, d, speaker, language="fr")
    await say(server, d, speaker, text, at_minute=4, language="fr")
    client = await client_for(server, make_client, cast.facilitator)
    del client.headers["X-CSRF-Token"]
    return d, client


async def test_report_page_from_start_to_submission(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    d, client = await said_in_french(server, cast, make_client,
                                     "Je rêve d'un avenir sans réchauffement climatique pour nos enfants.")

    page = await client.get(f"/dialogues/{d}/report", headers=HTML)
    assert page.status_code == 200 and 'value="start"' in page.text
    token = csrf_from(page.text)

    started = await client.post(f"/dialogues/{d}/report", data={"csrf_token": token, "action": "start",
                                                                 "language": "en"}, headers=HTML)
    assert started.status_code == 303
    page = await drafted(client, started.headers["location"])
    assert "pre-drafted it from the transcript" in page.text  # the flash, once the draft is there
    assert 'id="report-form"' in page.text and "[en] Je rêve" in page.text
    assert 'id="section-future"' in page.text and "Agreed to be quoted" in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    quote_id = re.search(r'name="quote_ids" value="(\d+)"', page.text)
    assert quote_id

    # Submitting an incomplete report re-renders the form with the text kept and errors shown.
    form = {"csrf_token": token, "version": version.group(1), "language": "en", "future": "My typed future text",
            "on_track": "", "on_track_text": "", "actions": "", "notes": "", "participant_count": "",
            "languages": "en, fr", "quote_ids": quote_id.group(1),
            f"quote-{quote_id.group(1)}-included": "1", "action": "submit"}
    failed = await client.post(f"/dialogues/{d}/report", data=form, headers=HTML)
    assert failed.status_code == 422
    assert "My typed future text" in failed.text and 'id="f-actions-error"' in failed.text
    assert 'aria-invalid="true"' in failed.text

    page = await client.get(f"/dialogues/{d}/report", headers=HTML)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    form.update(version=version.group(1), actions="Plant trees", on_track="no", participant_count="7")
    done = await client.post(f"/dialogues/{d}/report", data=form, headers=HTML)
    assert done.status_code == 303 and done.headers["location"].endswith("done=submitted")
    assert (await server.dialogues.get(cast.facilitator, d)).state == DialogueState.REPORT_SUBMITTED

    view = await client.get(done.headers["location"], headers=HTML)
    assert 'id="report-form"' not in view.text and "Plant trees" in view.text and "Je rêve" in view.text
    assert 'value="reopen"' not in view.text  # the facilitator cannot reopen

    organiser = await client_for(server, make_client, cast.organiser)
    del organiser.headers["X-CSRF-Token"]
    view = await organiser.get(f"/dialogues/{d}/report", headers=HTML)
    assert 'value="reopen"' in view.text
    reopened = await organiser.post(f"/dialogues/{d}/report", data={
        "csrf_token": csrf_from(view.text), "action": "reopen"}, headers=HTML)
    assert reopened.status_code == 303
    assert 'id="report-form"' in (await client.get(f"/dialogues/{d}/report", headers=HTML)).text


async def test_the_languages_spoken_are_ticked_by_name_not_typed_as_codes(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    d, client = await said_in_french(server, cast, make_client, "Nous voulons de l'eau propre pour tous les villages.")
    page = await client.get(f"/dialogues/{d}/report", headers=HTML)
    started = await client.post(f"/dialogues/{d}/report", data={
        "csrf_token": csrf_from(page.text), "action": "start", "language": "fr"}, headers=HTML)
    await drafted(client, started.headers["location"])
    client.headers["Accept-Language"] = "fr"  # a French facilitator
    page = await client.get(f"/dialogues/{d}/report", headers=HTML)

    # Each language is a box named in the page's language; the pre-draft ticked French.
    assert 'value="fr" checked> <span>français</span>' in page.text
    assert 'value="en"> <span>anglais</span>' in page.text
    boxes = re.findall(r'name="languages" value="([\w-]+)"', page.text)
    assert boxes[:2] == ["en", "fr"] and len(boxes) == len(set(boxes))  # the dialogue's first, once each
    # The language of a new quote is chosen by name too, the speaker's own by default.
    assert 'name="new_quote_language" value=' not in page.text
    assert '<option value="">La langue de la personne citée</option>' in page.text

    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = await client.post(f"/dialogues/{d}/report", data={
        "csrf_token": csrf_from(page.text), "version": version.group(1), "language": "fr", "action": "save",
        "languages": ["fr", "en"], "languages_other": "wo"}, headers=HTML)
    assert saved.status_code == 303
    assert (await server.reports.get(cast.facilitator, d)).languages == ["en", "fr", "wo"]
    page = await client.get(f"/dialogues/{d}/report", headers=HTML)
    assert 'value="wo" checked>' in page.text  # once noted, a box of its own


async def test_transcript_page_shows_consented_lines_with_anchors(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install_analysis(server)
    d = await ended_dialogue(server, cast)
    yes, no = cast.participants[0], cast.participants[1]
    await register(server, d, yes)
    await register(server, d, no, transcript=False)
    shown = await say(server, d, yes, "Water for every village.", at_minute=2)
    await say(server, d, no, "Something nobody may keep.", at_minute=3)

    page = await (await client_for(server, make_client, cast.facilitator)).get(f"/dialogues/{d}/transcript",
                                                                                headers=HTML)
    assert page.status_code == 200
    assert f'id="segment-{shown}"' in page.text and "Water for every village." in page.text
    assert "nobody may keep" not in page.text and yes.display_name in page.text
    # Organisers who do not run the dialogue read it, as observers, without names.
    await server.observers.grant(cast.admin, d, cast.other_organiser.id)
    other = await (await client_for(server, make_client, cast.other_organiser)).get(f"/dialogues/{d}/transcript",
                                                                                    headers=HTML)
    assert "Water for every village." in other.text and yes.display_name not in other.text


async def test_reports_list_page_and_logins(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install_analysis(server)
    d = await ended_dialogue(server, cast)
    anonymous = await make_client().get(f"/dialogues/{d}/report", headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    page = await (await client_for(server, make_client, cast.facilitator)).get("/reports", headers=HTML)
    assert page.status_code == 200 and f"/dialogues/{d}/report" in page.text
    denied = await (await client_for(server, make_client, cast.participants[0])).get(
        f"/dialogues/{d}/report", headers=HTML)
    assert denied.status_code == 403 and "<html" in denied.text
