"""The meeting control plane at campaign scale: N meetings of 8, two web processes, fake media.

    .venv/bin/python bench/control_plane.py --meetings 50,200,1000
    .venv/bin/python bench/control_plane.py --quick                 # 2 meetings, 10 s: a smoke run

For each size N (a fresh PostgreSQL database each time; Redis for the bus):

1. setup, in-process through the handlers: N dialogues (a facilitator each, published), 7
   registered participants each, a login session for all 8N people;
2. starts a fake media node (`bench/janus_node.py`: Janus's WebSocket and Admin APIs, no
   media) and two Parley web processes (Uvicorn as `parley serve` runs it) that use it as an
   external Janus and share the database and the Redis bus; interpretation and analysis off;
3. ``--procs`` driver processes bring every meeting up the way browsers do, spread over both
   web processes (person k of meeting m on process (m + k) % 2): the facilitator starts the
   meeting and joins, the participants join, the facilitator admits all, everyone asks for
   Janus credentials (`/me/connect`), opens the meeting socket `/ws/meetings/<id>` and the
   Janus proxy socket `/ws/janus?dialogue=<id>`, and through the proxy creates a session,
   attaches to the VideoRoom, joins as its publisher id and publishes (``configure``);
   sessions then send a keepalive every 25 s like janus.js;
4. measures ``--duration`` s of activity: every meeting makes one change every
   ``--act-every`` s on average (a participant raises or lowers a hand, posts to the chat,
   or reports a mute change), and the media node changes each room's speaker every
   ``--talk-every`` s (talking / stopped-talking events to every handle in the room, which
   Parley's monitor participants turn into meeting state).

Reported per size: event delivery latency (the change's POST sent -> the state or chat frame
that carries it read on each *other* socket of the meeting; same host clock) p50/p99, CPU per
participant for each web process (/proc), memory per socket (each process's RSS after the
sockets opened minus before, over the sockets it holds, both kinds counted, plus its upstream
connections to the media node), database statements per meeting minute (counted in the web
processes by a SQLAlchemy ``before_cursor_execute`` listener that this script installs in its
own server wrapper, no change in Parley; PostgreSQL's ``pg_stat_database`` commit and tuple
deltas beside it), and the CPU of PostgreSQL's backends for this database, Redis, the media
node and the drivers, with the load average: where a size saturates, the table says which.
The sweep stops after a size whose p99 passes ``--max-p99`` s or whose errors pass 1 % of its changes.
Writes `bench/results/control_plane_<time>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
ROOT = ME.parents[1]
RESULTS = ROOT / "bench" / "results"
SESSION_COOKIE = "parley_session"
PEOPLE = 8  # a facilitator and 7 participants
KEEPALIVE_S = 25.0
JSEP_OFFER = {"type": "offer", "sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}

sys.path.insert(0, str(ME.parent))
from workspace_messaging import cpu_seconds as _cpu_seconds  # noqa: E402
from workspace_messaging import pct, raise_fd_limit, rss_kib  # noqa: E402

# --- small process helpers (the /proc readers are workspace_messaging's) -------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone, as a database backend may be)."""
    try:
        return float(_cpu_seconds(pid))
    except OSError:
        return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the database --------------------------------------------------------------------------------


def admin_sql(base_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_stats(base_url: str, db_name: str) -> dict[str, Any]:
    """pg_stat_database counters for the bench database, and the backends serving it."""
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "select xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, "
            "tup_deleted from pg_stat_database where datname = %s", (db_name,)).fetchone()
        pids = [r[0] for r in conn.execute("select pid from pg_stat_activity where datname = %s", (db_name,))]
    keys = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted")
    return {"counters": dict(zip(keys, row or (0,) * len(keys), strict=True)),
            "backend_cpu": {pid: cpu_seconds(pid) for pid in pids}}


def redis_cpu(url: str) -> float:
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    finally:
        client.close()


def env_for(args: argparse.Namespace, data_dir: Path, *, janus: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PARLEY_CONFIG": os.devnull,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_SERVER_SECRET_KEY": "bench-secret",
        "PARLEY_SERVER_LOG_LEVEL": "warning",
        "PARLEY_DATABASE_URL": f"{args.database}/{args.db_name}",
        "PARLEY_REDIS_URL": args.redis,
        "PARLEY_BUS_REDIS_PREFIX": f"parley-bench-{os.getpid()}:",
        "PARLEY_INTERPRETATION_ENABLED": "false",
        "PARLEY_ANALYSIS_ENABLED": "false",
        "PARLEY_JANUS_ENABLED": "false",
        "PYTHONPATH": str(ROOT / "src"),
    }
    for key, value in (janus or {}).items():
        env[f"PARLEY_JANUS_{key.upper()}"] = value
    return env


# --- setup: dialogues, registrations, sessions, straight through the handlers ------------------


async def setup(args: argparse.Namespace, data_dir: Path, meetings: int) -> list[dict[str, Any]]:
    from parley.config import Config
    from parley.handlers.dialogues import Action, DialogueInput
    from parley.handlers.registration import RegistrationInput
    from parley.security import hash_token, new_token
    from parley.server import Server
    from parley.storage.models import AuthSession, Role, User

    server = Server(Config.load(env=env_for(args, data_dir)), schema="create")
    await server.start()
    now = datetime.now(UTC)
    try:
        async with server.db.session() as s:
            staff = [User(email=f"host{i}@bench.local", display_name=f"Host {i}", role=Role.FACILITATOR,
                          password_hash=None, created_at=now, disabled=False, credentials_version=1)
                     for i in range(meetings)]
            organiser = User(email="organiser@bench.local", display_name="Organiser", role=Role.ORGANISER,
                             password_hash=None, created_at=now, disabled=False, credentials_version=1)
            s.add_all([*staff, organiser])
        starts = (now + timedelta(days=3)).strftime("%Y-%m-%dT14:00")
        gate = asyncio.Semaphore(8)

        async def one(m: int) -> dict[str, Any]:
            async with gate:
                view = await server.dialogues.create(organiser, DialogueInput(
                    title=f"Bench dialogue {m}", starts_at=starts, time_zone="UTC", languages=["en", "fr"],
                    capacity=12, facilitator_id=staff[m].id))
                await server.dialogues.transition(organiser, view.id, Action.PUBLISH)
                users = [staff[m]]
                for k in range(1, PEOPLE):
                    outcome = await server.registrations.register(view.id, RegistrationInput(
                        display_name=f"Person {m}-{k}", email=f"p{m}-{k}@bench.local",
                        preferred_language="en" if k % 2 else "fr", country="SN", age_group="25-34",
                        gender="woman", education="secondary", consent_participate=True,
                        consent_transcript=True, consent_quotes=False), None)
                    users.append(outcome.user)
                return {"dialogue": view.id, "users": users}

        built = await asyncio.gather(*(one(m) for m in range(meetings)))
        plan: list[dict[str, Any]] = []
        async with server.db.session() as s:
            for meeting in built:
                people = []
                for user in meeting["users"]:
                    token, csrf = new_token(), new_token(24)
                    s.add(AuthSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf, created_at=now,
                                      expires_at=now + timedelta(days=1), last_seen_at=now))
                    people.append({"token": token, "csrf": csrf})
                plan.append({"m": len(plan), "dialogue": meeting["dialogue"], "people": people})
    finally:
        await server.stop()
    return plan


# --- a web process: Parley as `parley serve` runs it, counting SQL statements ------------------


def serve(port: int, counts_file: str) -> None:
    import uvicorn
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from parley.config import Config
    from parley.server import Server
    from parley.web.app import create_app

    counts: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        counts[statement.lstrip()[:6].upper()] += 1

    event.listen(Engine, "before_cursor_execute", count)

    def dump() -> None:
        path = Path(counts_file)
        while True:
            time.sleep(0.25)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(dict(counts)))
            tmp.replace(path)

    threading.Thread(target=dump, name="bench-statement-counts", daemon=True).start()
    app = create_app(Server(Config.load(), schema="none"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=8192, proxy_headers=False,
                log_config=None)


def read_counts(path: Path) -> Counter[str]:
    with contextlib.suppress(OSError, ValueError):
        return Counter(json.loads(path.read_text()))
    return Counter()


# --- a driver process: whole meetings, every person's two sockets --------------------------------


class Person:
    def __init__(self, meeting: Meeting, index: int, token: str, csrf: str, port: int) -> None:
        self.meeting = meeting
        self.index = index
        self.port = port
        self.headers = {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": csrf}
        self.ws_headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
        self.states: list[tuple[float, int]] = []  # (arrival, version) of every state frame
        self.chats: dict[int, float] = {}  # chat id -> arrival
        self.frames = 0
        self.hand = False
        self.muted = False
        self.info: dict[str, Any] = {}
        self.sockets: list[Any] = []
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}


class Meeting:
    def __init__(self, dialogue: int, people: list[dict[str, str]], m: int, ports: list[int]) -> None:
        self.dialogue = dialogue
        self.people = [Person(self, k, p["token"], p["csrf"], ports[(m + k) % len(ports)])
                       for k, p in enumerate(people)]
        self.changes: list[dict[str, Any]] = []


class Driver:
    def __init__(self, meetings: list[Meeting], clients: dict[int, Any]) -> None:
        self.meetings = meetings
        self.http = clients
        self.errors: Counter[str] = Counter()
        self.tasks: list[asyncio.Task[Any]] = []
        self.post_ms: dict[str, list[float]] = {}  # by endpoint
        self.retries = 0
        self.phases: Counter[str] = Counter()  # seconds spent bringing meetings up, by step

    async def post(self, person: Person, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        import httpx

        url = f"http://127.0.0.1:{person.port}/api/v1/meetings/{person.meeting.dialogue}{path}"
        started = time.monotonic()
        try:
            try:
                response = await self.http[person.port].post(url, json=body, headers=person.headers)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # The server closed an idle keep-alive connection as we reused it; browsers retry.
                self.retries += 1
                response = await self.http[person.port].post(url, json=body, headers=person.headers)
        except Exception as exc:
            self.errors[f"POST {path.split('/')[-1]}: {type(exc).__name__}"] += 1
            return None
        self.post_ms.setdefault(path.rsplit("/", 1)[-1], []).append((time.monotonic() - started) * 1000)
        if response.status_code >= 300:
            self.errors[f"POST {path.split('/')[-1]}: HTTP {response.status_code}"] += 1
            return None
        result: dict[str, Any] = response.json()
        return result

    async def bring_up(self, meeting: Meeting) -> bool:
        host, *others = meeting.people
        clock = time.monotonic()

        def phase(name: str) -> None:
            nonlocal clock
            now = time.monotonic()
            self.phases[name] += now - clock
            clock = now

        if await self.post(host, "/start") is None:
            return False
        phase("start")
        if await self.post(host, "/join", {"mode": "video", "consent": True}) is None:
            return False
        joined = await asyncio.gather(*(self.post(p, "/join", {"mode": "audio"}) for p in others))
        phase("join")
        if any(j is None for j in joined) or await self.post(host, "/admit-all") is None:
            return False
        phase("admit")
        infos = await asyncio.gather(*(self.post(p, "/me/connect") for p in meeting.people))
        phase("connect")
        for person, info in zip(meeting.people, infos, strict=True):
            if info is None:
                return False
            person.info = info
        opened = await asyncio.gather(*(self.open_sockets(p) for p in meeting.people))
        phase("sockets")
        return all(opened)

    async def open_sockets(self, person: Person) -> bool:
        from websockets.asyncio.client import connect

        base = f"ws://127.0.0.1:{person.port}"
        try:
            state = await connect(f"{base}/ws/meetings/{person.meeting.dialogue}", additional_headers=person.ws_headers,
                                  open_timeout=120, ping_interval=None, max_queue=None, compression=None)
            person.sockets.append(state)
            self.tasks.append(asyncio.create_task(self.read_state(person, state), name="bench-state-reader"))
            proxy = await connect(f"{base}{person.info['server']}", additional_headers=person.ws_headers,
                                  subprotocols=["janus-protocol"], open_timeout=120,  # type: ignore[list-item]
                                  ping_interval=None, max_queue=None, compression=None)
            person.sockets.append(proxy)
            self.tasks.append(asyncio.create_task(self.read_janus(person, proxy), name="bench-janus-reader"))
            token = person.info["token"]
            created = await self.janus(person, proxy, {"janus": "create", "token": token})
            session = created["data"]["id"]
            attached = await self.janus(person, proxy, {"janus": "attach", "session_id": session, "token": token,
                                                        "plugin": "janus.plugin.videoroom"})
            handle = attached["data"]["id"]
            base_msg = {"janus": "message", "session_id": session, "handle_id": handle, "token": token}
            joined = await self.janus(person, proxy, {**base_msg, "body": {
                "request": "join", "ptype": "publisher", "room": person.info["room_id"], "id": person.info["feed_id"],
                "pin": person.info["pin"], "display": f"person {person.index}", "token": token}})
            if joined.get("janus") != "event" or "error_code" in joined["plugindata"]["data"]:
                self.errors["janus join refused"] += 1
                return False
            await self.janus(person, proxy, {**base_msg, "body": {"request": "configure", "audio": True,
                                                                  "video": False}, "jsep": JSEP_OFFER})
            keepalive = self.keepalive(person, proxy, session, token)
            self.tasks.append(asyncio.create_task(keepalive, name="bench-keepalive"))
        except Exception as exc:
            self.errors[f"sockets: {type(exc).__name__}"] += 1
            return False
        return True

    async def janus(self, person: Person, proxy: Any, message: dict[str, Any]) -> dict[str, Any]:
        """One Janus request through the proxy; its final reply (the event after an ack)."""
        transaction = secrets.token_hex(6)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        person.pending[transaction] = future
        await proxy.send(json.dumps({**message, "transaction": transaction}))
        try:
            return await asyncio.wait_for(future, 120)
        finally:
            person.pending.pop(transaction, None)

    async def read_janus(self, person: Person, proxy: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in proxy:
                message = json.loads(raw)
                future = person.pending.get(message.get("transaction", ""))
                if future is not None and not future.done() and message.get("janus") != "ack":
                    future.set_result(message)

    async def keepalive(self, person: Person, proxy: Any, session: int, token: str) -> None:
        await asyncio.sleep(random.uniform(0, KEEPALIVE_S))
        while True:
            with contextlib.suppress(Exception):
                await proxy.send(json.dumps({"janus": "keepalive", "session_id": session, "token": token,
                                             "transaction": secrets.token_hex(6)}))
            await asyncio.sleep(KEEPALIVE_S)

    async def read_state(self, person: Person, ws: Any) -> None:
        """Cheap parsing: arrival time and version of state frames, id of chat frames."""
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.time()
                person.frames += 1
                if raw.startswith('{"type":"state"'):
                    at = raw.find('"version":')
                    if at != -1:
                        end = at + 10
                        while raw[end].isdigit():
                            end += 1
                        person.states.append((now, int(raw[at + 10:end])))
                elif raw.startswith('{"type":"chat"'):
                    at = raw.find('"id":')
                    end = raw.find(",", at)
                    person.chats[int(raw[at + 5:end])] = now

    async def act(self, meeting: Meeting, act_every: float, until: float) -> None:
        """Changes at random moments, one every ``act_every`` s on average."""
        await asyncio.sleep(random.uniform(0, act_every))
        while time.monotonic() < until:
            person = random.choice(meeting.people[1:])
            kind = random.choice(("hand", "chat", "status"))
            sent = time.time()
            if kind == "hand":
                person.hand = not person.hand
                reply = await self.post(person, "/me/hand", {"raised": person.hand})
            elif kind == "status":
                person.muted = not person.muted
                reply = await self.post(person, "/me/status", {"self_muted": person.muted})
            else:
                reply = await self.post(person, "/chat", {"body": "bench"})
            if reply is not None:
                key = "id" if kind == "chat" else "version"
                meeting.changes.append({"kind": kind, "by": person.index, "sent": sent, "key": reply[key]})
            await asyncio.sleep(random.expovariate(1 / act_every))

    def latencies(self) -> dict[str, Any]:
        per_delivery: dict[str, list[float]] = {"state": [], "chat": []}
        per_change: list[float] = []
        missing = 0
        for meeting in self.meetings:
            for change in meeting.changes:
                worst = 0.0
                for person in meeting.people:
                    if person.index == change["by"]:
                        continue
                    if change["kind"] == "chat":
                        arrived = person.chats.get(change["key"])
                    else:
                        arrived = next((t for t, v in person.states if v >= change["key"] and t >= change["sent"]),
                                       None)
                    if arrived is None:
                        missing += 1
                        continue
                    latency = arrived - change["sent"]
                    per_delivery["chat" if change["kind"] == "chat" else "state"].append(latency)
                    worst = max(worst, latency)
                per_change.append(worst)
        return {"state": per_delivery["state"], "chat": per_delivery["chat"], "per_change": per_change,
                "missing": missing}


async def driver_main(plan: list[dict[str, Any]], ports: list[int], concurrency: int, limit_s: float) -> None:
    import httpx

    meetings = [Meeting(m["dialogue"], m["people"], m["m"], ports) for m in plan]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    clients = {port: httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) for port in ports}
    driver = Driver(meetings, clients)
    gate = asyncio.Semaphore(concurrency)

    started = time.monotonic()
    skipped = 0

    async def up(meeting: Meeting) -> bool:
        nonlocal skipped
        async with gate:
            if time.monotonic() - started > limit_s:
                skipped += 1  # past --bring-up-limit: measure with the meetings that are up
                return False
            return await driver.bring_up(meeting)

    results = await asyncio.gather(*(up(m) for m in meetings))
    print(json.dumps({"ready": sum(results), "failed": len(results) - sum(results) - skipped, "skipped": skipped,
                      "seconds": time.monotonic() - started, "errors": dict(driver.errors),
                      "phases": dict(driver.phases), "post_ms": driver.post_ms}), flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)  # "go <duration> <act_every>"
    _, duration, act_every = line.split()
    driver.errors.clear()
    driver.post_ms.clear()
    for meeting in meetings:
        for person in meeting.people:
            person.frames = 0
    until = time.monotonic() + float(duration)
    live = [m for m, ok in zip(meetings, results, strict=True) if ok]
    await asyncio.gather(*(driver.act(m, float(act_every), until) for m in live))
    await asyncio.sleep(3.0)  # the last deliveries
    lat = driver.latencies()
    frames = sum(p.frames for m in live for p in m.people)
    print(json.dumps({"latency": lat, "errors": dict(driver.errors), "retries": driver.retries,
                      "post_ms": driver.post_ms, "changes": sum(len(m.changes) for m in live),
                      "frames": frames}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop"
    for task in driver.tasks:
        task.cancel()
    for meeting in meetings:
        for person in meeting.people:
            for ws in person.sockets:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2)
    for client in clients.values():
        await client.aclose()


# --- one size -------------------------------------------------------------------------------------


async def wait_healthy(port: int, proc: asyncio.subprocess.Process) -> None:
    import httpx

    async with httpx.AsyncClient(trust_env=False) as http:
        for _ in range(1200):
            if proc.returncode is not None:
                raise SystemExit(f"a web process exited ({proc.returncode})")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://127.0.0.1:{port}/api/v1/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit("a web process did not start")


async def stop_all(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def run_size(args: argparse.Namespace, meetings: int) -> dict[str, Any]:
    need = meetings * PEOPLE * 3 // 2 + 500
    if raise_fd_limit() < need:
        raise SystemExit(f"open-file limit {raise_fd_limit()} is below the {need} this size needs")
    work = Path(tempfile.mkdtemp(prefix="parley-bench-cp-"))
    await asyncio.to_thread(admin_sql, args.database, f"drop database if exists {args.db_name}",
                            f"create database {args.db_name}")
    procs: list[asyncio.subprocess.Process] = []
    drivers: list[asyncio.subprocess.Process] = []
    load_before = os.getloadavg()
    try:
        t0 = time.monotonic()
        plan = await setup(args, work, meetings)
        setup_s = time.monotonic() - t0
        node_port, admin_port = free_port(), free_port()
        secrets_ = {"api_secret": secrets.token_hex(8), "admin_secret": secrets.token_hex(8),
                    "admin_key": secrets.token_hex(8)}
        node = await asyncio.create_subprocess_exec(
            sys.executable, str(ME.parent / "janus_node.py"), "--port", str(node_port), "--admin-port", str(admin_port),
            "--api-secret", secrets_["api_secret"], "--admin-secret", secrets_["admin_secret"],
            "--admin-key", secrets_["admin_key"], "--talk-every", str(args.talk_every),
            stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        procs.append(node)
        assert node.stdout is not None
        await asyncio.wait_for(node.stdout.readline(), 60)
        janus = {**secrets_, "ws_url": f"ws://127.0.0.1:{node_port}",
                 "admin_url": f"http://127.0.0.1:{admin_port}/admin"}
        ports = [free_port() for _ in range(args.web)]
        webs = []
        for port in ports:
            web = await asyncio.create_subprocess_exec(
                sys.executable, str(ME), "--serve", str(port), str(work / f"statements-{port}.json"),
                env=env_for(args, work, janus=janus), cwd=ROOT)
            procs.append(web)
            webs.append(web)
        for port, web in zip(ports, webs, strict=True):
            await wait_healthy(port, web)
        await asyncio.sleep(2.0)
        rss_before = [rss_kib(w.pid) for w in webs]

        plan_file = work / "plan.json"
        await asyncio.to_thread(plan_file.write_text, json.dumps(plan))
        t1 = time.monotonic()
        up0 = {"web": sum(cpu_seconds(w.pid) for w in webs), "node": cpu_seconds(node.pid)}
        procs_n = max(1, min(args.procs, meetings))
        for i in range(procs_n):
            drivers.append(await asyncio.create_subprocess_exec(
                sys.executable, str(ME), "--drive", str(plan_file), str(i), str(procs_n), ",".join(map(str, ports)),
                str(args.concurrency), str(args.bring_up_limit),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
                limit=2**30))
        ready = [json.loads(await d.stdout.readline()) for d in drivers]  # type: ignore[union-attr]
        connect_s = time.monotonic() - t1
        bring_cpu = {"web": (sum(cpu_seconds(w.pid) for w in webs) - up0["web"]) / connect_s,
                     "node": (cpu_seconds(node.pid) - up0["node"]) / connect_s,
                     "drivers": sum(cpu_seconds(d.pid) for d in drivers) / connect_s}
        await asyncio.sleep(args.warmup)
        rss_connected = [rss_kib(w.pid) for w in webs]

        # --- the measured window ---
        watched = {"web": [w.pid for w in webs], "node": [node.pid], "drivers": [d.pid for d in drivers]}
        cpu0 = {pid: cpu_seconds(pid) for pids in watched.values() for pid in pids}
        counts0 = [read_counts(work / f"statements-{p}.json") for p in ports]
        pg0 = await asyncio.to_thread(pg_stats, args.database, args.db_name)
        redis0 = await asyncio.to_thread(redis_cpu, args.redis)
        w0 = time.monotonic()
        for d in drivers:
            d.stdin.write(f"go {args.duration} {args.act_every}\n".encode())  # type: ignore[union-attr]
            await d.stdin.drain()  # type: ignore[union-attr]
        await asyncio.sleep(args.duration)
        window = time.monotonic() - w0
        cpu1 = {pid: cpu_seconds(pid) for pid in cpu0}
        counts1 = [read_counts(work / f"statements-{p}.json") for p in ports]
        pg1 = await asyncio.to_thread(pg_stats, args.database, args.db_name)
        redis1 = await asyncio.to_thread(redis_cpu, args.redis)
        load_during = os.getloadavg()
        rss_after = [rss_kib(w.pid) for w in webs]
        reports = [json.loads(await d.stdout.readline()) for d in drivers]  # type: ignore[union-attr]
        for d in drivers:
            d.stdin.write(b"stop\n")  # type: ignore[union-attr]
            await d.stdin.drain()  # type: ignore[union-attr]
        await stop_all(drivers)
        await stop_all(webs)
        await stop_all([node])
        node_stats = json.loads((await node.stdout.read()).decode().strip().splitlines()[-1])["stats"]
    finally:
        await stop_all([*drivers, *procs])
        await asyncio.to_thread(shutil.rmtree, work, True)
        if not args.keep_db:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(admin_sql, args.database,
                                        f"drop database if exists {args.db_name} with (force)")

    minutes = window / 60
    up = max(1, sum(r["ready"] for r in ready))  # measures per meeting / participant count those up
    people = up * PEOPLE
    ready_meetings = sum(r["ready"] for r in ready)
    lat = {k: [x for r in reports for x in r["latency"][k]] for k in ("state", "chat", "per_change")}
    deliveries = lat["state"] + lat["chat"]
    posts = [x for r in reports for v in r["post_ms"].values() for x in v]
    bring_posts: dict[str, list[float]] = {}
    for r in ready:
        for kind, values in r["post_ms"].items():
            bring_posts.setdefault(kind, []).extend(values)
    statements = [counts1[i] - counts0[i] for i in range(len(ports))]
    all_statements: Counter[str] = sum(statements, Counter())
    pg_delta = {k: pg1["counters"][k] - pg0["counters"][k] for k in pg0["counters"]}
    pg_cpu = sum(pg1["backend_cpu"][pid] - pg0["backend_cpu"].get(pid, 0.0) for pid in pg1["backend_cpu"])
    cpu = {name: sum(cpu1[p] - cpu0[p] for p in pids) for name, pids in watched.items()}
    web_cpu_each = [cpu1[w.pid] - cpu0[w.pid] for w in webs]
    # person k of meeting m is on process (m + k) % len(ports): with 8 people and 2 processes, 4 each
    sockets_each = [up * PEOPLE * 2 // len(ports)] * len(ports)
    errors: Counter[str] = Counter()
    for r in [*ready, *reports]:
        errors.update(r["errors"])
    return {
        "meetings": meetings,
        "participants": meetings * PEOPLE,
        "meetings_up": ready_meetings,
        "meetings_failed": sum(r["failed"] for r in ready),
        "meetings_skipped": sum(r["skipped"] for r in ready),
        "errors": dict(errors),
        "window_s": window,
        "setup_s": setup_s,
        "bring_up_s": connect_s,
        "changes": sum(r["changes"] for r in reports),
        "bring_up_phases_s": dict(sum((Counter(r["phases"]) for r in ready), Counter())),
        "post_retries": sum(r["retries"] for r in reports),
        "frames_received": sum(r["frames"] for r in reports),
        "frames_per_socket_minute": sum(r["frames"] for r in reports) / max(1, ready_meetings * PEOPLE) / minutes,
        "media_node": node_stats,
        "deliveries": len(deliveries),
        "deliveries_missing": sum(r["latency"]["missing"] for r in reports),
        "latency_ms": {
            "p50": pct(deliveries, 0.5) * 1000, "p99": pct(deliveries, 0.99) * 1000,
            "max": max(deliveries, default=float("nan")) * 1000,
            "state_p50": pct(lat["state"], 0.5) * 1000, "state_p99": pct(lat["state"], 0.99) * 1000,
            "chat_p50": pct(lat["chat"], 0.5) * 1000, "chat_p99": pct(lat["chat"], 0.99) * 1000,
            "all_sockets_p50": pct(lat["per_change"], 0.5) * 1000,
            "all_sockets_p99": pct(lat["per_change"], 0.99) * 1000,
        },
        "post_ms": {"p50": pct(posts, 0.5), "p99": pct(posts, 0.99)},
        "bring_up_post_ms": {kind: {"n": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99)}
                             for kind, v in bring_posts.items()},
        "bring_up_cpu_cores": bring_cpu,
        "cpu_s": {**cpu, "postgres_backends": pg_cpu, "redis": redis1 - redis0},
        "cpu_cores": {name: value / window for name, value in
                      {**cpu, "postgres_backends": pg_cpu, "redis": redis1 - redis0}.items()},
        "web_cpu_cores_each": [c / window for c in web_cpu_each],
        "web_cpu_ms_per_participant_minute": cpu["web"] * 1000 / people / minutes,
        "web_rss_kib": {"before": rss_before, "connected": rss_connected, "after": rss_after},
        "web_sockets_each": sockets_each,
        "web_kib_per_socket": [(rss_connected[i] - rss_before[i]) / max(1, sockets_each[i])
                               for i in range(len(ports))],
        "statements": dict(all_statements),
        "statements_per_meeting_minute": sum(all_statements.values()) / up / minutes,
        "pg_stat_database": pg_delta,
        "transactions_per_meeting_minute": (pg_delta["xact_commit"] + pg_delta["xact_rollback"]) / up / minutes,
        "load_average": {"before": load_before, "during": load_during},
        "cpu_count": os.cpu_count(),
    }


def saturation(result: dict[str, Any]) -> str:
    """Which process ran out first, in words, from the measured CPU shares."""
    cores = result["cpu_cores"]
    busiest = max(cores, key=lambda k: cores[k])
    web_each = result["web_cpu_cores_each"]
    notes = [f"busiest: {busiest} {cores[busiest]:.2f} cores"]
    if max(web_each) > 0.85:
        notes.append("a web process near one core (its event loop is single-threaded)")
    total = sum(cores.values())
    if total > 0.85 * (result["cpu_count"] or 1):
        notes.append(f"box CPU {total:.2f} / {result['cpu_count']} cores")
    return "; ".join(notes)


def print_table(results: list[dict[str, Any]]) -> None:
    print("\ncontrol plane, meetings of 8 over two web processes "
          f"({results[0]['cpu_count']} CPUs, load average {results[0]['load_average']['before'][0]:.1f} before)")
    head = ("| meetings | people up | changes | delivery p50 / p99 ms | all 7 sockets p99 ms | POST p50 / p99 ms "
            "| web CPU ms per participant-min | web cores (each) | pg / redis / node / drivers cores "
            "| KiB per socket | SQL per meeting-min (tx) | errors | load |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in results:
        lat, cores = r["latency_ms"], r["cpu_cores"]
        print(f"| {r['meetings']:,} | {r['meetings_up'] * PEOPLE:,} / {r['participants']:,} | {r['changes']:,} "
              f"| {lat['p50']:.0f} / {lat['p99']:.0f} | {lat['all_sockets_p99']:.0f} "
              f"| {r['post_ms']['p50']:.0f} / {r['post_ms']['p99']:.0f} "
              f"| {r['web_cpu_ms_per_participant_minute']:.1f} "
              f"| {' + '.join(f'{c:.2f}' for c in r['web_cpu_cores_each'])} "
              f"| {cores['postgres_backends']:.2f} / {cores['redis']:.2f} / {cores['node']:.2f} "
              f"/ {cores['drivers']:.2f} "
              f"| {statistics.fmean(r['web_kib_per_socket']):.1f} "
              f"| {r['statements_per_meeting_minute']:.0f} ({r['transactions_per_meeting_minute']:.0f}) "
              f"| {sum(r['errors'].values()) + r['meetings_failed'] + r['deliveries_missing']} "
              f"| {r['load_average']['during'][0]:.1f} |")
    for r in results:
        print(f"  {r['meetings']} meetings: {saturation(r)}; statements {r['statements']}; "
              f"errors {r['errors'] or 'none'}; missing deliveries {r['deliveries_missing']}")


async def sweep(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for n in args.sizes:
        print(f"-- {n} meetings", flush=True)
        result = await run_size(args, n)
        result["saturation"] = saturation(result)
        results.append(result)
        print(json.dumps({k: result[k] for k in ("meetings", "meetings_up", "latency_ms", "cpu_cores", "errors")}),
              flush=True)
        bad = sum(result["errors"].values()) + result["meetings_failed"]
        if result["latency_ms"]["p99"] > args.max_p99 * 1000 or bad > 0.01 * max(1, result["changes"]):
            print(f"-- stopping the sweep: p99 {result['latency_ms']['p99']:.0f} ms, {bad} errors", flush=True)
            break
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", default="50,200,1000", help="sizes to sweep, comma-separated")
    parser.add_argument("--quick", action="store_true", help="2 meetings for 10 s: a smoke run")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of measured activity")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--act-every", type=float, default=10.0, help="mean seconds between changes per meeting")
    parser.add_argument("--talk-every", type=float, default=10.0, help="mean seconds between speaker changes per room")
    parser.add_argument("--web", type=int, default=2, help="web processes")
    parser.add_argument("--procs", type=int, default=2, help="driver processes")
    parser.add_argument("--concurrency", type=int, default=8, help="meetings brought up at once per driver")
    parser.add_argument("--bring-up-limit", type=float, default=900.0,
                        help="seconds; meetings not started by then are left out (the table says how many)")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432", help="server, no database")
    parser.add_argument("--db-name", default="parley_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--max-p99", type=float, default=5.0, help="stop the sweep after a size past this (s)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--drive", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if args.serve is not None:
        serve(int(args.serve[0]), args.serve[1])
        return
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        loop_factory = None
    if args.drive is not None:
        plan_file, index, procs, ports, concurrency, limit = args.drive
        plan = json.loads(Path(plan_file).read_text())
        i, n = int(index), int(procs)
        raise_fd_limit()
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(driver_main(plan[i::n], [int(p) for p in ports.split(",")], int(concurrency), float(limit)))
        return
    if args.quick:
        args.meetings, args.duration, args.warmup = "2", min(args.duration, 10.0), 1.0
        args.act_every = min(args.act_every, 2.0)
    args.sizes = [int(x) for x in args.meetings.split(",") if x.strip()]
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--meetings needs sizes of at least 1")
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(sweep(args))
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"control_plane_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"bench": "control_plane", "when": datetime.now(UTC).isoformat(timespec="seconds"),
                               "settings": {k: v for k, v in vars(args).items() if k not in ("serve", "drive", "out")},
                               "results": results}, indent=2, default=str))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
