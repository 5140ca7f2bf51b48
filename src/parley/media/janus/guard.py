"""What a browser may ask Janus, checked frame by frame in Parley's proxy.

A browser's proxy socket is bound to one meeting: one VideoRoom and the publisher id Parley
gave this person. Janus itself checks tokens, the room's ``allowed`` list (publishers) and its
pin (subscribers too), but a token is valid for every room of its plugin, so the proxy is the
layer that keeps a participant of one meeting out of every other room:

    browser frame --json--> BrowserGuard.check --ok--> Janus
                                   '--refused--> error reply to the browser (Janus never sees it)

Allowed: the session verbs a janus.js client needs (create, attach to the VideoRoom, message,
trickle, keepalive, hangup, detach, destroy) and, inside messages, the VideoRoom requests of a
participant (join as this publisher or as a subscriber, publish/configure without recording,
subscribe/unsubscribe/update/switch, start/pause, leave), each naming this room when it names
one. Everything else (``info``, ``claim``, other plugins, other rooms, ``listforwarders``, room
administration) is refused: what Janus would refuse anyway is refused here too, so one layer
failing never opens a door.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VIDEOROOM = "janus.plugin.videoroom"

# Janus core verbs a browser needs; "info" (version, build, paths) and "claim" are left out.
SESSION_VERBS = frozenset({"create", "attach", "message", "trickle", "keepalive", "hangup", "detach", "destroy"})
# VideoRoom requests a participant makes, and whether the room they name must be this one.
PARTICIPANT_REQUESTS = frozenset({
    "join", "joinandconfigure", "configure", "publish", "unpublish", "subscribe", "unsubscribe", "update",
    "switch", "start", "pause", "leave", "listparticipants", "exists",
})
# Keys a participant must never set: recording is Parley's decision (with everyone's consent).
FORBIDDEN_KEYS = frozenset({"record", "filename", "secret", "admin_key", "new_pin", "new_secret"})
# A refusal reads like a Janus error, so janus.js hands it to the page's error callback.
REFUSED = 403


@dataclass(frozen=True)
class Scope:
    """The one room a proxy socket may reach, and the publisher id its owner joins with."""

    room_id: int
    feed_id: int | None


class Refused(Exception):
    """A frame the browser may not send; ``reason`` is safe to show it."""

    def __init__(self, reason: str, transaction: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transaction = transaction

    def reply(self) -> str:
        """The error frame the browser gets instead of Janus's answer."""
        frame: dict[str, Any] = {"janus": "error", "error": {"code": REFUSED, "reason": self.reason}}
        if self.transaction is not None:
            frame["transaction"] = self.transaction
        return json.dumps(frame, separators=(",", ":"))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class BrowserGuard:
    """Checks one socket's frames against its scope; ``feed_id`` may be refreshed by the owner
    (a reconnection gets a new publisher id)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def check(self, text: str) -> dict[str, Any]:
        """The parsed frame when the browser may send it; raises `Refused` otherwise."""
        try:
            frame = json.loads(text)
        except ValueError:
            raise Refused("not JSON") from None
        if not isinstance(frame, dict):
            raise Refused("not a JSON object")
        tx = frame.get("transaction")
        transaction = tx if isinstance(tx, str) else None
        verb = frame.get("janus")
        if verb not in SESSION_VERBS:
            raise Refused(f"{verb!r} is not allowed here", transaction)
        if verb == "attach" and frame.get("plugin") != VIDEOROOM:
            raise Refused("only the VideoRoom plugin is allowed", transaction)
        if verb == "message":
            body = frame.get("body")
            if not isinstance(body, dict):
                raise Refused("a message needs a body", transaction)
            self._check_body(body, transaction)
        return frame

    def _check_body(self, body: dict[str, Any], transaction: str | None) -> None:
        request = body.get("request")
        if request not in PARTICIPANT_REQUESTS:
            raise Refused(f"request {request!r} is not allowed here", transaction)
        if FORBIDDEN_KEYS & body.keys():
            raise Refused("recording and room settings are not yours to change", transaction)
        names_room = "room" in body or request in ("join", "joinandconfigure", "listparticipants", "exists")
        if names_room and _int(body.get("room")) != self.scope.room_id:
            raise Refused("that room is not this meeting's", transaction)
        if request in ("join", "joinandconfigure"):
            ptype = body.get("ptype")
            if ptype == "publisher":
                if self.scope.feed_id is None or _int(body.get("id")) != self.scope.feed_id:
                    raise Refused("join with the publisher id Parley gave you", transaction)
            elif ptype != "subscriber":
                raise Refused("ptype must be publisher or subscriber", transaction)
        for stream in body.get("streams") or []:
            if not isinstance(stream, dict):
                raise Refused("streams must be objects", transaction)
            feed = stream.get("feed")
            if feed is not None and _int(feed) is None:
                raise Refused("a feed is a number", transaction)
