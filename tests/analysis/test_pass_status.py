"""What the analysis status says after passes: what each pass did per source, and the last
pass that did something, not the empty pass that the worker runs right after it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

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
