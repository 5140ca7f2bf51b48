"""A fake media node for control-plane benchmarks: Janus's WebSocket and Admin APIs, no media.

    .venv/bin/python bench/janus_node.py --port 8188 --admin-port 7088 \
        --api-secret S --admin-secret A --admin-key K [--talk-every 10]

Parley runs against it as an "external Janus" (``janus.enabled = false`` with the three
secrets and ``janus.ws_url`` / ``janus.admin_url`` pointing here). The protocol logic is the
in-memory fake the tests use (`tests.fakes.janus.FakeJanus`: sessions, handles, transactions,
ack-then-event for asynchronous requests, stored tokens, VideoRoom and TextRoom requests);
this file puts it behind real sockets and adds what a room full of people makes a real Janus
send, so that Parley's monitor participant sees the same event traffic:

* ``configure`` from a publisher (the browser's publish) -> ``publishers`` to the room;
* a connection that closes -> ``leaving`` to the room for each of its participants;
* every ``--talk-every`` seconds per room (on average) the speaker changes: ``stopped-talking``
  for the previous one, ``talking`` for a random publisher, to every handle in the room.

Admin API (HTTP POST, ``admin_secret``): add_token, remove_token, list_tokens, allow_token,
disallow_token, info. Nothing is logged; one JSON line of counters goes to stdout on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.fakes.janus import FakeConnection, FakeJanus, FakeVideoRoom, JsonObject, Reply  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from parley.media.janus.service import MONITOR_ID_LIMIT  # noqa: E402

_CLOSED_KIND = "__closed__"


class _Discard(list[JsonObject]):
    """`FakeJanus.received` keeps every request for tests; a benchmark must not."""

    def append(self, item: JsonObject) -> None:
        return None


class NodeVideoRoom(FakeVideoRoom):
    """The fake VideoRoom plus who sits in which room, so events can reach everyone in it."""

    def __init__(self, janus: FakeJanus) -> None:
        super().__init__(janus)
        # room -> participant id -> (session id, handle id), and back
        self.members: dict[int, dict[int, tuple[int, int]]] = {}
        self.seats: dict[tuple[int, int], tuple[int, int]] = {}

    def do_join(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_join(session_id, handle_id, body)
        room_id, pid = reply.data["room"], reply.data["id"]
        room = self.rooms[room_id]
        reply.data["publishers"] = [
            {"id": p["id"], "display": p.get("display"), "streams": [{"type": "audio", "mid": "0"}]}
            for p in room.participants.values() if p.get("publisher") and p["id"] != pid and p.get("published")
        ]
        self.members.setdefault(room_id, {})[pid] = (session_id, handle_id)
        self.seats[(session_id, handle_id)] = (room_id, pid)
        return reply

    def do_configure(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        """A publisher's publish: tell the room it publishes one audio stream."""
        found = self.seats.get((session_id, handle_id))
        if found is None:
            return Reply({"videoroom": "event", "error_code": 424, "error": "not joined"}, asynchronous=True)
        room_id, pid = found
        participant = self.rooms[room_id].participants.get(pid)
        if participant is not None:
            participant["published"] = True
            self.broadcast(room_id, {"videoroom": "event", "room": room_id, "publishers": [
                {"id": pid, "display": participant.get("display"), "streams": [{"type": "audio", "mid": "0"}]}]},
                but=pid)
        answer = {"type": "answer", "sdp": "v=0\r\n"} if "jsep" in body else None
        return Reply({"videoroom": "event", "room": room_id, "configured": "ok"}, asynchronous=True, jsep=answer)

    def do_enable_recording(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        return Reply({"videoroom": "success", "room": room.id, "record": bool(body.get("record"))})

    def do_destroy(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_destroy(session_id, handle_id, body)
        for seat in self.members.pop(reply.data["room"], {}).values():
            self.seats.pop(seat, None)
        return reply

    def do_kick(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_kick(session_id, handle_id, body)
        room_id = body["room"]
        seat = self.members.get(room_id, {}).pop(body["id"], None)
        if seat is not None:
            self.seats.pop(seat, None)
        self.broadcast(room_id, {"videoroom": "event", "room": room_id, "kicked": body["id"]})
        return reply

    def broadcast(self, room_id: int, data: JsonObject, *, but: int | None = None) -> None:
        for pid, (session_id, handle_id) in list(self.members.get(room_id, {}).items()):
            if pid == but:
                continue
            session = self.janus.sessions.get(session_id)
            if session is None or handle_id not in session.handles:
                continue
            self.janus.push_event(session_id, handle_id, data)
            self.janus.stats["events"] += 1  # type: ignore[attr-defined]

    def gone(self, handles: set[tuple[int, int]]) -> None:
        """The handles of a closed connection leave their rooms, as Janus does."""
        for seat in handles:
            found = self.seats.pop(seat, None)
            if found is None:
                continue
            room_id, pid = found
            self.members.get(room_id, {}).pop(pid, None)
            room = self.rooms.get(room_id)
            if room is not None:
                room.participants.pop(pid, None)
            self.broadcast(room_id, {"videoroom": "event", "room": room_id, "leaving": pid})


class MediaNode(FakeJanus):
    def __init__(self, *, api_secret: str, admin_secret: str, admin_key: str) -> None:
        super().__init__(api_secret=api_secret, admin_key=admin_key, tokens={})
        self.admin_secret = admin_secret
        self.received = _Discard()
        self.videoroom = NodeVideoRoom(self)
        self.plugins[self.videoroom.package] = self.videoroom
        self.stats: Counter[str] = Counter()
        self.speaking: dict[int, int] = {}

    def _receive(self, connection: FakeConnection, message: JsonObject) -> None:
        self.stats["requests"] += 1
        body = message.get("body")
        request = body.get("request") if isinstance(body, dict) else None
        self.stats[f"{message.get('janus')}:{request}" if request else str(message.get("janus"))] += 1
        super()._receive(connection, message)

    def _disconnect(self, connection: FakeConnection) -> None:
        mine = {(s.id, h) for s in self.sessions.values() if s.connection is connection for h in s.handles}
        super()._disconnect(connection)
        self.videoroom.gone(mine)

    # --- the Admin API ------------------------------------------------------------------------

    def admin(self, message: JsonObject) -> JsonObject:
        self.stats["admin"] += 1
        kind = message.get("janus")
        base = {"transaction": message.get("transaction")}
        if self.admin_secret and message.get("admin_secret") != self.admin_secret:
            return {**base, "janus": "error", "error": {"code": 403, "reason": "Unauthorized request"}}
        tokens = self.tokens if self.tokens is not None else {}
        token = str(message.get("token", ""))
        plugins = [str(p) for p in message.get("plugins") or []]
        if kind == "info":
            return {**base, "janus": "server_info", "name": "Parley bench media node", "version": 1102}
        if kind == "add_token":
            tokens[token] = set(plugins or self.plugins)
            return {**base, "janus": "success", "data": {"plugins": sorted(tokens[token])}}
        if kind in ("allow_token", "disallow_token"):
            if token not in tokens:
                return {**base, "janus": "error", "error": {"code": 470, "reason": "Token not found"}}
            if kind == "allow_token":
                tokens[token] |= set(plugins)
            else:
                tokens[token] -= set(plugins)
            return {**base, "janus": "success", "data": {"plugins": sorted(tokens[token])}}
        if kind == "remove_token":
            if tokens.pop(token, None) is None:
                return {**base, "janus": "error", "error": {"code": 490, "reason": "Error removing token"}}
            return {**base, "janus": "success"}
        if kind == "list_tokens":
            return {**base, "janus": "success", "data": {"tokens": [
                {"token": t, "allowed_plugins": sorted(p)} for t, p in tokens.items()]}}
        return {**base, "janus": "error", "error": {"code": 453, "reason": f"Unknown request '{kind}'"}}

    # --- speakers ---------------------------------------------------------------------------------

    def change_speakers(self, talk_every: float, tick: float) -> None:
        """Each room with publishers changes speaker with probability tick / talk_every."""
        for room_id, room in self.videoroom.rooms.items():
            if random.random() >= tick / talk_every:
                continue
            speakers = [pid for pid, p in room.participants.items()
                        if p.get("published") and pid >= MONITOR_ID_LIMIT]
            before = self.speaking.pop(room_id, None)
            if before is not None and before in room.participants:
                self.videoroom.broadcast(room_id, {"videoroom": "stopped-talking", "room": room_id, "id": before,
                                                   "audio-level-dBov-avg": -60})
            if speakers:
                now = random.choice(speakers)
                self.speaking[room_id] = now
                self.videoroom.broadcast(room_id, {"videoroom": "talking", "room": room_id, "id": now,
                                                   "audio-level-dBov-avg": -30})
            self.stats["speaker_changes"] += 1


async def websocket_session(node: MediaNode, ws: ServerConnection) -> None:
    connection = node._connect()
    node.stats["connections"] += 1

    async def pump() -> None:
        while True:
            message = await connection.inbox.get()
            if message.get("janus") == _CLOSED_KIND:
                return
            await ws.send(json.dumps(message, separators=(",", ":")))

    sender = asyncio.create_task(pump(), name="node-pump")
    try:
        async for raw in ws:
            with contextlib.suppress(ValueError):
                message = json.loads(raw)
                if isinstance(message, dict):
                    node._receive(connection, message)
    except ConnectionClosed:
        pass
    finally:
        connection.cut()
        node._disconnect(connection)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await sender


async def admin_http(node: MediaNode, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough HTTP/1.1 for JanusAdmin (httpx, keep-alive, JSON bodies)."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            try:
                message = json.loads(body or b"{}")
                reply = node.admin(message if isinstance(message, dict) else {})
            except ValueError:
                reply = {"janus": "error", "error": {"code": 454, "reason": "not JSON"}}
            data = json.dumps(reply).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(data)).encode() + b"\r\n\r\n" + data)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
        pass  # the client went away, or the node is stopping
    finally:
        writer.close()


async def main(args: argparse.Namespace) -> None:
    node = MediaNode(api_secret=args.api_secret, admin_secret=args.admin_secret, admin_key=args.admin_key)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def speakers() -> None:
        tick = 1.0
        while True:
            await asyncio.sleep(tick)
            if args.talk_every > 0:
                node.change_speakers(args.talk_every, tick)

    admin = await asyncio.start_server(lambda r, w: admin_http(node, r, w), "127.0.0.1", args.admin_port,
                                       backlog=1024)
    async with serve(lambda ws: websocket_session(node, ws), "127.0.0.1", args.port,
                     subprotocols=["janus-protocol"], max_size=4 * 1024 * 1024, ping_interval=None,
                     compression=None, backlog=8192):  # type: ignore[list-item]
        ticker = asyncio.create_task(speakers(), name="node-speakers")
        print(json.dumps({"ready": True}), flush=True)
        await stop.wait()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    admin.close()
    out: dict[str, Any] = dict(node.stats)
    out["rooms"] = len(node.videoroom.rooms)
    print(json.dumps({"stats": out}), flush=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--admin-secret", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--talk-every", type=float, default=10.0,
                        help="mean seconds between speaker changes per room (0: never)")
    return parser.parse_args()


if __name__ == "__main__":
    try:
        import uvloop

        runner_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        runner_factory = None
    with asyncio.Runner(loop_factory=runner_factory) as runner:
        runner.run(main(parse()))
