"""Media node failover: seconds from a node's death to speech flowing again in its meeting.

    .venv/bin/python bench/node_failover.py                      # 5 runs, SIGKILL, media.lost_seconds 3
    .venv/bin/python bench/node_failover.py --runs 10 --lost-seconds 15
    .venv/bin/python bench/node_failover.py --freeze             # the node hangs (SIGSTOP) instead

Re-runs itself inside a private network namespace (lo + ifb jx0 with 127.0.0.2, plus jx1 with
127.0.0.3; needs root, iproute2 and janus, espeak-ng and sox for the speech). Each run is the
scenario of tests/media/nodes/test_node_failover.py, from scratch: two `parley media-node`
processes (media-a, media-b) on a fresh SQLite database, one Parley web process with no Janus
of its own (Uvicorn on 127.0.0.1), a meeting with two aiortc bots that hear each other through
Parley's /ws/janus proxy; then the meeting's node (agent and Janus) is killed with SIGKILL,
and each bot reconnects when its /ws/meetings socket says ``media_restarted`` (/me/connect,
a new Janus session through the proxy, publish, subscribe: what meeting.js does).

Reports per run and p50/max over the runs: **told** = kill -> the later bot's
``media_restarted``; **audio** = kill -> 0.5 s of audio arrived both ways again; and the
cross-correlation of what each bot heard after the move with what the other says (speech
through Opus scores 0.5-0.9; > 0.45 counts as heard). Writes
bench/results/node_failover_<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
ROOT = ME.parents[1]
RESULTS = ROOT / "bench" / "results"
NETNS_ENV = "PARLEY_BENCH_NETNS"
NETNS_SETUP = ("ip link set lo up && ip link add jx0 type ifb && ip addr add 127.0.0.2/32 dev jx0 "
               "&& ip link set jx0 up")
FIRST_ADDRESS = "127.0.0.2"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the scenario lives with the tests that assert on it


async def one_run(work: Path, janus: str, second: str, says: tuple[Path, Path], args: argparse.Namespace) -> Any:
    from tests.media.nodes.cluster import start_two_nodes, stop_node
    from tests.media.nodes.failover import Failover, serving, web_config

    from parley.storage.database import upgrade

    db_url = f"sqlite:///{work / 'shared.sqlite3'}"
    await asyncio.to_thread(upgrade, db_url)
    nodes = await start_two_nodes(work, db_url, janus, FIRST_ADDRESS, second)
    try:
        async with serving(web_config(work / "web", db_url, lost_seconds=args.lost_seconds)) as (server, url):
            return await Failover(server, url, nodes, says).run(freeze=args.freeze)
    finally:
        for node in nodes:
            await stop_node(node)


async def drive(args: argparse.Namespace) -> None:
    from tests.media.nodes.cluster import add_second_interface
    from tests.media.nodes.failover import SAME_AUDIO, as_json, describe, voices

    janus = shutil.which("janus")
    if janus is None:
        sys.exit("janus is not installed")
    second = add_second_interface()
    work = Path(tempfile.mkdtemp(prefix="parley-failover-"))
    rows: list[dict[str, Any]] = []
    try:
        says = voices(work)
        for n in range(1, args.runs + 1):
            run_dir = work / f"run-{n}"
            run_dir.mkdir()
            started = time.monotonic()
            try:
                outcome = await one_run(run_dir, janus, second, says, args)
            except Exception as exc:  # a failed run is a result too; the next one starts clean
                row: dict[str, Any] = {"run": n, "error": f"{type(exc).__name__}: {exc}"}
                print(f"run {n}: FAILED {row['error']}", flush=True)
            else:
                row = {"run": n, **as_json(outcome), "heard": min(outcome.after) > SAME_AUDIO}
                print(f"run {n}: {describe(outcome)}", flush=True)
            row["load_average"] = round(os.getloadavg()[0], 2)
            row["run_s"] = round(time.monotonic() - started, 1)
            rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = summarise(rows)
    print()
    print(table(rows, summary, args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"node_failover_{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows, "summary": summary, "cpus": os.cpu_count()},
                              indent=2))
    print(f"wrote {out}")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if "error" not in r]
    summary: dict[str, Any] = {"runs": len(rows), "recovered": sum(1 for r in done if r["heard"])}
    for key in ("told_s", "audio_s"):
        values = [r[key] for r in done]
        summary[key] = {"p50": round(statistics.median(values), 2), "max": round(max(values), 2)} if values else None
    return summary


def table(rows: list[dict[str, Any]], summary: dict[str, Any], args: argparse.Namespace) -> str:
    how = "SIGSTOP (hung)" if args.freeze else "SIGKILL"
    lines = [f"node killed with {how}, media.lost_seconds = {args.lost_seconds}", "",
             "| run | moved | kill -> media_restarted | kill -> audio both ways | correlation after | load avg |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['run']} | failed: {r['error'][:60]} | | | | {r['load_average']} |")
            continue
        corr = "/".join(f"{c:.2f}" for c in r["correlation_after"])
        lines.append(f"| {r['run']} | {r['lost_node']} -> {r['new_node']} | {r['told_s']:.1f} s | {r['audio_s']:.1f} s "
                     f"| {corr} | {r['load_average']} |")
    told, audio = summary["told_s"], summary["audio_s"]
    if told and audio:
        lines.append(f"| p50 / max | {summary['recovered']}/{summary['runs']} heard again | {told['p50']:.1f} / "
                     f"{told['max']:.1f} s | {audio['p50']:.1f} / {audio['max']:.1f} s | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lost-seconds", type=int, default=3, help="media.lost_seconds of the web process")
    parser.add_argument("--freeze", action="store_true", help="SIGSTOP the node instead of SIGKILL (a hung machine)")
    parser.add_argument("--verbose", action="store_true", help="Parley's warnings on stderr")
    args = parser.parse_args()
    if os.environ.get(NETNS_ENV) != "1":
        if shutil.which("unshare") is None or shutil.which("ip") is None:
            sys.exit("needs unshare and ip (util-linux, iproute2) and root")
        os.execvpe("unshare", ["unshare", "-n", "--", "sh", "-c", f'{NETNS_SETUP} && exec "$@"', "netns",
                               sys.executable, str(ME), *sys.argv[1:]], {**os.environ, NETNS_ENV: "1"})
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)
    asyncio.run(drive(args))


if __name__ == "__main__":
    main()
