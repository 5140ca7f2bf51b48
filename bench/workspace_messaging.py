"""Workspace messaging under load: N WebSocket clients, messages posted at a steady rate.

    .venv/bin/python bench/workspace_messaging.py --clients 1000
    .venv/bin/python bench/workspace_messaging.py --clients 5000 --rate 10

Starts one Parley process (Uvicorn, SQLite, in-process bus) on loopback with a fresh data
folder, connects N staff WebSocket clients spread over a few client processes (each client
a member of one of ``--channels`` team channels), posts ``--rate`` messages per second for
``--duration`` seconds through ``--senders`` sender sockets (members of every channel), and
measures messages delivered per second, delivery latency (sender's timestamp in the body ->
the receiving client's clock, same host) and the server's memory per connection (RSS after
connecting minus RSS before, over N). Prints a table and writes JSON under bench/results/.
Bounded: everything is loopback, and the run stops after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
ROOT = ME.parents[1]
RESULTS = ROOT / "bench" / "results"
SESSION_COOKIE = "parley_session"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def env_for(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_SERVER_SECRET_KEY": "bench-secret",
        "PARLEY_CONFIG": os.devnull,
        "PARLEY_DATABASE_URL": "",
        "PARLEY_REDIS_URL": "",
    }


# --- setup: users, sessions, channels, straight into a fresh database --------------------------


async def setup(data_dir: Path, clients: int, senders: int, channels: int) -> dict[str, Any]:
    from parley.config import Config
    from parley.security import hash_token, new_token
    from parley.server import Server
    from parley.storage.models import AuthSession, ChannelMember, Role, User

    config = Config.load(env=env_for(data_dir))
    server = Server(config, schema="create")
    await server.start()
    now = datetime.now(UTC)
    roles = [Role.FACILITATOR, Role.INTERPRETER, Role.ORGANISER]
    try:
        async with server.db.session() as s:
            users = [
                User(
                    email=f"bench{i}@bench.local",
                    display_name=f"Bench {i}",
                    role=roles[i % 3],
                    password_hash=None,
                    created_at=now,
                    disabled=False,
                    credentials_version=1,
                )
                for i in range(clients + senders)
            ]
            users[clients].role = Role.ORGANISER  # the first sender creates the channels
            s.add_all(users)
            await s.flush()
            tokens = []
            for user in users:
                token = new_token()
                s.add(
                    AuthSession(
                        token_hash=hash_token(token),
                        user_id=user.id,
                        csrf_token=new_token(24),
                        created_at=now,
                        expires_at=now + timedelta(days=1),
                        last_seen_at=now,
                    )
                )
                tokens.append(token)
        organiser = users[clients]
        channel_ids = [
            (await server.workspace.create_team_channel(organiser, f"bench-{c}")).id for c in range(channels)
        ]
        async with server.db.session() as s:
            for i in range(clients):
                s.add(
                    ChannelMember(
                        channel_id=channel_ids[i % channels], user_id=users[i].id, joined_at=now, last_read_message_id=0
                    )
                )
            for user in users[clients + 1 :]:
                for cid in channel_ids:
                    s.add(ChannelMember(channel_id=cid, user_id=user.id, joined_at=now, last_read_message_id=0))
    finally:
        await server.stop()
    return {"receivers": tokens[:clients], "senders": tokens[clients:], "channels": channel_ids}


# --- the server process ---------------------------------------------------------------------


def serve(port: int) -> None:
    import uvicorn

    from parley.config import Config
    from parley.server import Server
    from parley.web.app import create_app

    app = create_app(Server(Config.load(), schema="none"))
    # The same stack as `parley serve`: uvloop, httptools, websockets (sans-io).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=8192)


# --- a client process: many receiving sockets -------------------------------------------------


async def client_main(port: int, tokens: list[str], concurrency: int) -> None:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/workspace"
    latencies: list[float] = []
    counts = {"received": 0, "closed_early": 0, "connect_failed": 0}
    stop = asyncio.Event()
    gate = asyncio.Semaphore(concurrency)
    connected = 0
    all_in = asyncio.Event()

    def settled() -> None:
        if connected + counts["connect_failed"] >= len(tokens):
            all_in.set()

    async def one(token: str) -> None:
        nonlocal connected
        try:
            async with gate:
                conn = await connect(
                    url,
                    additional_headers={"Cookie": f"{SESSION_COOKIE}={token}"},
                    open_timeout=60,
                    ping_interval=None,
                    max_queue=None,
                    compression=None,
                )
                hello = json.loads(await asyncio.wait_for(conn.recv(), 60))
                assert hello["type"] == "hello", hello
        except Exception:
            counts["connect_failed"] += 1
            settled()
            return
        connected += 1
        settled()
        try:
            async for raw in conn:
                # Cheap parse: the client side must not be the bottleneck on a small box.
                if not isinstance(raw, str):
                    continue
                at = raw.find('"body":"bench ')
                if at != -1 and raw.startswith('{"type":"message.new"'):
                    start = at + 14
                    latencies.append(time.time() - float(raw[start : raw.index(" ", start)]))
                    counts["received"] += 1
            if not stop.is_set():
                counts["closed_early"] += 1
        except Exception:
            if not stop.is_set():
                counts["closed_early"] += 1

    tasks = [asyncio.create_task(one(t), name=f"bench-client-{i}") for i, t in enumerate(tokens)]
    settled()
    await all_in.wait()
    print(json.dumps({"ready": connected, "failed": counts["connect_failed"]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "stop"
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"counts": counts, "latencies": latencies}), flush=True)


# --- the driver -------------------------------------------------------------------------------


async def send_messages(
    port: int, tokens: list[str], channels: list[int], rate: float, duration: float
) -> dict[str, Any]:
    """Post at a steady total rate, round-robin over channels and sender sockets."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/ws/workspace"
    conns = [
        await connect(
            url,
            additional_headers={"Cookie": f"{SESSION_COOKIE}={t}"},
            max_queue=None,
            ping_interval=None,
            compression=None,
        )
        for t in tokens
    ]
    acks = {"ok": 0, "error": 0}
    total = int(rate * duration)
    answered = asyncio.Event()

    async def drain(conn: Any) -> None:
        async for raw in conn:
            if '"type":"ack"' in raw:
                acks["ok"] += 1
            elif '"type":"error"' in raw:
                acks["error"] += 1
            if acks["ok"] + acks["error"] >= total:
                answered.set()

    readers = [asyncio.create_task(drain(c), name="bench-sender-reader") for c in conns]
    start = time.monotonic()
    for seq in range(total):
        delay = start + seq / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = {
            "type": "post",
            "ref": str(seq),
            "channel_id": channels[seq % len(channels)],
            "body": f"bench {time.time():.6f} {seq}",
        }
        await conns[seq % len(conns)].send(json.dumps(frame))
    sent_for = time.monotonic() - start
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(answered.wait(), 30)
    for conn in conns:
        await conn.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {"sent": total, "send_seconds": sent_for, "acks": acks["ok"], "errors": acks["error"]}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    import socket

    import httpx

    limit = raise_fd_limit()
    need = args.clients + args.senders + 200
    if limit < need:
        raise SystemExit(f"open-file limit {limit} is below the {need} this run needs")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="parley-bench-ws-"))
    t0 = time.monotonic()
    plan = await setup(work, args.clients, args.senders, args.channels)
    tokens_file = work / "tokens.json"
    await asyncio.to_thread(tokens_file.write_text, json.dumps(plan))
    setup_s = time.monotonic() - t0

    me = str(ME)
    server = await asyncio.create_subprocess_exec(sys.executable, me, "--serve", str(port), env=env_for(work), cwd=ROOT)
    children: list[asyncio.subprocess.Process] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{port}/api/v1/health")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise SystemExit("the server did not start")
            await http.get(f"http://127.0.0.1:{port}/api/v1/health")
        await asyncio.sleep(0.5)
        rss_before = rss_kib(server.pid)
        cpu_before_connect = cpu_seconds(server.pid)

        t1 = time.monotonic()
        for i in range(args.procs):
            children.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    me,
                    "--client",
                    str(port),
                    str(tokens_file),
                    str(i),
                    str(args.procs),
                    str(args.concurrency),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    cwd=ROOT,
                    limit=2**28,
                )
            )
        ready = [json.loads(await child.stdout.readline()) for child in children]  # type: ignore[union-attr]
        connect_s = time.monotonic() - t1
        await asyncio.sleep(1.0)
        rss_connected = rss_kib(server.pid)
        cpu_start = {p.pid: cpu_seconds(p.pid) for p in [server, *children]}
        connect_cpu = {
            "server": cpu_start[server.pid] - cpu_before_connect,
            "clients": sum(v for k, v in cpu_start.items() if k != server.pid),
        }

        sent = await send_messages(port, plan["senders"][: args.senders], plan["channels"], args.rate, args.duration)
        await asyncio.sleep(args.drain)
        rss_after = rss_kib(server.pid)
        cpu = {p.pid: cpu_seconds(p.pid) - cpu_start[p.pid] for p in [server, *children]}
        for child in children:
            child.stdin.write(b"stop\n")  # type: ignore[union-attr]
            await child.stdin.drain()  # type: ignore[union-attr]
        reports = [json.loads(await child.stdout.readline()) for child in children]  # type: ignore[union-attr]
    finally:
        for proc in [*children, server]:
            if proc.returncode is None:
                proc.terminate()
        for proc in [*children, server]:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await asyncio.to_thread(shutil.rmtree, work, True)

    latencies = [x for r in reports for x in r["latencies"]]
    received = sum(r["counts"]["received"] for r in reports)
    connected = sum(r["ready"] for r in ready)
    per_channel = [sum(1 for i in range(args.clients) if i % args.channels == c) for c in range(args.channels)]
    expected = sum(per_channel[seq % args.channels] for seq in range(sent["sent"]))
    window = sent["send_seconds"] + (max(latencies) if latencies else 0.0)
    return {
        "bench": "workspace_messaging",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "connected": connected,
        "connect_failed": sum(r["failed"] for r in ready),
        "closed_early": sum(r["counts"]["closed_early"] for r in reports),
        "channels": args.channels,
        "senders": args.senders,
        "client_processes": args.procs,
        "rate_per_s": args.rate,
        "duration_s": args.duration,
        "messages_sent": sent["sent"],
        "acks": sent["acks"],
        "post_errors": sent["errors"],
        "deliveries_expected": expected,
        "deliveries_received": received,
        "delivered_per_s": received / window if window else 0.0,
        "latency_ms": {
            "p50": pct(latencies, 0.50) * 1000,
            "p99": pct(latencies, 0.99) * 1000,
            "max": (max(latencies) * 1000) if latencies else float("nan"),
            "mean": (statistics.fmean(latencies) * 1000) if latencies else float("nan"),
        },
        "server_rss_kib": {"before": rss_before, "connected": rss_connected, "after_messages": rss_after},
        "server_kib_per_connection": (rss_connected - rss_before) / max(1, connected),
        "setup_s": setup_s,
        "connect_s": connect_s,
        "connect_cpu_s": connect_cpu,
        "server_cpu_s": cpu[server.pid],
        "server_cpu_us_per_delivery": cpu[server.pid] / max(1, received) * 1e6,
        "clients_cpu_s": sum(v for k, v in cpu.items() if k != server.pid),
        "cpu_count": os.cpu_count(),
    }


def print_table(result: dict[str, Any]) -> None:
    lat = result["latency_ms"]
    rows = [
        (
            "clients connected",
            f"{result['connected']} / {result['clients']} (failed {result['connect_failed']}, "
            f"dropped {result['closed_early']})",
        ),
        ("channels x senders", f"{result['channels']} x {result['senders']}"),
        (
            "connect time",
            f"{result['connect_s']:.1f} s (CPU: server {result['connect_cpu_s']['server']:.1f} s, "
            f"clients {result['connect_cpu_s']['clients']:.1f} s)",
        ),
        (
            "messages posted",
            f"{result['messages_sent']} at {result['rate_per_s']}/s (acks {result['acks']}, "
            f"errors {result['post_errors']})",
        ),
        ("deliveries", f"{result['deliveries_received']} / {result['deliveries_expected']} expected"),
        ("delivered per second", f"{result['delivered_per_s']:.0f} msg/s"),
        ("latency p50 / p99 / max", f"{lat['p50']:.1f} / {lat['p99']:.1f} / {lat['max']:.1f} ms"),
        (
            "server RSS before / connected",
            f"{result['server_rss_kib']['before'] / 1024:.1f} / {result['server_rss_kib']['connected'] / 1024:.1f} MiB",
        ),
        ("server memory per connection", f"{result['server_kib_per_connection']:.1f} KiB"),
        (
            "server CPU while posting",
            f"{result['server_cpu_s']:.1f} s ({result['server_cpu_us_per_delivery']:.0f} us per delivery; "
            f"client processes {result['clients_cpu_s']:.1f} s)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nworkspace messaging, {result['clients']} clients ({result['cpu_count']} CPUs)")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second, all channels together")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of posting")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait for the last deliveries")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=32, help="handshakes in flight per client process")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    if args.serve is not None:
        serve(args.serve)
        return
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        loop_factory = None
    if args.client is not None:
        port, tokens_file, index, procs, concurrency = args.client
        tokens = json.loads(Path(tokens_file).read_text())["receivers"][int(index) :: int(procs)]
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(client_main(int(port), tokens, int(concurrency)))
        return
    if not 1 <= args.clients <= 20_000 or not 1 <= args.channels <= args.clients or args.senders < 1:
        parser.error("need 1 <= channels <= clients <= 20000 and at least one sender")
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(asyncio.wait_for(drive(args), args.max_seconds))
    print_table(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"workspace_messaging_{args.clients}_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
