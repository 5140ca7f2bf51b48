"""A fake Janus: the core API in memory, with small VideoRoom and TextRoom plugins.

It checks the API secret or stored tokens like the real one, answers synchronous plugin
requests with ``success`` and asynchronous ones (``join``) with ``ack`` then ``event``, and
lets a test stay silent on chosen requests (timeouts), push events, expire a session or cut
the connection. Replies follow the Janus 1.1 shapes measured against the real server.

    janus = FakeJanus(api_secret="s", admin_key="k")
    client = JanusClient(janus.transport(), api_secret="s", clock=clock)
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from parley.media.janus.client import JanusTransport, JsonObject, TransportClosed

_CLOSED: JsonObject = {"janus": "__closed__"}


@dataclass
class Reply:
    """What a fake plugin answers: ``data`` now, or (asynchronous) an ack then an event."""

    data: JsonObject
    asynchronous: bool = False
    jsep: JsonObject | None = None


def _id(body: JsonObject, key: str) -> int:
    value = body.get(key)
    return value if isinstance(value, int) else -1


class PluginFailure(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FakePlugin:
    package = ""
    name = ""

    def __init__(self, janus: FakeJanus) -> None:
        self.janus = janus

    def handle(self, session_id: int, handle_id: int, body: JsonObject, jsep: JsonObject | None) -> Reply:
        request = body.get("request")
        method = getattr(self, f"do_{request}", None)
        if method is None:
            raise PluginFailure(self.unknown_request, f"Unknown request '{request}'")
        result: Reply = method(session_id, handle_id, body)
        return result

    unknown_request = 499

    def error(self, code: int, reason: str) -> JsonObject:
        return {self.name: "event", "error_code": code, "error": reason}


@dataclass
class FakeRoom:
    id: int
    secret: str | None
    pin: str | None = None
    description: str = ""
    participants: dict[int, JsonObject] = field(default_factory=dict)
    forwarders: dict[int, dict[int, JsonObject]] = field(default_factory=dict)
    allowed: set[str] | None = None
    announcements: list[str] = field(default_factory=list)
    muted: set[tuple[int, str]] = field(default_factory=set)


class _Rooms(FakePlugin):
    no_such_room = 0
    room_exists = 0
    unauthorized = 0

    def __init__(self, janus: FakeJanus) -> None:
        super().__init__(janus)
        self.rooms: dict[int, FakeRoom] = {}
        self._ids = itertools.count(10_000)

    def _room(self, body: JsonObject, *, modify: bool = False) -> FakeRoom:
        room = self.rooms.get(_id(body, "room"))
        if room is None:
            raise PluginFailure(self.no_such_room, f"No such room ({body.get('room')})")
        if modify and room.secret is not None and body.get("secret") != room.secret:
            raise PluginFailure(self.unauthorized, "Unauthorized (wrong secret)")
        return room

    def _admin(self, body: JsonObject) -> None:
        if self.janus.admin_key and body.get("admin_key") != self.janus.admin_key:
            raise PluginFailure(self.unauthorized, "Unauthorized (wrong admin_key)")

    def do_create(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        self._admin(body)
        room_id = body.get("room") or next(self._ids)
        if room_id in self.rooms:
            raise PluginFailure(self.room_exists, f"Room {room_id} already exists")
        allowed = body.get("allowed")
        self.rooms[room_id] = FakeRoom(
            id=room_id, secret=body.get("secret"), pin=body.get("pin"),
            description=body.get("description", ""), allowed=set(allowed) if allowed is not None else None,
        )
        return Reply({self.name: "created", "room": room_id, "permanent": False})

    def do_destroy(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        del self.rooms[room.id]
        return Reply({self.name: "destroyed", "room": room.id, "permanent": False})

    def do_exists(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        return Reply({self.name: "success", "room": body.get("room"), "exists": body.get("room") in self.rooms})

    def do_allowed(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        action = body.get("action")
        if action == "enable":
            room.allowed = room.allowed or set()
        elif action == "disable":
            room.allowed = None
        elif action == "add":
            room.allowed = (room.allowed or set()) | set(body.get("allowed", []))
        elif action == "remove":
            room.allowed = (room.allowed or set()) - set(body.get("allowed", []))
        data: JsonObject = {self.name: "success", "room": room.id}
        if action != "disable":
            data["allowed"] = sorted(room.allowed or ())
        return Reply(data)


class FakeVideoRoom(_Rooms):
    package = "janus.plugin.videoroom"
    name = "videoroom"
    no_such_room = 426
    room_exists = 427
    no_such_feed = 428
    unauthorized = 433

    def _publisher(self, room: FakeRoom, publisher_id: int) -> JsonObject:
        participant = room.participants.get(publisher_id)
        if participant is None or not participant.get("publisher"):
            raise PluginFailure(self.no_such_feed, f"No such feed ({publisher_id})")
        return participant

    def do_edit(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        if "new_description" in body:
            room.description = body["new_description"]
        if "new_pin" in body:
            room.pin = body["new_pin"]
        return Reply({"videoroom": "edited", "room": room.id})

    def do_list(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        return Reply({"videoroom": "success", "list": [{"room": r.id, "description": r.description}
                                                        for r in self.rooms.values()]})

    def do_listparticipants(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body)
        return Reply({"videoroom": "participants", "room": room.id, "participants": list(room.participants.values())})

    def do_kick(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        if room.participants.pop(_id(body, "id"), None) is None:
            raise PluginFailure(self.no_such_feed, f"No such user {body.get('id')} in room {room.id}")
        room.forwarders.pop(_id(body, "id"), None)
        return Reply({"videoroom": "success"})

    def do_moderate(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        if body.get("id") not in room.participants:
            raise PluginFailure(self.no_such_feed, f"No such user {body.get('id')} in room {room.id}")
        key = (int(body["id"]), str(body.get("mid")))
        if body.get("mute"):
            room.muted.add(key)
        else:
            room.muted.discard(key)
        return Reply({"videoroom": "success"})

    def do_rtp_forward(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        self._admin(body)
        room = self._room(body, modify=True)
        publisher_id = _id(body, "publisher_id")
        self._publisher(room, publisher_id)
        created = []
        for stream in body.get("streams", []):
            forwarder = {
                "stream_id": next(self._ids), "type": "audio", "host": stream.get("host", body.get("host")),
                "port": stream["port"],
            }
            for key in ("ssrc", "pt"):
                if key in stream:
                    forwarder[key] = stream[key]
            room.forwarders.setdefault(publisher_id, {})[forwarder["stream_id"]] = forwarder
            created.append(forwarder)
        return Reply({"videoroom": "rtp_forward", "room": room.id, "publisher_id": publisher_id,
                      "forwarders": created})

    def do_stop_rtp_forward(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        self._admin(body)
        room = self._room(body, modify=True)
        forwarders = room.forwarders.get(_id(body, "publisher_id"), {})
        if forwarders.pop(_id(body, "stream_id"), None) is None:
            raise PluginFailure(self.no_such_feed, "No such stream")
        return Reply({"videoroom": "stop_rtp_forward", "room": room.id,
                      "publisher_id": body.get("publisher_id"), "stream_id": body.get("stream_id")})

    def do_listforwarders(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        return Reply({"videoroom": "forwarders", "room": room.id, "publishers": [
            {"publisher_id": pid, "forwarders": list(fws.values())}
            for pid, fws in room.forwarders.items() if fws
        ]})

    def do_add_remote_publisher(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        publisher_id = body.get("id") or next(self._ids)
        room.participants[publisher_id] = {"id": publisher_id, "display": body.get("display"), "publisher": True}
        port = body.get("port") or 10_000 + len(room.participants) * 2
        return Reply({"videoroom": "success", "room": room.id, "id": publisher_id,
                      "ip": body.get("iface", "127.0.0.1"), "port": port, "rtcp_port": port + 1})

    def do_remove_remote_publisher(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        if room.participants.pop(_id(body, "id"), None) is None:
            raise PluginFailure(self.no_such_feed, f"No such feed ({body.get('id')})")
        room.forwarders.pop(_id(body, "id"), None)
        return Reply({"videoroom": "success"})

    def do_join(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        """Asynchronous, like the real one: ack first, then a ``joined`` event."""
        room = self._room(body)
        if room.pin is not None and body.get("pin") != room.pin:
            raise PluginFailure(self.unauthorized, "Unauthorized (wrong pin)")
        if room.allowed is not None and body.get("token") not in room.allowed:
            raise PluginFailure(self.unauthorized, "Unauthorized (not in the allowed list)")
        participant_id = body.get("id") or next(self._ids)
        publisher = body.get("ptype") == "publisher"
        room.participants[participant_id] = {"id": participant_id, "display": body.get("display"),
                                             "publisher": publisher}
        return Reply({"videoroom": "joined", "room": room.id, "id": participant_id, "publishers": []},
                     asynchronous=True)


class FakeTextRoom(_Rooms):
    package = "janus.plugin.textroom"
    name = "textroom"
    no_such_room = 417
    room_exists = 418
    unauthorized = 419

    def do_announcement(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        room.announcements.append(str(body.get("text", "")))
        return Reply({"textroom": "success"})

    def do_listparticipants(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body)
        return Reply({"room": room.id, "participants": list(room.participants.values())})


@dataclass
class FakeSession:
    id: int
    connection: FakeConnection
    handles: dict[int, str] = field(default_factory=dict)
    keepalives: int = 0


class FakeConnection:
    def __init__(self, janus: FakeJanus) -> None:
        self.janus = janus
        self.inbox: asyncio.Queue[JsonObject] = asyncio.Queue()
        self.open = True

    def push(self, message: JsonObject) -> None:
        if self.open:
            self.inbox.put_nowait(message)

    def cut(self) -> None:
        if self.open:
            self.open = False
            self.inbox.put_nowait(_CLOSED)


class FakeTransport(JanusTransport):
    def __init__(self, janus: FakeJanus) -> None:
        self.janus = janus
        self.connection: FakeConnection | None = None
        self.closed = False

    async def connect(self) -> None:
        self.connection = self.janus._connect()

    async def send(self, message: JsonObject) -> None:
        if self.connection is None or not self.connection.open:
            raise TransportClosed("fake janus connection is closed")
        self.janus._receive(self.connection, message)

    async def receive(self) -> JsonObject:
        if self.connection is None:
            raise TransportClosed("not connected")
        message = await self.connection.inbox.get()
        if message is _CLOSED:
            raise TransportClosed("fake janus connection is closed")
        return message

    async def close(self) -> None:
        self.closed = True
        if self.connection is not None:
            self.janus._disconnect(self.connection)


class FakeJanus:
    def __init__(self, *, api_secret: str = "", admin_key: str = "", tokens: dict[str, set[str]] | None = None) -> None:
        self.api_secret = api_secret
        self.admin_key = admin_key
        # Stored tokens -> allowed plugin packages; token auth is on when this is not None.
        self.tokens = tokens
        self.videoroom = FakeVideoRoom(self)
        self.textroom = FakeTextRoom(self)
        self.plugins: dict[str, FakePlugin] = {p.package: p for p in (self.videoroom, self.textroom)}
        self.sessions: dict[int, FakeSession] = {}
        self.connections: list[FakeConnection] = []
        self.received: list[JsonObject] = []
        # Request kinds ("keepalive", "message", ...) this fake receives but never answers.
        self.silent: set[str] = set()
        self._ids = itertools.count(1_000_001)

    def transport(self) -> FakeTransport:
        return FakeTransport(self)

    # --- test controls ---------------------------------------------------------------------

    def kinds(self) -> list[str]:
        return [str(m.get("janus")) for m in self.received]

    def push_event(self, session_id: int, handle_id: int, data: JsonObject, *, jsep: JsonObject | None = None,
                   kind: str = "event") -> None:
        session = self.sessions[session_id]
        message: JsonObject = {"janus": kind, "session_id": session_id, "sender": handle_id}
        if kind == "event":
            message["plugindata"] = {"plugin": session.handles[handle_id], "data": data}
        if jsep is not None:
            message["jsep"] = jsep
        session.connection.push(message)

    def expire_session(self, session_id: int) -> None:
        session = self.sessions.pop(session_id)
        session.connection.push({"janus": "timeout", "session_id": session_id})

    def disconnect_all(self) -> None:
        for connection in self.connections:
            connection.cut()
            self._disconnect(connection)

    # --- protocol --------------------------------------------------------------------------

    def _connect(self) -> FakeConnection:
        connection = FakeConnection(self)
        self.connections.append(connection)
        return connection

    def _disconnect(self, connection: FakeConnection) -> None:
        # reclaim_session_timeout = 0: sessions die with their connection.
        for session_id in [s.id for s in self.sessions.values() if s.connection is connection]:
            del self.sessions[session_id]
        connection.open = False

    def _authorized(self, message: JsonObject) -> bool:
        if not self.api_secret and self.tokens is None:
            return True
        if self.api_secret and message.get("apisecret") == self.api_secret:
            return True
        return self.tokens is not None and message.get("token") in self.tokens

    def _receive(self, connection: FakeConnection, message: JsonObject) -> None:
        self.received.append(message)
        kind = message.get("janus")
        transaction = message.get("transaction")
        if kind in self.silent:
            return

        def reply(body: JsonObject) -> None:
            connection.push({**body, "transaction": transaction})

        def error(code: int, reason: str) -> None:
            reply({"janus": "error", "session_id": message.get("session_id", 0),
                   "error": {"code": code, "reason": reason}})

        if kind == "info":
            reply({"janus": "server_info", "name": "Fake Janus", "version": 1102, "version_string": "1.1.2"})
            return
        if not self._authorized(message):
            error(403, "Unauthorized request (wrong or missing secret/token)")
            return
        if kind == "create":
            session = FakeSession(next(self._ids), connection)
            self.sessions[session.id] = session
            reply({"janus": "success", "data": {"id": session.id}})
            return
        found = self.sessions.get(message.get("session_id", 0))
        if found is None:
            error(458, f"No such session {message.get('session_id')}")
            return
        session = found
        session_id = session.id
        if kind == "keepalive":
            session.keepalives += 1
            reply({"janus": "ack", "session_id": session_id})
        elif kind == "destroy":
            del self.sessions[session_id]
            reply({"janus": "success", "session_id": session_id})
        elif kind == "attach":
            plugin = str(message.get("plugin"))
            if plugin not in self.plugins:
                error(460, f"No such plugin '{plugin}'")
                return
            token = message.get("token")
            if self.tokens is not None and token is not None and plugin not in self.tokens.get(token, set()):
                error(405, f"Provided token can't access plugin '{plugin}'")
                return
            handle_id = next(self._ids)
            session.handles[handle_id] = plugin
            reply({"janus": "success", "session_id": session_id, "data": {"id": handle_id}})
        elif kind in ("detach", "hangup", "message", "trickle"):
            handle_id = message.get("handle_id", 0)
            if handle_id not in session.handles:
                error(459, f"No such handle {handle_id} in session {session_id}")
                return
            if kind == "detach":
                del session.handles[handle_id]
                reply({"janus": "success", "session_id": session_id})
            elif kind == "hangup":
                reply({"janus": "success", "session_id": session_id})
            elif kind == "trickle":
                reply({"janus": "ack", "session_id": session_id})
            else:
                self._message(session, handle_id, message, reply)
        else:
            error(453, f"Unknown request '{kind}'")

    def _message(self, session: FakeSession, handle_id: int, message: JsonObject, reply: Any) -> None:
        plugin = self.plugins[session.handles[handle_id]]
        body = message.get("body") or {}
        envelope = {"session_id": session.id, "sender": handle_id}
        try:
            result = plugin.handle(session.id, handle_id, body, message.get("jsep"))
        except PluginFailure as exc:
            result = Reply(plugin.error(exc.code, exc.reason), asynchronous=body.get("request") == "join")
        plugindata = {"plugin": plugin.package, "data": result.data}
        if not result.asynchronous:
            reply({"janus": "success", **envelope, "plugindata": plugindata})
            return
        reply({"janus": "ack", "session_id": session.id})
        event: JsonObject = {"janus": "event", **envelope, "plugindata": plugindata}
        if result.jsep is not None:
            event["jsep"] = result.jsep
        # The event follows the ack on a later loop turn, as over a real socket.
        asyncio.get_running_loop().call_soon(reply, event)
