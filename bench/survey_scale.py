"""Survey at UN75 scale: load ~1.5 million responses, then time the dashboard.

    .venv/bin/python bench/survey_scale.py                       # 1.5M responses, SQLite
    .venv/bin/python bench/survey_scale.py --responses 200000 --database-url postgresql://...
    .venv/bin/python bench/survey_scale.py --responses 850000 --coded-texts 300000 --transcript-lines 100000

1. Ingestion through the real API: a Parley server process (Uvicorn, as `parley serve`) on
   127.0.0.1, and `--api-requests` submissions from `--concurrency` keep-alive connections
   with a gateway's bearer token and an Idempotency-Key each; then 1,000 of them are sent
   again (retries must not be counted twice).
2. Bulk load of the rest through the same handler code (`Surveys.validate` +
   `Surveys.submit_many`, which the API also calls), in batches, spread over the 365 days
   before today with a growing daily rate, stopping at `--time-limit` seconds.
3. Dashboard queries: each view `--repeat` times with different filters (countries,
   age groups, dates ...), reporting p50/p95/max and where the counts came from.
4. Theme counts beside the dialogues: `--coded-texts` survey texts and `--transcript-lines`
   lines of synthetic held dialogues (ten registered speakers each) are coded through the
   analysis store (which keeps their counts, as the analysis job does; no model runs), then
   the dashboard's theme counts are read `--repeat` times per filter, without any cache.

Reports database size, row counts and memory; prints a table and writes
``bench/results/survey_scale_<N>_<time>.json``. The generated population is synthetic
(weights loosely shaped like UN75's participation), never real data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
ROOT = ME.parents[1]
RESULTS = ROOT / "bench" / "results"

from parley.clock import Clock  # noqa: E402

# --- a synthetic population -------------------------------------------------------------------

# A skewed country distribution: a few countries bring most answers, as in UN75.
BIG = ["MX", "IN", "NG", "US", "BR", "PK", "KE", "PH", "EG", "ID", "CO", "AR", "FR", "ES", "GB", "DE", "CN", "RU",
       "BD", "ET", "TR", "IT", "ZA", "GH", "UG", "VN", "TH", "JP", "CA", "PE"]
LANG_BY_REGION = {"africa": ["en", "fr", "ar"], "americas": ["es", "en", "fr"], "asia": ["en", "zh", "ar", "ru"],
                  "europe": ["en", "fr", "ru", "es"], "oceania": ["en"], "unknown": ["en"]}
COUNTRY_LANG = {"MX": "es", "CO": "es", "AR": "es", "PE": "es", "ES": "es", "FR": "fr", "CN": "zh", "RU": "ru",
                "EG": "ar", "US": "en", "GB": "en"}
AGES = (["under-18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-plus", "unstated"],
        [10, 25, 22, 15, 11, 8, 5, 4])
GENDERS = (["female", "male", "other", "unstated"], [50, 46, 1.5, 2.5])
EDUCATION = (["primary", "secondary", "vocational", "university", "unstated"], [8, 30, 12, 45, 5])
FUTURE = (["better", "worse", "same", "dont_know"], [49, 33, 13, 5])
PRIORITIES = {"environment": 30, "human_rights": 25, "less_conflict": 24, "basic_services": 22, "less_corruption": 18,
              "employment": 14, "equality_within": 8, "equality_between": 7, "gender_equality": 9,
              "sustainable_consumption": 7, "migration": 3, "other": 1.5}
TRENDS = {"climate": 35, "armed_conflict": 20, "health_risks": 18, "new_technologies": 12, "forced_migration": 9,
          "cyber_warfare": 8, "nuclear_weapons": 10, "terrorism": 11, "population": 7, "relations": 9,
          "urbanisation": 4, "other": 1}
COOPERATION = (["essential", "very", "fairly", "not_very", "not_at_all"], [52, 35, 8, 3, 2])
PHRASES = {
    "en": ["Invest in education for every child.", "Act on climate change now.", "Listen to young people.",
           "Stop wars and protect civilians.", "Make the UN more democratic.", "Fight corruption everywhere."],
    "fr": ["Investir dans l'éducation.", "Agir pour le climat.", "Écouter les jeunes.", "Arrêter les guerres."],
    "es": ["Invertir en educación.", "Actuar contra el cambio climático.", "Escuchar a los jóvenes."],
    "ar": ["الاستثمار في التعليم.", "العمل من أجل المناخ.", "الاستماع إلى الشباب."],
    "ru": ["Инвестировать в образование.", "Бороться с изменением климата.", "Слушать молодёжь."],
    "zh": ["投资教育。", "应对气候变化。", "倾听年轻人的声音。"],
}


class Population:
    def __init__(self, seed: int = 75) -> None:
        from parley.consultation.regions import COUNTRIES, region_of

        self.rng = random.Random(seed)
        rest = sorted(c for c in COUNTRIES if c not in BIG and c != "ZZ")
        self.countries = [*BIG, *rest, "ZZ"]
        self.country_weights = [*(1000 / (i + 1) ** 0.9 for i in range(len(BIG))), *([3.0] * len(rest)), 40.0]
        self.region_of = region_of
        self.pri = (list(PRIORITIES), [float(w) for w in PRIORITIES.values()])
        self.tr = (list(TRENDS), [float(w) for w in TRENDS.values()])

    def _pick3(self, keys: list[str], weights: list[float]) -> list[str]:
        n = self.rng.choices([1, 2, 3], [10, 15, 75])[0]
        out: list[str] = []
        while len(out) < n:
            k = self.rng.choices(keys, weights)[0]
            if k not in out:
                out.append(k)
        return out

    def one(self) -> dict[str, Any]:
        rng = self.rng
        country = rng.choices(self.countries, self.country_weights)[0]
        lang = COUNTRY_LANG.get(country) or rng.choice(LANG_BY_REGION[self.region_of(country)])
        answers: dict[str, Any] = {
            "future": rng.choices(*FUTURE)[0], "priorities": self._pick3(*self.pri),
            "trends": self._pick3(*self.tr), "cooperation": rng.choices(*COOPERATION)[0],
        }
        other: dict[str, str] = {}
        if rng.random() < 0.35:
            answers["advice"] = " ".join(rng.sample(PHRASES[lang], 2))
        if "other" in answers["priorities"]:
            other["priorities"] = PHRASES[lang][0]
        return {
            "language": lang, "answers": answers, "other": other, "country": country,
            "age_group": rng.choices(*AGES)[0], "gender": rng.choices(*GENDERS)[0],
            "education": rng.choices(*EDUCATION)[0], "consent_analysis": rng.random() < 0.97,
            "consent_quotes": rng.random() < 0.6,
        }


class BenchClock(Clock):
    """Wall time, except that the bulk loader sets the day responses are dated."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# --- helpers ----------------------------------------------------------------------------------


def env_for(data_dir: Path, database_url: str) -> dict[str, str]:
    # No media server, interpretation or theme-coding workers: this measures the survey alone.
    return {**os.environ, "PARLEY_DATA_DIR": str(data_dir), "PARLEY_SERVER_SECRET_KEY": "bench-secret",
            "PARLEY_CONFIG": os.devnull, "PARLEY_DATABASE_URL": database_url, "PARLEY_REDIS_URL": "",
            "PARLEY_JANUS_ENABLED": "false", "PARLEY_INTERPRETATION_ENABLED": "false",
            "PARLEY_ANALYSIS_ENABLED": "false"}


def rss_kib(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def serve(port: int) -> None:
    import uvicorn

    from parley.config import Config
    from parley.server import Server
    from parley.web.app import create_app

    app = create_app(Server(Config.load(), schema="none"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# --- phase 1: through the API -----------------------------------------------------------------


async def api_phase(work: Path, url: str, token: str, bodies: list[dict[str, Any]], concurrency: int
                    ) -> dict[str, Any]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ME), "--serve", str(port),
                                                env=env_for(work, url), cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    try:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/v1/health")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise SystemExit("the server did not start")
            rss_before = rss_kib(proc.pid)
            queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
            for i, body in enumerate(bodies):
                queue.put_nowait((i, body))
            headers = {"Authorization": f"Bearer {token}"}

            async def worker() -> None:
                while True:
                    try:
                        i, body = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    t = time.perf_counter()
                    r = await http.post("/api/v1/survey/responses", json=body,
                                        headers={**headers, "Idempotency-Key": f"api-{i:09d}"})
                    latencies.append(time.perf_counter() - t)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - t0
            # Retries: the first 1,000 again; all must come back as replays.
            replays = 0
            for i in range(min(1000, len(bodies))):
                r = await http.post("/api/v1/survey/responses", json=bodies[i],
                                    headers={**headers, "Idempotency-Key": f"api-{i:09d}"})
                replays += r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true"
            rss_after = rss_kib(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    return {
        "requests": len(bodies), "concurrency": concurrency, "seconds": round(elapsed, 2),
        "per_second": round(len(bodies) / elapsed, 1),
        "latency_ms": {"p50": round(pct(latencies, 50) * 1000, 1), "p95": round(pct(latencies, 95) * 1000, 1),
                       "p99": round(pct(latencies, 99) * 1000, 1), "max": round(max(latencies) * 1000, 1)},
        "statuses": statuses, "retries_replayed": replays, "server_rss_kib": {"before": rss_before, "after": rss_after},
    }


# --- phase 2: bulk, through the handler -------------------------------------------------------


async def bulk_phase(server: Any, clock: BenchClock, population: Population, total: int, batch: int,
                     time_limit: float) -> dict[str, Any]:
    from parley.consultation.survey import RawSubmission

    surveys = server.survey
    survey = await surveys.current()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=365)
    # Participation grows through the year (campaigns, then a peak near the anniversary).
    weights = [1 + 3 * (d / 365) ** 2 for d in range(365)]
    per_day = [int(total * w / sum(weights)) for w in weights]
    per_day[-1] += total - sum(per_day)
    t0 = time.perf_counter()
    gen_s = 0.0
    loaded = 0
    stopped = False
    next_report = 0.1
    for d, n_day in enumerate(per_day):
        done_day = 0
        while done_day < n_day:
            size = min(batch, n_day - done_day)
            clock.fixed = start + timedelta(days=d, seconds=int(86400 * done_day / max(n_day, 1)))
            tg = time.perf_counter()
            items = []
            for i in range(size):
                raw = RawSubmission(**population.one())
                submission = await surveys.validate(raw, trusted_channel=True, survey=survey)
                items.append((f"bulk-{loaded + i:09d}", "bench", submission))
            gen_s += time.perf_counter() - tg
            await surveys.submit_many(items)
            loaded += size
            done_day += size
            if loaded >= next_report * total:
                rate = loaded / (time.perf_counter() - t0)
                print(f"  bulk: {loaded:,} / {total:,} ({rate:,.0f}/s)", flush=True)
                next_report += 0.1
            if time.perf_counter() - t0 > time_limit:
                stopped = True
                break
        if stopped:
            break
    clock.fixed = None
    elapsed = time.perf_counter() - t0
    return {"responses": loaded, "target": total, "seconds": round(elapsed, 1),
            "per_second": round(loaded / elapsed, 1), "generate_and_validate_seconds": round(gen_s, 1),
            "batch": batch, "stopped_at_time_limit": stopped}


# --- phase 3: dashboard queries ---------------------------------------------------------------


def views(days: tuple[date, date]) -> list[tuple[str, Callable[[Any, Any, random.Random], Awaitable[str]]]]:
    from parley.consultation.dashboard import Filters

    first, last = days
    span = (last - first).days
    countries = [*BIG[:12], "IS", "FJ", "BW", "UY"]
    ages = AGES[0][:7]

    def some_day(rng: random.Random, lo: int = 0) -> date:
        return first + timedelta(days=rng.randint(lo, max(lo, span - 7)))

    async def summary(d: Any, u: Any, f: Any) -> str:
        return str((await d.summary(u, f, "en")).plan)

    async def breakdown(d: Any, u: Any, q: str | None, by: str, f: Any) -> str:
        return str((await d.breakdown(u, q, by, f, "en")).plan)

    async def trend(d: Any, u: Any, f: Any, interval: str, q: str | None = None) -> str:
        return str((await d.trend(u, f, interval, q)).plan)

    return [
        ("summary", lambda d, u, r: summary(d, u, Filters())),
        ("summary ?country", lambda d, u, r: summary(d, u, Filters(country=r.choice(countries)))),
        ("summary ?age&gender", lambda d, u, r: summary(d, u, Filters(age=r.choice(ages), gender="female"))),
        ("summary ?from", lambda d, u, r: summary(d, u, Filters(date_from=some_day(r, 1)))),
        ("summary ?country&age&from", lambda d, u, r: summary(d, u, Filters(
            country=r.choice(countries), age=r.choice(ages), date_from=some_day(r, 1)))),
        ("summary ?age&gender&education", lambda d, u, r: summary(d, u, Filters(
            age=r.choice(ages), gender=r.choice(["female", "male"]), education=r.choice(EDUCATION[0][:4])))),
        ("summary ?age&gender&from", lambda d, u, r: summary(d, u, Filters(
            age=r.choice(ages), gender="male", date_from=some_day(r, 1)))),
        ("priorities by region", lambda d, u, r: breakdown(d, u, "priorities", "region", Filters())),
        ("priorities by country", lambda d, u, r: breakdown(d, u, "priorities", "country", Filters())),
        ("priorities by age", lambda d, u, r: breakdown(d, u, "priorities", "age", Filters())),
        ("trends by gender ?region", lambda d, u, r: breakdown(d, u, "trends", "gender", Filters(
            region=r.choice(["africa", "americas", "asia", "europe"])))),
        ("future by education ?country", lambda d, u, r: breakdown(d, u, "future", "education", Filters(
            country=r.choice(countries)))),
        ("priorities by country ?from", lambda d, u, r: breakdown(d, u, "priorities", "country", Filters(
            date_from=some_day(r, 1)))),
        ("future by age ?country&from&to", lambda d, u, r: breakdown(d, u, "future", "age", Filters(
            country=r.choice(countries), date_from=some_day(r, 1), date_to=last - timedelta(days=r.randint(1, 60))))),
        ("participation by country", lambda d, u, r: breakdown(d, u, None, "country", Filters())),
        ("participation by country ?from&to", lambda d, u, r: breakdown(d, u, None, "country", Filters(
            date_from=some_day(r, 1), date_to=last - timedelta(days=r.randint(1, 30))))),
        ("participation by language", lambda d, u, r: breakdown(d, u, None, "language", Filters())),
        ("priorities by language ?age", lambda d, u, r: breakdown(d, u, "priorities", "language", Filters(
            age=r.choice(ages)))),
        ("future by language ?region", lambda d, u, r: breakdown(d, u, "future", "language", Filters(
            region=r.choice(["africa", "americas", "asia", "europe"])))),
        ("participation by language ?from&to", lambda d, u, r: breakdown(d, u, None, "language", Filters(
            date_from=some_day(r, 1), date_to=last - timedelta(days=r.randint(1, 30))))),
        ("trend per week", lambda d, u, r: trend(d, u, Filters(), "week")),
        ("trend per day ?country", lambda d, u, r: trend(d, u, Filters(country=r.choice(countries)), "day")),
        ("future per week ?age", lambda d, u, r: trend(d, u, Filters(age=r.choice(ages)), "week", "future")),
    ]


async def query_phase(server: Any, user: Any, repeat: int, days: tuple[date, date]) -> list[dict[str, Any]]:
    dash = server.dashboard
    rng = random.Random(2045)
    out = []
    for name, run in views(days):
        times: list[float] = []
        sources: set[str] = set()
        for _ in range(repeat):
            t = time.perf_counter()
            sources.add(await run(dash, user, rng))
            times.append(time.perf_counter() - t)
        out.append({"view": name, "runs": repeat, "p50_ms": round(pct(times, 50) * 1000, 1),
                    "p95_ms": round(pct(times, 95) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
                    "mean_ms": round(statistics.fmean(times) * 1000, 1), "source": ",".join(sorted(sources))})
        print(f"  {name:38s} p50 {out[-1]['p50_ms']:8.1f} ms  p95 {out[-1]['p95_ms']:8.1f} ms  "
              f"[{out[-1]['source']}]", flush=True)
    return out


THEMES = ["climate", "health", "inequality", "conflict", "education", "jobs", "technology", "governance",
          "human_rights", "migration", "corruption", "youth"]


def coding_row(kind: str, key: int, now: datetime, rng: random.Random, **source: Any) -> dict[str, Any]:
    """A coding as the analysis job writes one (with a 384-dimension float16 vector)."""
    return {"source_type": kind, "source_key": str(key), "survey_text_id": None, "segment_id": None,
            "dialogue_id": None, **source, "language": "en", "language_reliable": True, "themes": [],
            "scores": [], "confidence": rng.random(), "sentiment": "neutral", "sentiment_confidence": 0.5,
            "origin": "model", "coder_version": "bench", "vector": rng.randbytes(768), "translations": {},
            "source_created_at": now, "coded_at": now}


def some_themes(rng: random.Random) -> list[tuple[str, float]]:
    return [(t, 0.5) for t in rng.sample(THEMES, rng.choice([0, 1, 1, 2, 2, 3]))]


async def code_phase(server: Any, coded_texts: int, transcript_lines: int, batch: int = 2000) -> dict[str, Any]:
    """Code survey texts and the lines of synthetic held dialogues through the analysis store."""
    from sqlalchemy import insert, select

    from parley.storage.analysis_models import TranscriptSegment
    from parley.storage.consultation_models import SurveyText
    from parley.storage.models import Dialogue, DialogueState, Registration, Role, User
    from parley.storage.stores import analysis as analysis_store

    rng = random.Random(300)
    now = datetime.now(UTC)
    out: dict[str, Any] = {}
    async with server.db.session() as s:
        every = list((await s.execute(select(SurveyText.id).order_by(SurveyText.id))).scalars())
    # A sample spread over the whole year, so date filters find coded texts too.
    text_ids = sorted(rng.sample(every, min(coded_texts, len(every))))
    t0 = time.perf_counter()
    for i in range(0, len(text_ids), batch):
        chunk = text_ids[i:i + batch]
        rows = [coding_row("survey", t, now, rng, survey_text_id=t) for t in chunk]
        async with server.db.session() as s:
            await analysis_store.insert_codings(s, rows, {str(t): some_themes(rng) for t in chunk})
    elapsed = time.perf_counter() - t0
    out["survey_texts"] = {"coded": len(text_ids), "seconds": round(elapsed, 1),
                           "per_second": round(len(text_ids) / elapsed, 1) if elapsed else 0.0}
    print(f"  coded {len(text_ids):,} survey texts in {elapsed:,.1f} s", flush=True)

    # Held dialogues of ten registered speakers, ~700 lines each (a 90-minute dialogue).
    dialogues = max(1, transcript_lines // 700)
    countries = [*BIG, "SN", "TN", "LB", "NP"]
    groups = ["under-18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-plus", "unstated"]
    tag = int(time.time())
    async with server.db.session() as s:
        users = (await s.execute(insert(User).returning(User.id), [
            {"email": f"speaker{tag}-{i}@bench.local", "display_name": f"Speaker {i}", "password_hash": None,
             "role": Role.PARTICIPANT, "created_at": now, "disabled": False, "credentials_version": 1}
            for i in range(dialogues * 10)])).scalars().all()
        ids = (await s.execute(insert(Dialogue).returning(Dialogue.id), [
            {"title": f"Bench dialogue {i}", "description": "", "questions": ["?"], "languages": ["en", "fr"],
             "time_zone": "UTC", "duration_minutes": 90, "capacity": 12, "invite_code": "bench",
             "state": DialogueState.ENDED, "created_at": now, "updated_at": now,
             "started_at": now - timedelta(days=rng.randint(0, 360)), "country": rng.choice(countries)}
            for i in range(dialogues)])).scalars().all()
        await s.execute(insert(Registration), [
            {"dialogue_id": ids[i // 10], "user_id": u, "preferred_language": rng.choice(["en", "fr", "es", "ar"]),
             "country": rng.choice(countries), "age_group": rng.choice(groups),
             "gender": rng.choice(["woman", "man", "non_binary", "undisclosed"]),
             "education": rng.choice(["primary", "secondary", "vocational", "university", "unstated"]),
             "consent_participate": True, "consent_transcript": rng.random() < 0.85, "consent_quotes": True,
             "created_at": now, "updated_at": now} for i, u in enumerate(users)])
    t0 = time.perf_counter()
    for i in range(0, transcript_lines, batch):
        size = min(batch, transcript_lines - i)
        speakers = [rng.randrange(len(users)) for _ in range(size)]
        async with server.db.session() as s:
            segments = (await s.execute(insert(TranscriptSegment).returning(TranscriptSegment.id), [
                {"dialogue_id": ids[k // 10], "speaker_user_id": users[k], "speaker_name": "", "language": "en",
                 "started_at": now, "ended_at": now, "text": "A line said in the dialogue.", "translations": {},
                 "created_at": now} for k in speakers])).scalars().all()
            rows = [coding_row("transcript", seg, now, rng, segment_id=seg, dialogue_id=ids[k // 10])
                    for seg, k in zip(segments, speakers, strict=True)]
            await analysis_store.insert_codings(s, rows, {str(seg): some_themes(rng) for seg in segments})
    elapsed = time.perf_counter() - t0
    out["transcript_lines"] = {"coded": transcript_lines, "dialogues": dialogues, "seconds": round(elapsed, 1)}
    print(f"  coded {transcript_lines:,} transcript lines of {dialogues} dialogues in {elapsed:,.1f} s", flush=True)
    return out


async def theme_phase(server: Any, repeat: int, days: tuple[date, date]) -> list[dict[str, Any]]:
    """The dashboard's theme counts (survey and dialogues side by side) per filter."""
    from parley.consultation.dashboard import Filters

    reader = server.dashboard.dialogue_results
    first, last = days
    cases = [
        ("themes", Filters()), ("themes ?country", Filters(country="IN")), ("themes ?region", Filters(region="africa")),
        ("themes ?age", Filters(age="18-24")), ("themes ?gender", Filters(gender="female")),
        ("themes ?age&gender&education", Filters(age="25-34", gender="male", education="university")),
        ("themes ?from", Filters(date_from=last - timedelta(days=90))),
        ("themes ?country&from", Filters(country="MX", date_from=last - timedelta(days=90))),
        ("themes ?age&gender&from", Filters(age="18-24", gender="female", date_from=first + timedelta(days=200))),
    ]
    out = []
    for name, filters in cases:
        times: list[float] = []
        for _ in range(repeat):
            t = time.perf_counter()
            counts = await reader.theme_counts(filters)
            times.append(time.perf_counter() - t)
        out.append({"view": name, "runs": repeat, "p50_ms": round(pct(times, 50) * 1000, 1),
                    "p95_ms": round(pct(times, 95) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
                    "survey_coded": counts.survey_coded, "dialogue_coded": counts.dialogue_coded})
        print(f"  {name:38s} p50 {out[-1]['p50_ms']:8.1f} ms  p95 {out[-1]['p95_ms']:8.1f} ms  "
              f"[{counts.survey_coded:,} survey / {counts.dialogue_coded:,} dialogue items]", flush=True)
    return out


async def page_phase(server: Any, user: Any, repeat: int) -> dict[str, Any]:
    """The whole /dashboard page (summary, breakdown, countries, trend), in-process HTTP."""
    import httpx

    from parley.web.app import create_app
    from parley.web.auth import SESSION_COOKIE

    session = await server.accounts.start_session(user)
    app = create_app(server)
    times: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        http.cookies.set(SESSION_COOKIE, session.token)
        for i in range(repeat):
            url = ["/dashboard", "/dashboard?country=IN&by=age", "/dashboard?age=18-24&by=country&q=trends"][i % 3]
            t = time.perf_counter()
            r = await http.get(url, headers={"Accept": "text/html"})
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
    return {"runs": repeat, "p50_ms": round(pct(times, 50) * 1000, 1), "p95_ms": round(pct(times, 95) * 1000, 1)}


# --- main -------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    from sqlalchemy import func, select, text

    from parley.config import Config
    from parley.security import hash_token, new_token
    from parley.server import Server
    from parley.storage.consultation_models import SurveyResponse, SurveyRollup, SurveyText
    from parley.storage.models import ApiToken, Role

    work = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="parley-bench-survey-"))
    url = args.database_url or f"sqlite:///{work / 'parley.sqlite3'}"
    if not args.database_url and (work / "parley.sqlite3").exists() and not args.queries_only:
        raise SystemExit(f"{work} already has a database; give an empty --data-dir")
    clock = BenchClock()
    server = Server(Config.load(env=env_for(work, url)), clock=clock, schema="create")
    if args.database_url and not args.queries_only:
        await server.db.drop_all()
    await server.start()
    result: dict[str, Any] = {"database": "sqlite" if server.db.is_sqlite else "postgresql",
                              "started": datetime.now(UTC).isoformat(timespec="seconds"), "args": vars(args)}
    try:
        population = Population()
        organiser = await server.accounts.create_user(email=f"bench{int(time.time())}@bench.local",
                                                      display_name="Bench", role=Role.ORGANISER,
                                                      password="bench-password-1")
        token = new_token()
        async with server.db.session() as s:
            s.add(ApiToken(user_id=organiser.id, name="bench gateway", token_hash=hash_token(token),
                           created_at=clock.now()))
        await server.survey.current()
        api_n = 0 if args.queries_only else min(args.api_requests, args.responses)
        bulk_n = 0 if args.queries_only else args.responses - api_n
        print(f"bulk load: {bulk_n:,} responses through Surveys.submit_many (batches of {args.batch:,})", flush=True)
        result["bulk"] = await bulk_phase(server, clock, population, bulk_n, args.batch, args.time_limit)
        print(f"  -> {result['bulk']}", flush=True)
        if api_n:
            print(f"API: {api_n:,} requests, {args.concurrency} connections", flush=True)
            bodies = [dict(population.one(), channel="bench") for _ in range(api_n)]
            result["api"] = await api_phase(work, url, token, bodies, args.concurrency)
            print(f"  -> {result['api']}", flush=True)
        async with server.db.session() as s:
            counts = {
                "responses": (await s.execute(select(func.count()).select_from(SurveyResponse))).scalar_one(),
                "rollup_rows": (await s.execute(select(func.count()).select_from(SurveyRollup))).scalar_one(),
                "texts": (await s.execute(select(func.count()).select_from(SurveyText))).scalar_one(),
            }
            if server.db.is_sqlite:
                await s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                size = sum(p.stat().st_size for p in work.glob("parley.sqlite3*"))
                survey_size = (await s.execute(text(
                    "select sum(pgsize) from dbstat "
                    "where name like '%survey%' and name not like '%analysis%'"))).scalar_one()
            else:
                size = (await s.execute(text("select pg_database_size(current_database())"))).scalar_one()
                survey_size = (await s.execute(text(
                    "select sum(pg_total_relation_size(oid)) from pg_class "
                    "where relkind = 'r' and relname like 'survey%'"))).scalar_one()
            first, last = (await s.execute(select(func.min(SurveyResponse.day), func.max(SurveyResponse.day)))).one()
        result["rows"] = counts
        result["database_bytes"] = int(size)
        survey_size = int(survey_size or 0)
        result["survey_tables_bytes"] = survey_size
        days = (date(1970, 1, 1) + timedelta(days=first), date(1970, 1, 1) + timedelta(days=last))
        print(f"rows: {counts}; database {size / 1e6:,.0f} MB, survey tables {survey_size / 1e6:,.0f} MB", flush=True)
        print(f"dashboard queries ({args.repeat} runs each, different filters):", flush=True)
        result["queries"] = await query_phase(server, organiser, args.repeat, days)
        if args.coded_texts or args.transcript_lines:
            if not args.queries_only:
                print(f"coding {args.coded_texts:,} survey texts and {args.transcript_lines:,} transcript lines",
                      flush=True)
                result["coding"] = await code_phase(server, args.coded_texts, args.transcript_lines)
            print(f"theme counts ({args.repeat} runs each):", flush=True)
            result["themes"] = await theme_phase(server, args.repeat, days)
        result["dashboard_page"] = await page_phase(server, organiser, max(3, args.repeat // 3))
        print(f"  full /dashboard page                    p50 {result['dashboard_page']['p50_ms']:8.1f} ms  "
              f"p95 {result['dashboard_page']['p95_ms']:8.1f} ms", flush=True)
        result["memory_kib"] = {"rss_now": rss_kib(), "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    finally:
        await server.stop()
        if not args.keep and not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)
    report(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = RESULTS / f"survey_scale_{args.responses}_{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    name.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {name.relative_to(ROOT)}")


def report(r: dict[str, Any]) -> None:
    print()
    print(f"| survey scale ({r['database']}) | value |")
    print("|---|---|")
    b = r["bulk"]
    print(f"| bulk load (handler, batches of {b['batch']:,}) | {b['responses']:,} in {b['seconds']:,} s = "
          f"{b['per_second']:,.0f}/s{' (stopped at time limit)' if b['stopped_at_time_limit'] else ''} |")
    if "api" in r:
        a = r["api"]
        print(f"| API ingestion ({a['concurrency']} connections) | {a['requests']:,} in {a['seconds']} s = "
              f"{a['per_second']:,.0f}/s, p50 {a['latency_ms']['p50']} ms, p99 {a['latency_ms']['p99']} ms |")
        print(f"| retries replayed, not recounted | {a['retries_replayed']:,} / {min(1000, a['requests']):,} |")
    print(f"| rows | {r['rows']['responses']:,} responses, {r['rows']['rollup_rows']:,} rollup rows, "
          f"{r['rows']['texts']:,} texts |")
    print(f"| database size | {r['database_bytes'] / 1e6:,.0f} MB (survey tables and indexes: "
          f"{r['survey_tables_bytes'] / 1e6:,.0f} MB) |")
    print(f"| bench process memory | {r['memory_kib']['max_rss'] / 1024:,.0f} MiB max RSS |")
    print()
    print("| dashboard view | p50 ms | p95 ms | max ms | counted from |")
    print("|---|---|---|---|---|")
    for q in r["queries"]:
        print(f"| {q['view']} | {q['p50_ms']} | {q['p95_ms']} | {q['max_ms']} | {q['source']} |")
    p = r["dashboard_page"]
    print(f"| whole /dashboard page (HTML) | {p['p50_ms']} | {p['p95_ms']} | | |")
    if r.get("themes"):
        if "coding" in r:
            c = r["coding"]
            print()
            print(f"coded through the analysis store: {c['survey_texts']['coded']:,} survey texts "
                  f"({c['survey_texts']['per_second']:,.0f}/s), {c['transcript_lines']['coded']:,} transcript lines "
                  f"of {c['transcript_lines']['dialogues']} dialogues")
        print()
        print("| theme counts, survey and dialogues | p50 ms | p95 ms | max ms | survey items | dialogue items |")
        print("|---|---|---|---|---|---|")
        for q in r["themes"]:
            print(f"| {q['view']} | {q['p50_ms']} | {q['p95_ms']} | {q['max_ms']} | {q['survey_coded']:,} | "
                  f"{q['dialogue_coded']:,} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_500_000, help="total responses (API sample + bulk)")
    parser.add_argument("--api-requests", type=int, default=20_000, help="how many go through the HTTP API")
    parser.add_argument("--concurrency", type=int, default=16, help="API connections")
    parser.add_argument("--batch", type=int, default=10_000, help="bulk batch size")
    parser.add_argument("--repeat", type=int, default=15, help="runs per dashboard view")
    parser.add_argument("--coded-texts", type=int, default=0,
                        help="survey texts to code for the theme counts (e.g. 300000; 0: no theme phase)")
    parser.add_argument("--transcript-lines", type=int, default=0,
                        help="coded transcript lines of synthetic held dialogues (e.g. 100000)")
    parser.add_argument("--time-limit", type=float, default=3600, help="stop the bulk load after this many seconds")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (its tables are dropped!); default SQLite")
    parser.add_argument("--data-dir", default="", help="keep the data here (must be empty); default a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--queries-only", action="store_true",
                        help="load nothing: time the dashboard on the data already in --data-dir / --database-url")
    asyncio.run(main(parser.parse_args()))
