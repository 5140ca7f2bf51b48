"""Pre-drafting a report runs in the background: the page answers at once, shows the stage
and counts (reading, choosing n of N lines, translating n of N, saving) and reloads itself
until the draft is there; what the pre-draft could not do is shown once after; a failure
says so and leaves the report to start again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx
import pytest

from parley.consultation.reports import predraft
from parley.server import Server
from tests.analysis.helpers import Cast, client_for, ended_dialogue, install_analysis, register, say
from tests.conftest import csrf_from
from tests.reports.test_pages import HTML, REFRESH, drafted

LINES = ("Je rêve d'un avenir sans réchauffement climatique pour nos enfants.",
         "Il faut plus d'hôpitaux dans les villages.", "Les écoles ont besoin de professeurs.",
         "La paix commence par le dialogue entre voisins.", "L'eau potable pour tous, partout.")


async def start(client: httpx.AsyncClient, d: int) -> httpx.Response:
    page = await client.get(f"/dialogues/{d}/report", headers=HTML)
    response = await client.post(f"/dialogues/{d}/report", data={
        "csrf_token": csrf_from(page.text), "action": "start", "language": "en"}, headers=HTML)
    assert response.status_code == 303
    return response


async def test_the_page_follows_the_pre_draft_stage_by_stage(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, _ = install_analysis(server)
    d = await ended_dialogue(server, cast)
    speaker = cast.participants[0]
    await register(server, d, speaker, language="fr")
    for minute, line in enumerate(LINES):
        await say(server, d, speaker, line, at_minute=10 + 15 * minute, language="fr")
    # Two lines per step, each waiting until the test lets it through.
    monkeypatch.setattr(predraft, "EMBED_CHUNK", 2)
    steps: asyncio.Queue[asyncio.Event] = asyncio.Queue()
    embed = analysis.embed

    async def gated(texts: Sequence[str]) -> object:
        go = asyncio.Event()
        await steps.put(go)
        await go.wait()
        return await embed(texts)

    monkeypatch.setattr(analysis, "embed", gated)
    client = await client_for(server, make_client, cast.facilitator)
    del client.headers["X-CSRF-Token"]

    started = await start(client, d)

    async with asyncio.timeout(10):
        first = await steps.get()
    page = (await client.get(started.headers["location"], headers=HTML)).text
    assert "Pre-drafting: finding the most representative lines, 0 of 5 read." in page
    assert '<progress max="5" value="0"' in page and REFRESH in page
    assert 'value="start"' not in page and 'id="report-form"' not in page
    assert "pre-drafted it from the transcript" not in page  # no "done" before it is
    api = (await client.get(f"/api/v1/dialogues/{d}/report")).json()
    assert (api["drafting"]["stage"], api["drafting"]["done"], api["drafting"]["total"]) == ("choosing", 0, 5)
    # Asking again while it runs starts nothing new.
    again = await client.post(f"/dialogues/{d}/report", data={
        "csrf_token": csrf_from(page), "action": "start", "language": "en"}, headers=HTML)
    assert again.status_code == 303
    first.set()
    async with asyncio.timeout(10):
        second = await steps.get()
    assert "2 of 5 read." in (await client.get(f"/dialogues/{d}/report", headers=HTML)).text
    assert server.reports.drafting.progress(d).done == 2  # type: ignore[union-attr]
    second.set()
    async with asyncio.timeout(10):
        (await steps.get()).set()

    page = (await drafted(client, started.headers["location"])).text
    assert 'id="report-form"' in page and "pre-drafted it from the transcript" in page
    assert steps.empty()  # one pre-draft, three steps

    # Pre-drafting again runs the same way, the form away until it is done.
    monkeypatch.setattr(analysis, "embed", embed)
    seen: list[tuple[str, int, int]] = []
    step = server.reports.drafting.step

    def spy(dialogue_id: int) -> Callable[[str, int, int], None]:
        inner = step(dialogue_id)

        def at(stage: str, done: int = 0, total: int = 0) -> None:
            seen.append((stage, done, total))
            inner(stage, done, total)
        return at

    monkeypatch.setattr(server.reports.drafting, "step", spy)
    page = (await client.get(f"/dialogues/{d}/report", headers=HTML)).text
    form = {"csrf_token": csrf_from(page), "version": "1", "language": "en", "future": "", "on_track": "",
            "on_track_text": "", "actions": "", "notes": "", "participant_count": "", "languages": "fr",
            "action": "redraft"}
    redraft = await client.post(f"/dialogues/{d}/report", data=form, headers=HTML)
    assert redraft.status_code == 303
    assert "Pre-drafted again" in (await drafted(client, redraft.headers["location"])).text
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == "reading" and stages[-1] == "saving"
    assert ("choosing", 5, 5) in seen and stages.index("choosing") < stages.index("translating")
    translating = [(done, total) for stage, done, total in seen if stage == "translating"]
    assert translating[0][0] == 0 and translating[-1][0] == translating[-1][1] > 0  # French lines into English


async def test_what_the_pre_draft_could_not_do_is_shown_once_after_it(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    install_analysis(server)
    d = await ended_dialogue(server, cast)  # nobody spoke
    client = await client_for(server, make_client, cast.facilitator)
    del client.headers["X-CSRF-Token"]
    started = await start(client, d)
    page = (await drafted(client, started.headers["location"])).text
    assert 'data-notice="no_transcript"' in page
    assert 'data-notice="no_transcript"' not in (await client.get(f"/dialogues/{d}/report", headers=HTML)).text


async def test_a_failed_pre_draft_says_so_and_the_report_can_be_started_again(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, _ = install_analysis(server)
    d = await ended_dialogue(server, cast)
    await register(server, d, cast.participants[0], language="fr")
    await say(server, d, cast.participants[0], LINES[0], at_minute=4, language="fr")

    async def broken(texts: Sequence[str]) -> object:
        raise RuntimeError("disk full")

    monkeypatch.setattr(analysis, "embed", broken)
    client = await client_for(server, make_client, cast.facilitator)
    del client.headers["X-CSRF-Token"]
    started = await start(client, d)
    page = (await drafted(client, started.headers["location"])).text
    assert 'data-notice="draft_failed"' in page and "disk full" not in page
    assert "pre-drafted it from the transcript" not in page  # no "started" for a draft that failed
    assert 'value="start"' in page and 'id="report-form"' not in page
