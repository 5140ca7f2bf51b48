"""What storing a survey response costs the database: a bounded number of statements and
commits per response (a batch costs no more statements than one response), and on SQLite a
bounded number of pages written, so bulk ingestion does not write a hundred kilobytes per answer."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from parley.consultation.survey import RawSubmission
from parley.server import Server
from tests.survey.conftest import answer, submit

pytestmark = pytest.mark.integration

COUNTRIES = ["FR", "KE", "MX", "IN", "US", "BR", "NG", "DE", "CN", "EG", "RU", "PH"]
AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65-plus"]
GENDERS = ["female", "male", "other", "unstated"]
EDUCATION = ["primary", "secondary", "vocational", "university"]
PRIORITIES = ["environment", "human_rights", "less_conflict", "basic_services", "less_corruption", "employment"]
TRENDS = ["climate", "armed_conflict", "health_risks", "new_technologies", "terrorism", "population"]


def varied(rng: random.Random) -> dict[str, Any]:
    """A valid submission with varied demographics and choices (synthetic)."""
    return answer(country=rng.choice(COUNTRIES), age_group=rng.choice(AGES), gender=rng.choice(GENDERS),
                  education=rng.choice(EDUCATION),
                  answers={"priorities": rng.sample(PRIORITIES, 3), "trends": rng.sample(TRENDS, 3),
                           "future": rng.choice(["better", "worse", "same"])})


class Tally:
    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.commits = 0


@contextmanager
def tally(server: Server) -> Iterator[Tally]:
    engine = server.db.engine.sync_engine
    t = Tally()

    def statement(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        t.statements[sql.split(None, 1)[0].upper()] += 1

    def commit(_c: Any) -> None:
        t.commits += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield t
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


async def preload(server: Server, n: int) -> None:
    """``n`` varied responses in one batch, so that the rollups span many pages."""
    rng = random.Random(7)
    surveys = server.survey
    survey = await surveys.current()
    items = []
    for i in range(n):
        body = varied(rng)
        raw = RawSubmission(language=body["language"], answers=body["answers"], country=body["country"],
                            age_group=body["age_group"], gender=body["gender"], education=body["education"],
                            consent_analysis=True, consent_quotes=False)
        items.append((f"preload-{i:08d}", "test", await surveys.validate(raw, survey=survey)))
    await surveys.submit_many(items)


async def test_statements_and_commits_per_response_are_bounded(
        server: Server, client: httpx.AsyncClient, gateway_token: Callable[[], Awaitable[str]]) -> None:
    client.headers["Authorization"] = f"Bearer {await gateway_token()}"
    rng = random.Random(1)
    assert (await submit(client, "warm-up-0001", **varied(rng))).status_code == 201

    with tally(server) as one:
        assert (await submit(client, "single-00001", **varied(rng))).status_code == 201
    with tally(server) as twenty:
        for i in range(20):
            assert (await submit(client, f"many-{i:08d}", **varied(rng))).status_code == 201

    assert sum(one.statements.values()) <= 30 and one.commits <= 2
    assert sum(twenty.statements.values()) <= 20 * sum(one.statements.values())
    assert twenty.commits <= 20 * 2
    assert one.statements["UPDATE"] == 0  # no per-request bookkeeping write (token use, caches)

    surveys = server.survey
    survey = await surveys.current()
    batch = []
    for i in range(200):
        body = varied(rng)
        raw = RawSubmission(language="en", answers=body["answers"], country=body["country"],
                            consent_analysis=True)
        batch.append((f"batch-{i:08d}", "test", await surveys.validate(raw, survey=survey)))
    with tally(server) as bulk:
        await surveys.submit_many(batch)
    # A batch is one transaction whose statements do not grow with its size.
    assert bulk.commits == 1 and sum(bulk.statements.values()) <= sum(one.statements.values()) + 5


async def test_one_response_writes_few_database_pages_on_sqlite(
        server: Server, client: httpx.AsyncClient, gateway_token: Callable[[], Awaitable[str]]) -> None:
    if not server.db.is_sqlite:
        pytest.skip("pages written are measured on SQLite's write-ahead log")
    await preload(server, 2000)
    client.headers["Authorization"] = f"Bearer {await gateway_token()}"
    rng = random.Random(2)
    assert (await submit(client, "warm-up-0002", **varied(rng))).status_code == 201
    frames = []
    for i in range(5):
        async with server.db.engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert (await submit(client, f"paged-{i:07d}", **varied(rng))).status_code == 201
        async with server.db.engine.connect() as conn:
            page_size = (await conn.execute(text("PRAGMA page_size"))).scalar_one()
            wal = str((await conn.execute(text("PRAGMA database_list"))).all()[0][2]) + "-wal"
        frames.append((await asyncio.to_thread(os.path.getsize, wal) - 32) // (page_size + 24))
    # 21 cuboids: about a page each, plus the response's own rows and indexes. With the
    # question before the cell in the rollup key, this was ~85 pages (~350 KB) per response.
    assert max(frames) <= 45, frames
