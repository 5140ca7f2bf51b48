"""What the analysis status says after passes: what each pass did per source, the last
pass that did something (not the empty pass that the worker runs right after it), and a
running pass's stage and counts on the pages and in the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx
import pytest

from parley.consultation.analysis import Coding, ThemeCoder
from parley.consultation.themes import SourceCounts
from parley.server import Server
from tests.analysis.helpers import (
    Cast,
    client_for,
    ended_dialogue,
    install_analysis,
    register,
    say,
    set_consent,
    survey_answer,
)

HTML = {"Accept": "text/html"}


async def test_the_status_keeps_the_last_pass_that_did_something_per_source(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    await survey_answer(server, "We must stop climate change now.", key="st-climate-01")
    await survey_answer(server, "Il faut plus d'hôpitaux pour tous.", key="st-health-001", language="fr")
    d = await ended_dialogue(server, cast)
    await register(server, d, cast.participants[0])
    await say(server, d, cast.participants[0], "Peace talks must start.", at_minute=4)

    first = await analysis.run_once()
    assert first.coded == 3
    assert first.by_source == {"survey": SourceCounts(coded=2), "transcript": SourceCounts(coded=1)}

    server.clock.advance(30)  # type: ignore[attr-defined]
    empty = await analysis.run_once()
    assert empty.empty
    status = analysis.status()
    assert status.last_run_at == empty.finished_at != first.finished_at
    assert status.last_result == first  # not "0 new, 0 re-coded"

    await set_consent(server, d, cast.participants[0], transcript=False, quotes=False)
    purged = await analysis.run_once()
    assert purged.by_source == {"transcript": SourceCounts(purged=1)}
    await analysis.run_once()
    assert analysis.status().last_result == purged

    async with await client_for(server, make_client, cast.organiser) as c:
        body = (await c.get("/api/v1/analysis/status")).json()
        page = (await c.get("/analysis", headers=HTML)).text
    assert body["last_result"]["purged"] == 1
    assert body["last_result"]["by_source"] == {"transcript": {"coded": 0, "recoded": 0, "purged": 1}}
    assert "0 new, 0 re-coded, 1 removed" in page and "transcripts: 0 new" in page


async def test_the_first_pass_is_reported_even_when_there_was_nothing_to_do(server: Server) -> None:
    analysis, _ = install_analysis(server)
    result = await analysis.run_once()
    assert result.empty and result.by_source == {}
    assert analysis.status().last_result == result


async def test_sentiment_is_hidden_until_analysts_labels_show_it_beats_the_majority(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    await survey_answer(server, "We must stop climate change now.", key="st-sent-00001")
    await analysis.run_once()
    status = analysis.status()
    assert not status.sentiment_shown and "needs 30" in status.sentiment_note
    async with await client_for(server, make_client, cast.organiser) as c:
        body = (await c.get("/api/v1/analysis/status")).json()
        review = (await c.get("/analysis", headers=HTML)).text
        themes = (await c.get("/analysis/themes", headers=HTML)).text
    assert body["sentiment_shown"] is False and body["sentiment_note"]
    assert "badge sentiment-" not in review and 'id="f-sentiment"' not in review
    assert "Sentiment is hidden" in review and ">Sentiment</th>" not in themes


async def test_a_running_pass_shows_its_stage_and_counts_and_the_page_follows_it(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, _ = install_analysis(server, batch_size=2)
    for i, text in enumerate(("We must stop climate change now.", "More hospitals for everyone.",
                              "Peace talks must start.", "Schools need teachers.", "Clean water in every village.")):
        await survey_answer(server, text, key=f"st-progress-{i:02d}")
    # Each batch of two waits until the test lets it through.
    batches: asyncio.Queue[asyncio.Event] = asyncio.Queue()
    original = ThemeCoder.acode

    async def gated(self: ThemeCoder, texts: Sequence[str]) -> list[Coding]:
        go = asyncio.Event()
        await batches.put(go)
        await go.wait()
        return await original(self, texts)

    monkeypatch.setattr(ThemeCoder, "acode", gated)

    async with await client_for(server, make_client, cast.organiser) as c:
        asked = (await c.post("/api/v1/analysis/run")).json()
        assert asked["progress"]["stage"] in ("waiting", "preparing", "purging", "coding")
        async with asyncio.timeout(10):
            first = await batches.get()
        body = (await c.get("/api/v1/analysis/status")).json()
        assert (body["progress"]["stage"], body["progress"]["done"], body["progress"]["total"]) == ("coding", 0, 5)
        page = (await c.get("/analysis", headers=HTML)).text
        assert "Analysis running: coding new items, 0 of 5." in page
        assert '<progress max="5" value="0"' in page and 'http-equiv="refresh"' in page

        first.set()
        async with asyncio.timeout(10):
            second = await batches.get()
        assert (await c.get("/api/v1/analysis/status")).json()["progress"]["done"] == 2
        assert "coding new items, 2 of 5." in (await c.get("/analysis/themes", headers=HTML)).text
        second.set()
        async with asyncio.timeout(10):
            (await batches.get()).set()
        async with asyncio.timeout(10):
            while (await c.get("/api/v1/analysis/status")).json()["progress"] is not None:  # noqa: ASYNC110 - polls the API
                await asyncio.sleep(0.01)
        done = (await c.get("/api/v1/analysis/status")).json()
        page = (await c.get("/analysis", headers=HTML)).text
    assert done["last_result"]["coded"] == 5
    assert "Analysis running" not in page and 'http-equiv="refresh"' not in page


async def test_a_pass_asked_for_shows_as_waiting_until_one_runs(server: Server) -> None:
    analysis, _ = install_analysis(server)
    analysis.passes.asked()
    progress = analysis.status().progress
    assert progress is not None and progress.stage == "waiting" and progress.percent is None
    server.clock.advance(5 * 60)  # type: ignore[attr-defined]
    assert analysis.status().progress is None  # the worker is elsewhere: the page stops claiming to know
    analysis.passes.asked()
    await analysis.run_once()
    assert analysis.status().progress is None


async def test_the_pages_follow_the_engine_while_it_starts(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysis, _ = install_analysis(server)
    monkeypatch.setattr(analysis.model, "engine_state", lambda: ("preparing", ""))
    async with await client_for(server, make_client, cast.organiser) as c:
        page = (await c.get("/analysis/themes", headers=HTML)).text
    assert "The analysis engine is starting" in page and 'http-equiv="refresh"' in page
