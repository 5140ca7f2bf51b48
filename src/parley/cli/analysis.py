"""``parley analysis run``: one analysis pass now, in this process, saying where it is as it
goes (the stage, and n of N items while it codes or re-codes), then what it did. For an
operator who wants the codings before a deadline rather than at the worker's next pass;
passes are safe beside a running server's (a source is coded once)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import IO, Any

from parley.config import Config

STAGES = {
    "waiting": "waiting",
    "preparing": "preparing the analysis engine",
    "purging": "removing what consent no longer covers",
    "coding": "coding new items",
    "recoding": "re-coding with the latest corrections",
}


def add_parser(sub: Any) -> None:
    """Register ``analysis`` and its commands on the top-level subparsers."""
    analysis = sub.add_parser("analysis", help="the theme analysis of survey answers, reports and transcripts")
    commands = analysis.add_subparsers(dest="analysis_command", required=True)
    run = commands.add_parser("run", help="run one pass now, showing its progress")
    run.add_argument("--every", type=float, default=1.0, help="seconds between two progress lines (default 1)")
    run.set_defaults(func=cmd_analysis_run)


def progress_line(stage: str, done: int, total: int) -> str:
    what = STAGES.get(stage, stage)
    if not total:
        return f"analysis: {what}"
    return f"analysis: {what}: {done} / {total} ({100 * done // total} %)"


async def watch(status: Any, out: IO[str], every: float) -> None:
    """Print the pass's progress whenever it changes, at most every ``every`` seconds."""
    last = ""
    while True:
        p = status().progress
        line = progress_line(p.stage, p.done, p.total) if p is not None else ""
        if line and line != last:
            print(line, file=out, flush=True)
            last = line
        await asyncio.sleep(every)


def cmd_analysis_run(args: argparse.Namespace, config: Config) -> int:
    from parley.errors import EngineError
    from parley.server import Server

    async def run() -> int:
        server = Server(config)
        await server.db.migrate()
        analysis = server.analysis
        watcher = asyncio.create_task(watch(analysis.status, sys.stderr, max(0.1, args.every)), name="analysis:watch")
        try:
            result = await analysis.run_once()
        except EngineError as exc:
            print(f"analysis: not run: {exc}", file=sys.stderr)
            return 1
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await analysis.stop()
            await server.db.close()
        print(f"analysis: {result.coded} new, {result.recoded} re-coded, {result.purged} removed")
        for kind, n in result.by_source.items():
            print(f"  {kind}: {n.coded} new, {n.recoded} re-coded, {n.purged} removed")
        return 0

    return asyncio.run(run())
