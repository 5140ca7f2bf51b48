"""Meeting capacity: CPU and memory per audio participant, Janus vs a pure-Python relay.

    .venv/bin/python bench/meetings_capacity.py                       # rooms of 8, up to 3 rooms
    .venv/bin/python bench/meetings_capacity.py --max-rooms 6 --duration 20

Runs itself inside a private network namespace (lo + ifb jx0 with 127.0.0.2, as the media
tests do; needs root). For each system it adds rooms of ``--room-size`` aiortc audio
participants one at a time (each bot publishes a tone and subscribes to everyone else in
its room, like a browser), waits ``--warmup`` s, then measures for ``--duration`` s:

* janus:  one Parley process (`parley serve` as it runs: its supervised Janus, SQLite,
          meeting sockets open for every bot) -> CPU and RSS of Janus and of Parley;
* relay:  one Python process relaying with aiortc's MediaRelay (decode once, re-encode per
          receiver), the same bots -> CPU and RSS of the relay.

Packet delivery = RTP packets the bots received / packets expected (50 per second per
subscribed stream). A system's run stops when delivery drops below ``--min-delivery``, at
``--max-rooms``, or when the whole run passes ``--max-seconds``. The bots run in their own
processes (one per room) and load the same machine: on a small box they saturate first,
which the table shows as delivery dropping for both systems. Prints a table and writes
bench/results/meetings_capacity_<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ME = Path(__file__).resolve()
ROOT = ME.parents[1]
RESULTS = ROOT / "bench" / "results"
SESSION_COOKIE = "parley_session"
NETNS_ENV = "PARLEY_BENCH_NETNS"
NETNS_SETUP = ("ip link set lo up && ip link add jx0 type ifb && ip addr add 127.0.0.2/32 dev jx0 "
               "&& ip link set jx0 up")
PACKETS_PER_SECOND = 50  # Opus, 20 ms frames


# --- process measurements -----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- the bots' audio ---------------------------------------------------------------------------------


def tone_track(frequency: float) -> Any:
    """An audio track playing a tone (what a speaking participant costs an encoder)."""
    import numpy as np
    from aiortc.mediastreams import AudioStreamTrack
    from av import AudioFrame

    class Tone(AudioStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self._n = 0

        async def recv(self) -> Any:
            frame = await super().recv()  # paces at real time, 20 ms of silence
            t = (np.arange(960) + self._n) / 48_000
            self._n += 960
            wave = np.sin(2 * math.pi * frequency * t) * (0.6 + 0.4 * np.sin(2 * math.pi * t))
            samples = (0.2 * 32767 * wave).astype(np.int16)
            out = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            out.sample_rate = 48_000
            out.pts = frame.pts
            out.time_base = fractions.Fraction(1, 48_000)
            return out

    return Tone()


class Peer:
    """One bot: a publishing PeerConnection and a subscribing one."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.pcs: list[Any] = []
        self.drains: list[asyncio.Task[None]] = []
        self.feed = 0

    def new_pc(self) -> Any:
        import aiortc

        pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.drains.append(asyncio.create_task(self._drain(track), name=f"drain:{self.index}"))

        return pc

    @staticmethod
    async def _drain(track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def received(self) -> tuple[int, int]:
        """(inbound RTP streams, packets received so far)."""
        streams = packets = 0
        for pc in self.pcs:
            for stat in (await pc.getStats()).values():
                if getattr(stat, "type", "") == "inbound-rtp":
                    streams += 1
                    packets += int(stat.packetsReceived)
        return streams, packets

    async def close(self) -> None:
        for task in self.drains:
            task.cancel()
        for pc in self.pcs:
            with contextlib.suppress(Exception):
                await pc.close()


async def janus_room(room: dict[str, Any], base_url: str, janus_ws: str, peers: list[Peer]) -> list[Any]:
    """Join one meeting through Parley's API, then Janus: everyone publishes, then subscribes."""
    import aiortc
    import httpx
    from websockets.asyncio.client import connect

    from parley.media.janus.client import JanusClient

    keep: list[Any] = []
    infos: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as http:
        for who in room["participants"]:
            r = await http.post(f"/api/v1/meetings/{room['dialogue_id']}/me/connect",
                                cookies={SESSION_COOKIE: who["session"]}, headers={"X-CSRF-Token": who["csrf"]})
            r.raise_for_status()
            infos.append(r.json())
        for who in room["participants"]:
            await http.post(f"/api/v1/meetings/{room['dialogue_id']}/me/status", json={"presence": "online"},
                            cookies={SESSION_COOKIE: who["session"]}, headers={"X-CSRF-Token": who["csrf"]})
    handles = []
    for peer, info, who in zip(peers, infos, room["participants"], strict=True):
        # Each bot also keeps the meeting page's socket open, as a browser would.
        ws = await connect(base_url.replace("http", "ws") + f"/ws/meetings/{room['dialogue_id']}",
                           additional_headers={"Cookie": f"{SESSION_COOKIE}={who['session']}"})
        keep.append(ws)
        keep.append(asyncio.create_task(_drain_socket(ws), name="meeting-socket"))
        client = JanusClient.over_websocket(janus_ws, token=info["token"])
        await client.connect()
        keep.append(client)
        session = await client.create_session()
        handle = await session.attach("janus.plugin.videoroom")
        await handle.send({"request": "join", "ptype": "publisher", "room": info["room_id"], "id": info["feed_id"],
                           "display": f"bot{peer.index}", "token": info["token"]})
        pc = peer.new_pc()
        pc.addTrack(tone_track(200 + 40 * peer.index))
        await pc.setLocalDescription(await pc.createOffer())
        answer = await handle.send({"request": "publish", "audio": True, "video": False},
                                   jsep={"type": "offer", "sdp": pc.localDescription.sdp})
        assert answer.jsep is not None
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=answer.jsep["sdp"], type="answer"))
        peer.feed = info["feed_id"]
        handles.append((session, info))
    await asyncio.sleep(1)
    for peer, (session, info) in zip(peers, handles, strict=True):
        others = [{"feed": p.feed} for p in peers if p is not peer]
        sub = await session.attach("janus.plugin.videoroom")
        reply = await sub.send({"request": "join", "ptype": "subscriber", "room": info["room_id"], "streams": others,
                                "token": info["token"]})
        assert reply.jsep is not None, reply.data
        pc = peer.new_pc()
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=reply.jsep["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await sub.send({"request": "start"}, jsep={"type": "answer", "sdp": pc.localDescription.sdp})
    return keep


async def _drain_socket(ws: Any) -> None:
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


async def relay_call(port: int, message: dict[str, Any]) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(json.dumps(message).encode() + b"\n")
    await writer.drain()
    line = await reader.readline()
    writer.close()
    reply: dict[str, Any] = json.loads(line)
    return reply


async def relay_room(room_index: int, port: int, peers: list[Peer]) -> list[Any]:
    import aiortc

    for peer in peers:
        pc = peer.new_pc()
        pc.addTrack(tone_track(200 + 40 * peer.index))
        await pc.setLocalDescription(await pc.createOffer())
        reply = await relay_call(port, {"op": "publish", "room": room_index, "peer": peer.index,
                                        "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    await asyncio.sleep(1)
    for peer in peers:
        others = [p.index for p in peers if p is not peer]
        pc = peer.new_pc()
        for _ in others:
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        reply = await relay_call(port, {"op": "subscribe", "room": room_index, "peer": peer.index, "feeds": others,
                                        "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    return []


def _count_only_worker(loop: Any, input_q: Any, output_q: Any, decode_error: Any) -> None:
    """Stands in for aiortc's decoder thread: the bots count RTP packets (in getStats) but
    do not decode them, so the load generators cost less than what they load."""
    while input_q.get() is not None:
        pass
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)


async def bots_main(args: argparse.Namespace) -> None:
    """One room of bots in this process; answers "stats" and "stop" on stdin."""
    if not args.decode:
        import aiortc.rtcrtpreceiver

        aiortc.rtcrtpreceiver.decoder_worker = _count_only_worker
    setup = json.loads(await asyncio.to_thread(Path(args.setup).read_text))
    peers = [Peer(i) for i in range(args.room_size)]
    if args.system == "janus":
        keep = await janus_room(setup["rooms"][args.room], setup["base_url"], setup["janus_ws"], peers)
    else:
        keep = await relay_room(args.room, setup["relay_port"], peers)
    print(json.dumps({"ready": True}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "stats":
            totals = [await p.received() for p in peers]
            print(json.dumps({"streams": sum(s for s, _ in totals), "packets": sum(n for _, n in totals)}), flush=True)
        else:
            break
    for peer in peers:
        await peer.close()
    for item in keep:
        with contextlib.suppress(Exception):
            if isinstance(item, asyncio.Task):
                item.cancel()
            elif hasattr(item, "close"):
                result = item.close()
                if asyncio.iscoroutine(result):
                    await asyncio.wait_for(result, 5)


# --- the pure-Python relay ------------------------------------------------------------------------


async def relay_main(args: argparse.Namespace) -> None:
    import aiortc
    from aiortc.contrib.media import MediaRelay

    relay = MediaRelay()
    sources: dict[tuple[int, int], Any] = {}
    pcs: list[Any] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        message = json.loads(await reader.readline())
        pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
        pcs.append(pc)
        key = (message["room"], message["peer"])
        if message["op"] == "publish":
            @pc.on("track")
            def on_track(track: Any) -> None:
                sources[key] = track

            await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=message["sdp"], type="offer"))
        else:
            await pc.setRemoteDescription(aiortc.RTCSessionDescription(sdp=message["sdp"], type="offer"))
            for transceiver, feed in zip(pc.getTransceivers(), message["feeds"], strict=True):
                transceiver.direction = "sendonly"
                transceiver.sender.replaceTrack(relay.subscribe(sources[(message["room"], feed)], buffered=False))
        await pc.setLocalDescription(await pc.createAnswer())
        writer.write(json.dumps({"sdp": pc.localDescription.sdp}).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    for pc in pcs:
        with contextlib.suppress(Exception):
            await pc.close()


# --- Parley with its Janus -----------------------------------------------------------------------


async def serve_main(args: argparse.Namespace) -> None:
    """`parley serve` in miniature, with N meetings of room_size admitted participants set up."""
    import uvicorn

    from parley.config import Config
    from parley.handlers.dialogues import Action, DialogueInput
    from parley.handlers.meetings import JoinInput
    from parley.handlers.registration import RegistrationInput
    from parley.server import Server
    from parley.storage.models import Role
    from parley.web.app import create_app

    data = Path(args.data)
    config = Config.load(env={}, overrides={
        "server": {"data_dir": str(data), "secret_key": "bench-secret", "log_level": "warning"},
        "database": {"url": f"sqlite:///{data / 'parley.sqlite3'}"},
        "janus": {"enabled": True, "ice_enforce_list": "jx0", "work_dir": str(data / "janus"),
                  "rtp_port_min": 20000, "rtp_port_max": 29999},
        "interpretation": {"enabled": False},
    })
    server = Server(config, schema="create")
    await server.start()
    assert server.janus is not None and server.janus.process is not None
    organiser = await server.accounts.create_user(email="o@bench.org", display_name="Organiser", role=Role.ORGANISER,
                                                  password=None)
    facilitator = await server.accounts.create_user(email="f@bench.org", display_name="Facilitator",
                                                    role=Role.FACILITATOR, password=None)
    rooms = []
    starts = time.strftime("%Y-%m-%dT14:00", time.gmtime(time.time() + 3 * 86400))
    for r in range(args.rooms):
        view = await server.dialogues.create(organiser, DialogueInput(
            title=f"Capacity room {r + 1}", starts_at=starts, time_zone="UTC", languages=["en"],
            capacity=args.room_size, facilitator_id=facilitator.id,
        ))
        await server.dialogues.transition(organiser, view.id, Action.PUBLISH)
        people = []
        for i in range(args.room_size):
            outcome = await server.registrations.register(view.id, RegistrationInput(
                display_name=f"Bot {r}-{i}", email=f"bot{r}-{i}@bench.org", preferred_language="en", country="FR",
                age_group="35-44", gender="woman", education="unstated", consent_participate=True,
                consent_transcript=True,
            ), None)
            people.append(outcome.user)
        await server.meetings.start_meeting(facilitator, view.id)
        sessions = []
        for user in people:
            await server.meetings.join(user, view.id, JoinInput(mode="audio"))
            login = await server.accounts.start_session(user)
            sessions.append({"session": login.token, "csrf": login.csrf_token})
        await server.meetings.admit_all(facilitator, view.id)
        rooms.append({"dialogue_id": view.id, "participants": sessions})
    setup = json.dumps({
        "rooms": rooms, "base_url": f"http://127.0.0.1:{args.port}", "janus_ws": server.janus.upstream_url,
        "janus_pid": server.janus.process.health.pid, "parley_pid": os.getpid(),
    })
    await asyncio.to_thread(Path(args.setup).write_text, setup)
    uv = uvicorn.Server(uvicorn.Config(create_app(server), host="127.0.0.1", port=args.port, lifespan="off",
                                       log_level="warning"))
    # uvicorn re-raises the signal that stopped it once it is done; make that a no-op so the
    # `finally` below stops Parley and its Janus cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        await uv.serve()
    finally:
        await server.stop()


# --- the driver ---------------------------------------------------------------------------------------


class Child:
    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def read(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"child {self.proc.args!r} exited with {self.proc.poll()}")
            with contextlib.suppress(ValueError):
                value: dict[str, Any] = json.loads(line)
                return value
        raise TimeoutError("child did not answer")

    def ask(self, command: str, deadline: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read(deadline)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_for_file(path: Path, deadline: float) -> None:
    while not path.exists() or not path.stat().st_size:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.2)


def run_system(system: str, args: argparse.Namespace, work: Path, budget_end: float) -> list[dict[str, Any]]:
    python = sys.executable
    setup = work / f"{system}.json"
    servers: list[subprocess.Popen[str]] = []
    bots: list[Child] = []
    rows: list[dict[str, Any]] = []
    try:
        if system == "janus":
            data = work / "data"
            data.mkdir()
            srv = subprocess.Popen([python, str(ME), "serve", "--data", str(data), "--setup", str(setup),
                                    "--rooms", str(args.max_rooms), "--room-size", str(args.room_size),
                                    "--port", str(args.port)], cwd=ROOT, text=True)
            servers.append(srv)
            wait_for_file(setup, time.monotonic() + 120)
            info = json.loads(setup.read_text())
            watched = {"janus": int(info["janus_pid"]), "parley": int(info["parley_pid"])}
        else:
            relay = Child([python, str(ME), "relay", "--port", str(args.port + 1)])
            servers.append(relay.proc)
            ready = relay.read(time.monotonic() + 60)
            setup.write_text(json.dumps({"relay_port": args.port + 1}))
            watched = {"relay": int(ready["pid"])}
        for room in range(args.max_rooms):
            if time.monotonic() > budget_end:
                print(f"  {system}: time budget reached", flush=True)
                break
            child = Child([python, str(ME), "bots", "--system", system, "--setup", str(setup), "--room", str(room),
                           "--room-size", str(args.room_size)])
            bots.append(child)
            child.read(time.monotonic() + 120)
            time.sleep(args.warmup)
            deadline = time.monotonic() + 60
            before = [b.ask("stats", deadline) for b in bots]
            cpu0 = {k: cpu_seconds(p) for k, p in watched.items()}
            t0 = time.monotonic()
            time.sleep(args.duration)
            elapsed = time.monotonic() - t0
            cpu1 = {k: cpu_seconds(p) for k, p in watched.items()}
            after = [b.ask("stats", time.monotonic() + 60) for b in bots]
            streams = sum(a["streams"] for a in after)
            received = sum(a["packets"] - b["packets"] for a, b in zip(after, before, strict=True))
            expected_streams = len(bots) * args.room_size * (args.room_size - 1)
            expected = expected_streams * PACKETS_PER_SECOND * elapsed
            participants = len(bots) * args.room_size
            row: dict[str, Any] = {
                "system": system, "rooms": len(bots), "participants": participants,
                "subscribed_streams": expected_streams, "inbound_streams_seen": streams,
                "delivery": round(min(1.0, received / expected) if expected else 0.0, 4),
                "load_average": load_average(),
            }
            delivered_streams = received / (PACKETS_PER_SECOND * elapsed)
            row["delivered_streams"] = round(delivered_streams, 1)
            for name, pid in watched.items():
                cores = (cpu1[name] - cpu0[name]) / elapsed
                row[f"{name}_cpu_percent"] = round(100 * cores, 2)
                row[f"{name}_cpu_percent_per_participant"] = round(100 * cores / participants, 3)
                # What was actually delivered, per core: a saturated server gets no credit for load it dropped.
                row[f"{name}_cpu_percent_per_delivered_stream"] = (
                    round(100 * cores / delivered_streams, 3) if delivered_streams else None)
                row[f"{name}_participants_per_core"] = (
                    round(participants * row["delivery"] / cores, 1) if cores > 0 else None)
                row[f"{name}_rss_mib"] = round(rss_mib(pid), 1)
            rows.append(row)
            print("  " + json.dumps(row), flush=True)
            if row["delivery"] < args.min_delivery:
                print(f"  {system}: delivery dropped below {args.min_delivery}", flush=True)
                break
    finally:
        for child in bots:
            child.stop()
        for proc in servers:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| system | rooms x size | streams asked / delivered | delivery | server CPU % of a core "
             "| CPU % per participant | CPU % per delivered stream | participants per core (x delivery) "
             "| server RSS MiB | Parley CPU % | Parley RSS MiB | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        key = "janus" if r["system"] == "janus" else "relay"
        size = r["participants"] // r["rooms"]
        lines.append(
            f"| {r['system']} | {r['rooms']} x {size} | {r['subscribed_streams']} / {r['delivered_streams']} "
            f"| {100 * r['delivery']:.1f}% | {r[f'{key}_cpu_percent']} | {r[f'{key}_cpu_percent_per_participant']} "
            f"| {r[f'{key}_cpu_percent_per_delivered_stream']} | {r[f'{key}_participants_per_core']} "
            f"| {r[f'{key}_rss_mib']} | {r.get('parley_cpu_percent', '-')} | {r.get('parley_rss_mib', '-')} "
            f"| {r['load_average']} |"
        )
    return "\n".join(lines)


def drive(args: argparse.Namespace) -> None:
    budget_end = time.monotonic() + args.max_seconds
    work = Path(tempfile.mkdtemp(prefix="parley-capacity-"))
    rows: list[dict[str, Any]] = []
    try:
        for system in args.systems:
            print(f"{system}: rooms of {args.room_size}, up to {args.max_rooms} rooms", flush=True)
            rows.extend(run_system(system, args, work, budget_end))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = []
    for janus_row in (r for r in rows if r["system"] == "janus"):
        relay_row = next((r for r in rows if r["system"] == "relay" and r["rooms"] == janus_row["rooms"]), None)
        if relay_row and janus_row["janus_cpu_percent"] > 0 and relay_row["relay_cpu_percent_per_delivered_stream"]:
            ratios.append({
                "rooms": janus_row["rooms"],
                "relay_cpu_over_janus_cpu": round(relay_row["relay_cpu_percent"] / janus_row["janus_cpu_percent"], 1),
                "per_delivered_stream": round(relay_row["relay_cpu_percent_per_delivered_stream"]
                                              / janus_row["janus_cpu_percent_per_delivered_stream"], 1),
            })
    print()
    print(table(rows))
    for ratio in ratios:
        print(f"rooms={ratio['rooms']}: the Python relay used {ratio['relay_cpu_over_janus_cpu']}x Janus's CPU, "
              f"{ratio['per_delivered_stream']}x per delivered stream")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"meetings_capacity_{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "func"}, "rows": rows,
                               "ratios": ratios, "cpus": os.cpu_count()}, indent=2))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--room-size", type=int, default=8)
    parser.add_argument("--max-rooms", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per step")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--min-delivery", type=float, default=0.95)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--systems", nargs="+", default=["janus", "relay"], choices=["janus", "relay"])
    serve = sub.add_parser("serve")
    serve.add_argument("--data", required=True)
    serve.add_argument("--setup", required=True)
    serve.add_argument("--rooms", type=int, required=True)
    serve.add_argument("--room-size", type=int, required=True)
    serve.add_argument("--port", type=int, required=True)
    relay = sub.add_parser("relay")
    relay.add_argument("--port", type=int, required=True)
    bots = sub.add_parser("bots")
    bots.add_argument("--system", required=True)
    bots.add_argument("--setup", required=True)
    bots.add_argument("--room", type=int, required=True)
    bots.add_argument("--room-size", type=int, required=True)
    bots.add_argument("--decode", action="store_true", help="decode received audio too (like a real client)")
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(serve_main(args))
    elif args.command == "relay":
        asyncio.run(relay_main(args))
    elif args.command == "bots":
        asyncio.run(bots_main(args))
    elif os.environ.get(NETNS_ENV) != "1":
        if shutil.which("unshare") is None or shutil.which("ip") is None:
            sys.exit("needs unshare and ip (util-linux, iproute2) and root")
        os.execvpe("unshare", ["unshare", "-n", "--", "sh", "-c", f'{NETNS_SETUP} && exec "$@"', "netns",
                               sys.executable, str(ME), *sys.argv[1:]], {**os.environ, NETNS_ENV: "1"})
    else:
        drive(args)


if __name__ == "__main__":
    main()
