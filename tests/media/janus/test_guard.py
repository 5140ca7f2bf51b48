"""The proxy's frame rules: a browser reaches only its own meeting's room, as itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.media.janus.guard import BrowserGuard, Refused, Scope

pytestmark = pytest.mark.unit

ROOM, OTHER_ROOM, FEED = 1234, 5678, 42 << 20
guard = BrowserGuard(Scope(room_id=ROOM, feed_id=FEED))


def message(**body: Any) -> str:
    return json.dumps({"janus": "message", "session_id": 1, "handle_id": 2, "transaction": "t1", "body": body})


@pytest.mark.parametrize("frame", [
    json.dumps({"janus": "create", "transaction": "a"}),
    json.dumps({"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": "b"}),
    json.dumps({"janus": "keepalive", "session_id": 1, "transaction": "c"}),
    json.dumps({"janus": "trickle", "candidate": {"completed": True}, "transaction": "d"}),
    json.dumps({"janus": "detach", "transaction": "e"}),
    message(request="join", ptype="publisher", room=ROOM, id=FEED, pin="p"),
    message(request="join", ptype="subscriber", room=ROOM, streams=[{"feed": 99 << 20}], pin="p"),
    message(request="configure", audio=True),
    message(request="subscribe", streams=[{"feed": 99 << 20, "mid": "0"}]),
    message(request="unsubscribe", streams=[{"feed": 99 << 20}]),
    message(request="listparticipants", room=ROOM),
    message(request="exists", room=ROOM),
    message(request="start"),
    message(request="leave"),
])
def test_what_a_participant_needs_passes(frame: str) -> None:
    assert guard.check(frame)["janus"]


@pytest.mark.parametrize(("frame", "why"), [
    (json.dumps({"janus": "info", "transaction": "i"}), "not allowed"),
    (json.dumps({"janus": "claim", "transaction": "i"}), "not allowed"),
    (json.dumps({"janus": "attach", "plugin": "janus.plugin.textroom", "transaction": "i"}), "VideoRoom"),
    (json.dumps({"janus": "attach", "plugin": "janus.plugin.streaming"}), "VideoRoom"),
    (message(request="join", ptype="subscriber", room=OTHER_ROOM, streams=[{"feed": 1}]), "not this meeting"),
    (message(request="join", ptype="subscriber", streams=[{"feed": 1}]), "not this meeting"),
    (message(request="join", ptype="subscriber", room=str(ROOM), streams=[{"feed": 1}]), "not this meeting"),
    (message(request="listparticipants", room=OTHER_ROOM), "not this meeting"),
    (message(request="exists", room=OTHER_ROOM), "not this meeting"),
    (message(request="list"), "not allowed"),
    (message(request="listforwarders", room=ROOM), "not allowed"),
    (message(request="rtp_forward", room=ROOM, publisher_id=FEED), "not allowed"),
    (message(request="kick", room=ROOM, id=7), "not allowed"),
    (message(request="create", room=OTHER_ROOM), "not allowed"),
    (message(request="join", ptype="publisher", room=ROOM, id=FEED + 1), "publisher id"),
    (message(request="join", ptype="listener", room=ROOM), "ptype"),
    (message(request="configure", record=True, filename="/tmp/x"), "recording"),
    (message(request="subscribe", streams=["x"]), "objects"),
    (message(request="subscribe", streams=[{"feed": "1"}]), "number"),
    (json.dumps({"janus": "message", "transaction": "t"}), "body"),
    ("[1, 2]", "object"),
    ("not json", "JSON"),
])
def test_everything_else_is_refused_with_a_reason(frame: str, why: str) -> None:
    with pytest.raises(Refused) as refused:
        guard.check(frame)
    assert why in refused.value.reason
    reply = json.loads(refused.value.reply())
    assert reply["janus"] == "error" and reply["error"]["code"] == 403


def test_a_refusal_answers_the_request_it_refuses() -> None:
    with pytest.raises(Refused) as refused:
        guard.check(json.dumps({"janus": "info", "transaction": "abc"}))
    assert json.loads(refused.value.reply())["transaction"] == "abc"


def test_someone_without_a_publisher_id_cannot_publish() -> None:
    listener = BrowserGuard(Scope(room_id=ROOM, feed_id=None))
    with pytest.raises(Refused):
        listener.check(message(request="join", ptype="publisher", room=ROOM, id=FEED))
    assert listener.check(message(request="join", ptype="subscriber", room=ROOM, streams=[]))
