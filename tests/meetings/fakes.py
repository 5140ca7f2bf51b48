"""The fake Janus (tests/fakes/janus.py) plus what meetings use: room recording, the Admin
API's token requests, and a JanusService wired to both."""

from __future__ import annotations

import json
from typing import Any

import httpx

from parley.clock import Clock
from parley.config import JanusConfig
from parley.media.janus.admin import JanusAdmin
from parley.media.janus.client import JanusClient, JsonObject
from parley.media.janus.config import JanusCredentials
from parley.media.janus.process import Backoff
from parley.media.janus.service import JanusService
from tests.fakes.janus import FakeJanus, FakeVideoRoom, PluginFailure, Reply

CREDS = JanusCredentials(api_secret="api-secret", admin_secret="admin-secret", admin_key="admin-key")


class RecordingVideoRoom(FakeVideoRoom):
    """VideoRoom with `enable_recording`, `rec_dir` edits and stream-level moderation."""

    def __init__(self, janus: FakeJanus) -> None:
        super().__init__(janus)
        self.recording: dict[int, bool] = {}
        self.rec_dirs: dict[int, str] = {}
        self.created: list[JsonObject] = []

    def do_create(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_create(session_id, handle_id, body)
        room = int(reply.data["room"])
        self.created.append(body)
        self.recording[room] = bool(body.get("record"))
        if "rec_dir" in body:
            self.rec_dirs[room] = str(body["rec_dir"])
        return reply

    def do_edit(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_edit(session_id, handle_id, body)
        if "new_rec_dir" in body:
            self.rec_dirs[int(body["room"])] = str(body["new_rec_dir"])
        return reply

    def do_enable_recording(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        room = self._room(body, modify=True)
        self.recording[room.id] = bool(body.get("record"))
        return Reply({"videoroom": "success", "record": self.recording[room.id]})

    def do_destroy(self, session_id: int, handle_id: int, body: JsonObject) -> Reply:
        reply = super().do_destroy(session_id, handle_id, body)
        self.recording.pop(int(body["room"]), None)
        return reply


class MeetingJanus(FakeJanus):
    """A fake Janus with token auth on, and an Admin API endpoint for its stored tokens."""

    videoroom: RecordingVideoRoom

    def __init__(self) -> None:
        super().__init__(api_secret=CREDS.api_secret, admin_key=CREDS.admin_key, tokens={})
        self.videoroom = RecordingVideoRoom(self)
        self.plugins[self.videoroom.package] = self.videoroom
        self.admin_requests: list[dict[str, Any]] = []
        # Admin API requests (e.g. "remove_token") this Janus answers with an internal error.
        self.failing: set[str] = set()

    def restart(self) -> None:
        """What a crash and restart does: every connection, session, room and token is gone."""
        self.disconnect_all()
        self.videoroom.rooms.clear()
        self.videoroom.recording.clear()
        self.textroom.rooms.clear()
        assert self.tokens is not None
        self.tokens.clear()

    def admin_endpoint(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.admin_requests.append(body)
        tx = body["transaction"]
        assert self.tokens is not None
        if body.get("admin_secret") != CREDS.admin_secret:
            return httpx.Response(200, json={"janus": "error", "transaction": tx,
                                             "error": {"code": 403, "reason": "Unauthorized"}})
        kind = body["janus"]
        if kind in self.failing:
            return httpx.Response(200, json={"janus": "error", "transaction": tx,
                                             "error": {"code": 500, "reason": "Internal error"}})
        if kind == "add_token":
            self.tokens[body["token"]] = set(body["plugins"])
            return httpx.Response(200, json={"janus": "success", "transaction": tx,
                                             "data": {"plugins": body["plugins"]}})
        if kind == "remove_token":
            if self.tokens.pop(body["token"], None) is None:
                return httpx.Response(200, json={"janus": "error", "transaction": tx,
                                                 "error": {"code": 490, "reason": "Error removing token"}})
            return httpx.Response(200, json={"janus": "success", "transaction": tx})
        return httpx.Response(200, json={"janus": "error", "transaction": tx,
                                         "error": {"code": 453, "reason": "unknown"}})

    def join(self, room: int, token: str, feed: int, *, pin: str | None = None, publisher: bool = True) -> None:
        """A browser joining the VideoRoom (as Janus would check it: token, pin and room ACL)."""
        assert self.tokens is not None
        if token not in self.tokens:
            raise PluginFailure(403, "Unauthorized request (wrong or missing secret/token)")
        fake_room = self.videoroom.rooms[room]
        if fake_room.pin is not None and pin != fake_room.pin:
            raise PluginFailure(433, "Unauthorized (wrong pin)")
        if fake_room.allowed is not None and token not in fake_room.allowed:
            raise PluginFailure(433, "Unauthorized (not in the allowed list)")
        fake_room.participants[feed] = {"id": feed, "display": "browser", "publisher": publisher}


def fake_service(janus: MeetingJanus, clock: Clock) -> JanusService:
    http = httpx.AsyncClient(transport=httpx.MockTransport(janus.admin_endpoint))
    return JanusService(
        JanusConfig(enabled=False),
        clock,
        credentials=CREDS,
        connect=lambda url: JanusClient(janus.transport(), clock=clock, api_secret=CREDS.api_secret),
        admin=lambda url: JanusAdmin("http://janus/admin", CREDS.admin_secret, http=http),
        reconnect=Backoff(initial=0.1, maximum=0.5),
    )
