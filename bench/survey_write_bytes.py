"""Bytes written to disk per survey response, on SQLite, through the real API.

    .venv/bin/python bench/survey_write_bytes.py                          # 2,000 preloaded, 300 API, 3 bulk batches
    .venv/bin/python bench/survey_write_bytes.py --preload 20000 --api 500 --bulk-batches 5 --batch 1000

A Parley server (in process, SQLite in a fresh folder, no workers) first gets ``--preload``
synthetic responses through `Surveys.submit_many` (so that the tables are not empty), then:

* **api**: ``--api`` submissions one after another through ``POST /api/v1/survey/responses``
  (ASGI, a gateway's bearer token, an Idempotency-Key each);
* **bulk**: ``--bulk-batches`` batches of ``--batch`` through `Surveys.submit_many`, as the
  bulk loader and gateways do.

For each phase: bytes this process wrote (``write_bytes`` of ``/proc/self/io``, which counts
the aiosqlite thread too, minus ``cancelled_write_bytes``), SQL statements and commits
(SQLAlchemy events), per response, and the WAL file's size at the end. Prints a table and
writes ``bench/results/survey_write_bytes_<time>.json``. The population is synthetic
(`bench/survey_scale.py`), never real answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
RESULTS = ME.parents[1] / "bench" / "results"
sys.path.insert(0, str(ME.parent))

from survey_scale import BenchClock, Population, env_for  # noqa: E402


def io_written() -> int:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["write_bytes"]) - int(fields["cancelled_write_bytes"])


class SqlCounter:
    """Statements (by their first word) and commits seen by the engine."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements: Counter[str] = Counter()
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements[statement.split(None, 1)[0].upper()] += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def snapshot(self) -> tuple[Counter[str], int]:
        return Counter(self.statements), self.commits


async def measure(name: str, n: int, counter: SqlCounter, work: Path, run: Any) -> dict[str, Any]:
    before_io, (before_sql, before_commits) = io_written(), counter.snapshot()
    t0 = time.perf_counter()
    await run()
    elapsed = time.perf_counter() - t0
    written = io_written() - before_io
    after_sql, after_commits = counter.snapshot()
    statements = after_sql - before_sql
    wal = work / "parley.sqlite3-wal"
    return {
        "phase": name, "responses": n, "seconds": round(elapsed, 2),
        "bytes_written": written, "bytes_per_response": round(written / n),
        "statements_per_response": round(sum(statements.values()) / n, 2),
        "commits_per_response": round((after_commits - before_commits) / n, 3),
        "statements": dict(statements.most_common()),
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from parley.config import Config
    from parley.consultation.survey import RawSubmission
    from parley.security import hash_token, new_token
    from parley.server import Server
    from parley.storage.models import ApiToken, Role
    from parley.web.app import create_app

    work = Path(tempfile.mkdtemp(prefix="parley-bench-write-"))
    url = f"sqlite:///{work / 'parley.sqlite3'}"
    clock = BenchClock()
    server = Server(Config.load(env=env_for(work, url)), clock=clock, schema="create")
    await server.start()
    population = Population()
    counter = SqlCounter(server.db.engine.sync_engine)
    rows: list[dict[str, Any]] = []
    try:
        user = await server.accounts.create_user(email="bench@bench.local", display_name="Bench",
                                                 role=Role.ORGANISER, password="bench-password-1")
        token = new_token()
        async with server.db.session() as s:
            s.add(ApiToken(user_id=user.id, name="bench gateway", token_hash=hash_token(token),
                           created_at=clock.now()))
        surveys = server.survey
        survey = await surveys.current()
        loaded = 0

        async def bulk(count: int, batch: int) -> None:
            nonlocal loaded
            for start in range(0, count, batch):
                items = []
                for _ in range(min(batch, count - start)):
                    sub = await surveys.validate(RawSubmission(**population.one()), trusted_channel=True,
                                                 survey=survey)
                    items.append((f"bulk-{loaded:09d}", "bench", sub))
                    loaded += 1
                await surveys.submit_many(items)

        await bulk(args.preload, 5000)
        print(f"preloaded {args.preload:,} responses", flush=True)
        app = create_app(server)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     headers={"Authorization": f"Bearer {token}"}) as client:

            async def api() -> None:
                for i in range(args.api):
                    body = population.one()
                    r = await client.post("/api/v1/survey/responses", json=body,
                                          headers={"Idempotency-Key": f"api-{i:09d}"})
                    if r.status_code != 201:
                        raise SystemExit(f"API answered {r.status_code}: {r.text[:200]}")

            rows.append(await measure("api", args.api, counter, work, api))
        rows.append(await measure("bulk", args.bulk_batches * args.batch, counter, work,
                                  lambda: bulk(args.bulk_batches * args.batch, args.batch)))
    finally:
        await server.stop()
    db = work / "parley.sqlite3"
    result = {"preload": args.preload, "database_bytes": db.stat().st_size, "phases": rows}
    return result


def report(result: dict[str, Any]) -> None:
    print(f"\nSQLite database after the run: {result['database_bytes'] / 1e6:.1f} MB "
          f"({result['preload']:,} preloaded)\n")
    print("| phase | responses | bytes/response | statements/response | commits/response | WAL at end | s |")
    print("|---|---|---|---|---|---|---|")
    for r in result["phases"]:
        print(f"| {r['phase']} | {r['responses']:,} | {r['bytes_per_response']:,} | {r['statements_per_response']} "
              f"| {r['commits_per_response']} | {r['wal_bytes'] / 1e6:.1f} MB | {r['seconds']} |")
    for r in result["phases"]:
        print(f"{r['phase']} statements: {r['statements']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preload", type=int, default=2000)
    parser.add_argument("--api", type=int, default=300)
    parser.add_argument("--bulk-batches", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    out = asyncio.run(main(args))
    report(out)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else RESULTS / f"survey_write_bytes_{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")
