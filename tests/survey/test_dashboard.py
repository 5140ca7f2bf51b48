"""Dashboard numbers against a known dataset, URL filters, and every breakdown's API."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from parley.consultation.dashboard import Filters, week_of
from parley.consultation.regions import region_of
from parley.consultation.survey import RawSubmission, day_number
from parley.server import Server
from parley.storage.analysis_models import AnalysisCoding
from parley.storage.consultation_models import SurveyRollup
from parley.storage.models import Role
from tests.fakes.clock import FakeClock
from tests.survey.conftest import StaffFactory, submit

pytestmark = pytest.mark.integration

COUNTRIES = ["FR", "KE", "IN", "BR", "US", "CN", "EG", "ZZ"]
AGES = ["under-18", "18-24", "25-34", "65-plus", "unstated"]
GENDERS = ["female", "male", "other", "unstated"]
EDUCATION = ["primary", "secondary", "university", "unstated"]
DIMS = {"country": "country", "region": "region", "age": "age_group", "gender": "gender", "education": "education",
        "language": "language"}
THEME_IDS = ["climate", "health", "peace", "jobs"]


async def load_random(server: Server, clock: FakeClock, n: int = 160, seed: int = 7, *,
                      withdraw_at_once: bool = True) -> list[dict[str, Any]]:
    """Submit ``n`` random responses over ~40 days through the handler, about half with advice;
    withdraw every 9th (or, without ``withdraw_at_once``, keep it with its withdrawal code in
    ``record["withdraw"]``). Returns what is still counted, as plain records."""
    rng = random.Random(seed)
    surveys = server.survey
    survey = await surveys.current()
    pri = list(survey.definition.question("priorities").option_keys)  # type: ignore[union-attr]
    trends = list(survey.definition.question("trends").option_keys)  # type: ignore[union-attr]
    kept: list[dict[str, Any]] = []
    for i in range(n):
        clock.advance(rng.randint(0, 6) * 3600 * 6)
        record: dict[str, Any] = {
            "country": rng.choice(COUNTRIES), "age_group": rng.choice(AGES), "gender": rng.choice(GENDERS),
            "education": rng.choice(EDUCATION),
            "future": rng.choice(["better", "worse", "same", "dont_know"]),
            "priorities": rng.sample(pri, rng.randint(1, 3)), "trends": rng.sample(trends, rng.randint(1, 3)),
        }
        record["language"] = rng.choice(["en", "fr", "ar"])
        answers = {"future": record["future"], "priorities": record["priorities"], "trends": record["trends"],
                   "cooperation": "very"}
        if rng.random() < 0.5:
            answers["advice"] = f"Advice number {i}."
        raw = RawSubmission(language=record["language"], answers=answers, age_group=record["age_group"],
                            gender=record["gender"], country=record["country"], education=record["education"],
                            consent_analysis=True)
        receipt = await surveys.submit(f"random-{i:05d}", "test", await surveys.validate(raw))
        assert receipt.withdrawal_code
        record["id"] = surveys.codes.read(receipt.withdrawal_code)[1]  # type: ignore[index]
        record["day"] = day_number(clock.now())
        record["region"] = region_of(record["country"])
        record["priorities"] = list(dict.fromkeys(record["priorities"]))
        if i % 9 == 4 and withdraw_at_once:
            assert await surveys.withdraw(receipt.withdrawal_code)
        else:
            record["withdraw"] = receipt.withdrawal_code if i % 9 == 4 else None
            kept.append(record)
    return kept


def expected(records: list[dict[str, Any]], question: str, filters: dict[str, str], by: str | None,
             day_from: int | None = None, day_to: int | None = None) -> dict[Any, Counter[str]]:
    out: dict[Any, Counter[str]] = {}
    for r in records:
        if any(r[DIMS[k]] != v for k, v in filters.items()):
            continue
        if (day_from is not None and r["day"] < day_from) or (day_to is not None and r["day"] > day_to):
            continue
        if by is None:
            bucket = None
        elif by == "day":
            bucket = r["day"]
        elif by == "week":
            bucket = week_of(r["day"])
        else:
            bucket = r[DIMS[by]]
        cell = out.setdefault(bucket, Counter())
        if question == "_n":
            cell[""] += 1
            continue
        value = r[question]
        cell[""] += 1
        for option in value if isinstance(value, list) else [value]:
            cell[option] += 1
    return out


Range = tuple[int | None, int | None] | None  # day offsets from the first response
NARROW: Range = (5, 25)
FILTER_CASES: list[tuple[dict[str, str], str | None, Range]] = [
    ({}, None, None), ({}, "region", None), ({}, "country", None), ({}, "age", NARROW), ({}, "week", None),
    ({}, "day", NARROW), ({"country": "FR"}, "age", None), ({"region": "africa"}, "country", NARROW),
    ({"country": "IN"}, "region", NARROW), ({"age": "18-24", "gender": "female"}, "education", None),
    ({"age": "18-24", "gender": "female", "education": "university"}, "region", NARROW),
    ({"country": "KE", "age": "25-34"}, "gender", NARROW), ({"region": "asia", "education": "primary"}, None, NARROW),
    ({"gender": "male"}, "week", NARROW), ({"country": "FR", "age": "18-24"}, "day", NARROW),
    ({"country": "BR", "age": "65-plus", "gender": "other"}, "education", None),
    # Ranges over several months: whole months come from the monthly cuboid.
    ({}, "country", (3, 100)), ({}, "country", (None, 70)), ({}, "country", (31, None)),
    ({"region": "europe"}, "country", (10, 95)), ({"country": "EG"}, None, (2, 90)), ({}, "country", (40, 45)),
    # Whole weeks of demographics.
    ({"age": "18-24", "gender": "female"}, None, (3, 100)), ({"region": "africa", "age": "18-24"}, "gender", (10, 80)),
    ({"education": "primary"}, "age", (0, 119)), ({"gender": "male"}, "region", (15, 16)),
    # The respondent's language: alone, with demographics, in a country or a region, over dates.
    ({}, "language", None), ({"age": "18-24", "gender": "female"}, "language", None),
    ({"country": "FR"}, "language", None), ({"region": "africa"}, "language", None),
    ({}, "language", (3, 100)), ({"region": "asia", "age": "25-34"}, "language", NARROW),
]


async def test_every_breakdown_matches_a_count_of_the_raw_answers(server: Server, clock: FakeClock) -> None:
    records = await load_random(server, clock)
    dash = server.dashboard
    first = min(r["day"] for r in records)
    assert max(r["day"] for r in records) - first > 100
    plans: set[int | None] = set()
    for filters, by, offsets in FILTER_CASES:
        day_from = first + offsets[0] if offsets and offsets[0] is not None else None
        day_to = first + offsets[1] if offsets and offsets[1] is not None else None
        f = Filters(**{k: v.upper() if k == "country" else v for k, v in filters.items()},
                    date_from=date(1970, 1, 1) + timedelta(days=day_from) if day_from is not None else None,
                    date_to=date(1970, 1, 1) + timedelta(days=day_to) if day_to is not None else None)
        for question in ("_n", "future", "priorities", "trends"):
            counts, plan = await dash.counts([question], f, by)
            plans.update(part.cuboid for part in plan.parts)
            got = {b: Counter({o: n for o, n in cell.items() if n}) for b, cell in counts[question].items()}
            got = {b: c for b, c in got.items() if c}
            assert got == expected(records, question, filters, by, day_from, day_to), (filters, by, question)
    # Rollups of many cuboids (daily, weekly, monthly, by language) and raw counts were all used.
    assert {None, 8, 23, 24, 25, 26, 27, 28} <= plans and len(plans) >= 12


def expected_themes(records: list[dict[str, Any]], filters: dict[str, str], by: str | None,
                    day_from: int | None = None, day_to: int | None = None) -> dict[Any, Counter[str]]:
    """Coded texts ("") and their themes ("_other": none) per bucket, from the records."""
    coded = [dict(r, themes=t) for r in records for t in r["texts"]]
    out: dict[Any, Counter[str]] = {}
    for bucket, cell in expected(coded, "_n", filters, by, day_from, day_to).items():
        out[bucket] = cell
    for r in coded:
        if any(r[DIMS[k]] != v for k, v in filters.items()):
            continue
        if (day_from is not None and r["day"] < day_from) or (day_to is not None and r["day"] > day_to):
            continue
        bucket = None if by is None else week_of(r["day"]) if by == "week" else r["day"] if by == "day" \
            else r[DIMS[by]]
        out[bucket].update(r["themes"] or ["_other"])
    return out


async def test_themes_of_the_open_answers_are_counted_for_every_slice(server: Server, clock: FakeClock) -> None:
    """Texts are coded, re-coded and corrected through the analysis store, and some responses
    are withdrawn afterwards: the rollups' theme counts equal a count of what is left."""
    from sqlalchemy import select

    from parley.storage.consultation_models import SurveyText
    from parley.storage.stores import analysis as analysis_store

    rng = random.Random(11)
    records = await load_random(server, clock, n=120, withdraw_at_once=False)
    by_id = {r["id"]: r for r in records}
    async with server.db.session() as s:
        texts = (await s.execute(select(SurveyText.id, SurveyText.response_id).order_by(SurveyText.id))).all()
    assert len(texts) > 40
    themes_of: dict[int, list[str]] = {}
    for batch in (texts[:25], texts[25:]):
        rows, assigned = [], {}
        for text_id, _ in batch:
            themes_of[text_id] = rng.sample(THEME_IDS, rng.randint(0, 2))
            rows.append({"source_type": "survey", "source_key": str(text_id), "survey_text_id": text_id,
                         "language": "en", "sentiment": "neutral", "coder_version": "v1",
                         "source_created_at": clock.now(), "coded_at": clock.now()})
            assigned[str(text_id)] = [(t, 0.5) for t in themes_of[text_id]]
        async with server.db.session() as s:
            assert await analysis_store.insert_codings(s, rows, assigned) == len(batch)
            assert await analysis_store.insert_codings(s, rows, assigned) == 0  # coded twice: counted once
    async with server.db.session() as s:
        codings = dict((await s.execute(select(AnalysisCoding.survey_text_id, AnalysisCoding.id))).all())
        for text_id, _ in texts[::4]:  # re-coded by a newer coder, or corrected by an analyst
            themes_of[text_id] = rng.sample(THEME_IDS, rng.randint(0, 3))
            new = [(t, 0.9) for t in themes_of[text_id]]
            if text_id % 2:
                assert await analysis_store.replace_coding(s, codings[text_id], "v1", {"coder_version": "v2"}, new)
            else:
                await analysis_store.update_coding(s, codings[text_id], {"origin": "analyst"}, new)
    for text_id, response_id in texts:
        by_id[response_id].setdefault("texts", []).append(themes_of[text_id])
    for r in records:
        r.setdefault("texts", [])
        if r["withdraw"]:
            assert await server.survey.withdraw(r["withdraw"])
    kept = [r for r in records if not r["withdraw"]]

    dash = server.dashboard
    first = min(r["day"] for r in kept)
    plans: set[int | None] = set()
    for filters, by, offsets in FILTER_CASES:
        day_from = first + offsets[0] if offsets and offsets[0] is not None else None
        day_to = first + offsets[1] if offsets and offsets[1] is not None else None
        f = Filters(**{k: v.upper() if k == "country" else v for k, v in filters.items()},
                    date_from=date(1970, 1, 1) + timedelta(days=day_from) if day_from is not None else None,
                    date_to=date(1970, 1, 1) + timedelta(days=day_to) if day_to is not None else None)
        counts, plan = await dash.counts(["_themes"], f, by)
        plans.update(part.cuboid for part in plan.parts)
        got = {b: Counter({o: n for o, n in cell.items() if n}) for b, cell in counts["_themes"].items()}
        got = {b: c for b, c in got.items() if c}
        assert got == expected_themes(kept, filters, by, day_from, day_to), (filters, by)
        if by is None:
            themes, coded = await dash.themes(f)
            want = expected_themes(kept, filters, None, day_from, day_to).get(None, Counter())
            assert (coded, Counter(themes)) == (want.pop("", 0), want)
    assert None in plans and len(plans) >= 12

    # A rebuild from scratch gives the same cells.
    async with server.db.session() as s:
        before = sorted((await s.execute(select(SurveyRollup.cuboid, SurveyRollup.v1, SurveyRollup.v2,
                                                SurveyRollup.v3, SurveyRollup.v4, SurveyRollup.day,
                                                SurveyRollup.option, SurveyRollup.n)
                                         .where(SurveyRollup.question == "_themes"))).all())
    await server.survey.rebuild_rollups()
    async with server.db.session() as s:
        after = sorted((await s.execute(select(SurveyRollup.cuboid, SurveyRollup.v1, SurveyRollup.v2,
                                               SurveyRollup.v3, SurveyRollup.v4, SurveyRollup.day,
                                               SurveyRollup.option, SurveyRollup.n)
                                        .where(SurveyRollup.question == "_themes"))).all())
    assert after == before and all(row[-1] > 0 for row in before)


@pytest.mark.parametrize("filters,by", [
    ({}, "country"), ({"region": "europe"}, "country"), ({"age": "18-24", "gender": "male"}, None),
    ({"region": "asia", "education": "primary"}, "age"), ({"country": "FR", "age": "18-24"}, None), ({}, None),
])
def test_a_date_range_is_read_as_parts_that_tile_it_exactly(filters: dict[str, str], by: str | None) -> None:
    from parley.consultation.dashboard import plan
    from parley.storage.stores.survey import CUBOIDS

    def days(d: date) -> int:
        return (d - date(1970, 1, 1)).days

    span = (days(date(2025, 1, 1)), days(date(2025, 12, 31)))
    for lo, hi in [(date(2025, 1, 15), date(2025, 4, 10)), (date(2025, 2, 1), date(2025, 2, 28)),
                   (date(2025, 3, 5), date(2025, 3, 20)), (date(2025, 1, 31), date(2025, 3, 1)),
                   (date(2025, 6, 2), date(2025, 6, 29)), (date(2025, 1, 2), date(2025, 12, 30))]:
        p = plan(Filters(**filters, date_from=lo, date_to=hi), by, span)
        covered: list[int] = []
        for part in p.parts:
            sl = part.slice
            assert sl.day_from is not None and sl.day_to is not None
            grain = next((g for g in ("week", "month") if part.cuboid is not None and g in CUBOIDS[part.cuboid]),
                         "day")
            unit = sl.day_from
            while unit <= sl.day_to:
                start = date(1970, 1, 1) + timedelta(days=unit)
                if grain == "day":
                    following = unit + 1
                elif grain == "week":
                    assert start.weekday() == 0
                    following = unit + 7
                else:
                    assert start.day == 1
                    following = days((start.replace(day=28) + timedelta(days=4)).replace(day=1))
                covered += range(unit, following)
                unit = following
        assert sorted(covered) == list(range(days(lo), days(hi) + 1)), (filters, lo, hi, p.parts)


async def test_breakdown_api_labels_and_orders_buckets(client: httpx.AsyncClient, server: Server,
                                                       staff: StaffFactory) -> None:
    for i, (country, age) in enumerate([("FR", "18-24"), ("FR", "25-34"), ("KE", "18-24")]):
        assert (await submit(client, f"known-{i:04d}", country=country, age_group=age)).status_code == 201
    organiser, _ = await staff(Role.FACILITATOR)
    by_age = (await organiser.get("/api/v1/dashboard/questions/future/age")).json()
    assert [(b["value"], b["label"], b["answered"]) for b in by_age["buckets"]] == [
        ("18-24", "18 to 24", 2), ("25-34", "25 to 34", 1)]
    assert by_age["question"]["options"][0] == {"key": "better", "label": "Better off", "count": 3, "share": 1.0}
    countries = (await organiser.get("/api/v1/dashboard/participation/country")).json()
    assert [(b["value"], b["label"], b["responses"]) for b in countries["buckets"]] == [("FR", "France", 2),
                                                                                       ("KE", "Kenya", 1)]
    regions = (await organiser.get("/api/v1/dashboard/participation/region",
                                   headers={"Accept-Language": "fr"})).json()
    assert [(b["label"], b["responses"]) for b in regions["buckets"]] == [("Afrique", 1), ("Europe", 2)]


async def test_url_filters_work_on_the_api_and_the_page(client: httpx.AsyncClient, server: Server,
                                                        clock: FakeClock, staff: StaffFactory) -> None:
    today = clock.now().date()
    await submit(client, "filter-0001", country="FR", age_group="18-24")
    clock.advance(86400 * 3)
    await submit(client, "filter-0002", country="FR", age_group="18-24", answers={"future": "worse"})
    await submit(client, "filter-0003", country="FR", age_group="45-54")
    await submit(client, "filter-0004", country="US", age_group="18-24")
    organiser, _ = await staff(Role.ORGANISER)
    since = (today + timedelta(days=1)).isoformat()
    query = f"country=FR&age=18-24&from={since}"
    summary = (await organiser.get(f"/api/v1/dashboard/summary?{query}")).json()
    assert summary["responses"] == 1
    assert summary["filters"] == {"country": "FR", "age": "18-24", "from": since}
    future = {o["key"]: o["count"] for o in summary["questions"][0]["options"]}
    assert future["worse"] == 1 and future["better"] == 0
    page = await organiser.get(f"/dashboard?{query}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert '<option value="FR" selected>' in page.text
    assert f'value="{since}"' in page.text
    assert f"export.csv?{query}" in page.text.replace("&amp;", "&")
    assert "1 response, written as it downloads." in page.text  # what the filtered export holds
    bad = await organiser.get("/api/v1/dashboard/summary?country=XX&from=yesterday")
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"country", "from"}


async def test_trend_per_day_and_week(client: httpx.AsyncClient, clock: FakeClock, staff: StaffFactory) -> None:
    start = clock.now().date()
    for i in range(10):
        await submit(client, f"trend-{i:05d}")
        clock.advance(86400)
    organiser, _ = await staff(Role.ORGANISER)
    days = (await organiser.get("/api/v1/dashboard/trend?interval=day")).json()
    assert [(p["start"], p["responses"]) for p in days["points"]] == [
        ((start + timedelta(days=i)).isoformat(), 1) for i in range(10)]
    weeks = (await organiser.get("/api/v1/dashboard/trend?interval=week&question=future")).json()
    assert sum(p["responses"] for p in weeks["points"]) == 10
    assert all(date.fromisoformat(p["start"]).weekday() == 0 for p in weeks["points"])
    assert sum(p["options"].get("better", 0) for p in weeks["points"]) == 10


async def test_dashboard_page_and_printable_report(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    await submit(client, "page-000001")
    organiser, _ = await staff(Role.ORGANISER)
    page = await organiser.get("/dashboard?by=age&q=priorities", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Participation by country" in page.text and "France" in page.text
    assert '<svg class="bar"' in page.text and "style=" not in page.text
    assert "Dialogue results" in page.text
    report = await organiser.get("/dashboard/report", headers={"Accept": "text/html"})
    assert report.status_code == 200
    assert "Survey report" in report.text


async def test_dialogue_results_are_connected_and_replaceable(staff: StaffFactory, server: Server) -> None:
    organiser, _ = await staff(Role.ORGANISER)
    body = (await organiser.get("/api/v1/dashboard/dialogues")).json()
    assert (body["available"], body["dialogues"], body["participants"]) == (True, 0, 0)
    server.dashboard.dialogue_results = None
    assert (await organiser.get("/api/v1/dashboard/dialogues")).json()["available"] is False

    from parley.consultation.dashboard import DialogueResults

    class Reports:
        async def results(self, filters: Filters, lang: str) -> DialogueResults:
            return DialogueResults(available=True, dialogues=3, participants=27)

    server.dashboard.dialogue_results = Reports()
    body = (await organiser.get("/api/v1/dashboard/dialogues")).json()
    assert (body["available"], body["dialogues"], body["participants"]) == (True, 3, 27)


@pytest.mark.parametrize("role,status", [(Role.PARTICIPANT, 403), (Role.INTERPRETER, 403),
                                         (Role.FACILITATOR, 200), (Role.ORGANISER, 200), (Role.ADMIN, 200)])
async def test_only_organisers_facilitators_and_admins_see_results(staff: StaffFactory, role: Role,
                                                                   status: int) -> None:
    c, _ = await staff(role)
    for url in ("/api/v1/dashboard/summary", "/api/v1/dashboard/participation/country",
                "/api/v1/dashboard/questions/future/region", "/api/v1/dashboard/trend"):
        assert (await c.get(url)).status_code == status, url
    assert (await c.get("/dashboard", headers={"Accept": "text/html"})).status_code == status


async def test_anonymous_visitors_see_no_results_or_exports(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/dashboard/summary")).status_code == 401
    assert (await client.get("/api/v1/survey/export.csv")).status_code == 401
    assert (await client.get("/api/v1/survey/texts")).status_code == 401
    page = await client.get("/dashboard", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_participation_is_shown_on_a_world_map(client: httpx.AsyncClient, staff: StaffFactory) -> None:
    for i, country in enumerate(["FR", "FR", "FR", "KE", "MU"]):
        assert (await submit(client, f"map-{i:05d}", country=country)).status_code == 201
    organiser, _ = await staff(Role.ORGANISER)
    page = (await organiser.get("/dashboard", headers={"Accept": "text/html"})).text
    assert '<figure class="world-map">' in page and "/static/build/world-map.svg" in page
    # The country with the most people is darkest; each links to the dashboard filtered to it.
    assert 'class="level-5" data-country="FR"' in page and 'class="level-3" data-country="KE"' in page
    assert "<title>France: 3 survey responses, 0 dialogue participants</title>" in page
    assert "?country=KE" in page
    assert "Too small to show on this map: Mauritius." in page  # no shape at 1:110m; still in the table
    assert "style=" not in page


def test_map_levels_are_logarithmic_and_the_legend_inverts_them() -> None:
    from parley.web.world_map import LEVELS, _legend, level_of

    assert [level_of(n, 10_000) for n in (0, 1, 10, 100, 10_000)] == [0, 1, 2, 3, LEVELS]
    legend = _legend(10_000)
    assert legend[0].low == 1 and legend[-1].high == 10_000
    for entry in legend:
        assert level_of(entry.low, 10_000) == level_of(entry.high, 10_000) == entry.level
    assert all(a.high + 1 == b.low for a, b in zip(legend, legend[1:], strict=False))


async def test_the_trend_chart_names_its_peak_in_the_readers_language(
        client: httpx.AsyncClient, clock: FakeClock, staff: StaffFactory) -> None:
    for i in range(3):
        await submit(client, f"peak-{i:06d}")
    clock.advance(86400)
    await submit(client, "peak-000003")
    organiser, _ = await staff(Role.ORGANISER)
    html = {"Accept": "text/html"}
    english = (await organiser.get("/dashboard?interval=day", headers={**html, "Accept-Language": "en"})).text
    assert "Highest: 3 responses on Jun 1, 2026" in english
    assert '<time datetime="2026-06-02">Jun 2, 2026</time>' in english  # the table under the chart
    french = (await organiser.get("/dashboard", headers={**html, "Accept-Language": "fr"})).text
    assert "Maximum : 4 réponses la semaine du 1 juin 2026" in french  # weeks unless days are asked for
