"""The WebSocket protocol: every frame parses, serialises back to the same text, and bad
frames are refused with stable codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from parley.handlers.workspace import ChannelView, MessageView, NotificationView, Person
from parley.signalling import messages as p

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
MESSAGE = MessageView(
    id=9,
    channel_id=3,
    author_id=2,
    author_name="Amina",
    body='<b>"hi"</b> — 你好\nنعم',
    created_at=WHEN,
    edited_at=None,
    deleted_at=None,
)
DELETED = MessageView(
    id=10, channel_id=3, author_id=None, author_name="", body="", created_at=WHEN, edited_at=WHEN, deleted_at=WHEN
)
CHANNEL = ChannelView(
    id=3,
    kind="team",
    name="Logistics",
    title="Logistics",
    topic="",
    dialogue_id=None,
    direct_user_id=None,
    is_member=True,
    last_read_message_id=8,
    last_message_id=9,
    unread=1,
)
NOTE = NotificationView(
    id=1,
    kind="mention",
    channel_id=3,
    channel_title="Logistics",
    message_id=9,
    actor_id=2,
    actor_name="Amina",
    created_at=WHEN,
    read_at=None,
)

CLIENT_FRAMES = [
    p.Post(ref="a1", channel_id=3, body="hello @Bo"),
    p.Edit(ref="a2", message_id=9, body="hello again"),
    p.Delete(ref="a3", message_id=9),
    p.Read(ref="a4", channel_id=3, message_id=None),
    p.Read(ref="a5", channel_id=3, message_id=9),
    p.Fetch(ref="a6", channel_id=3, before=None, after=8, limit=100),
    p.Ping(ref=""),
]

SERVER_FRAMES = [
    p.Hello(
        user_id=1,
        channels=(p.ReadMark(channel_id=3, unread=1, last_read_message_id=8, last_message_id=9),),
        total_unread=1,
    ),
    p.Ack(ref="a1", message=MESSAGE),
    p.Ack(ref="a4"),
    p.Error(ref="a2", code="not_author", message="You can only edit your own messages."),
    p.Pong(ref="x"),
    p.Messages(ref="a6", channel_id=3, messages=(MESSAGE, DELETED), has_more=False),
    p.MessageNew(channel_id=3, message=MESSAGE, unread=2, total_unread=5),
    p.MessageEdited(channel_id=3, message=MESSAGE),
    p.MessageDeleted(channel_id=3, message=DELETED, unread=0, total_unread=4),
    p.MemberJoined(channel_id=3, user=Person(id=4, display_name="Bo", role="interpreter")),
    p.MemberLeft(channel_id=3, user_id=4),
    p.ChannelAdded(channel=CHANNEL, total_unread=1),
    p.ChannelRemoved(channel_id=3, total_unread=0),
    p.ChannelUpdated(channel_id=3, name="Rooms", title="Rooms", topic="Links and rooms"),
    p.Unread(channel_id=3, count=0, last_read_message_id=9, total=0),
    p.NotificationFrame(notification=NOTE),
    p.NotificationsRead(unread=0),
]


@pytest.mark.parametrize("frame", CLIENT_FRAMES, ids=lambda f: f.type)
def test_client_frames_round_trip(frame: p.ClientMessage) -> None:
    text = p.serialise(frame)
    assert json.loads(text)["type"] == frame.type
    assert p.parse_client(text) == frame
    assert p.serialise(p.parse_client(text)) == text


@pytest.mark.parametrize("frame", SERVER_FRAMES, ids=lambda f: f.type)
def test_server_frames_round_trip(frame: p.ServerMessage) -> None:
    text = p.serialise(frame)
    assert text.startswith(f'{{"type":"{frame.type}"')
    assert p.parse_server(text) == frame
    assert p.serialise(p.parse_server(text)) == text


def test_counted_frames_share_one_prefix_and_finish_per_connection() -> None:
    frame = p.MessageNew(channel_id=3, message=MESSAGE)
    prefix = p.counted_prefix(frame)
    for unread, total in [(0, 0), (3, 17)]:
        expected = p.serialise(p.MessageNew(channel_id=3, message=MESSAGE, unread=unread, total_unread=total))
        assert p.with_counts(prefix, unread, total) == expected


def test_bus_events_are_frames_without_the_per_connection_counts() -> None:
    event = {"type": "message.new", "channel_id": 3, "message": MESSAGE.to_json()}
    assert p.server_frame(event) == p.MessageNew(channel_id=3, message=MESSAGE)
    assert p.server_frame({"type": "channel.added", "channel": CHANNEL.to_json()}) == p.ChannelAdded(channel=CHANNEL)


def test_text_is_sent_as_is_never_escaped_to_html() -> None:
    text = p.serialise(p.Post(ref="", channel_id=1, body="<script>alert(1)</script> ünïcode"))
    assert "<script>alert(1)</script> ünïcode" in text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "shout", "ref": "r"}', "unknown_type"),
        ('{"ref": "r"}', "unknown_type"),
        ('{"type": "post", "ref": "r", "channel_id": "3", "body": "x"}', "bad_frame"),
        ('{"type": "post", "ref": "r", "channel_id": true, "body": "x"}', "bad_frame"),
        ('{"type": "post", "ref": "r", "channel_id": 3}', "bad_frame"),
        ('{"type": "post", "ref": "r", "channel_id": 3, "body": "x", "html": "<b>"}', "bad_frame"),
        ('{"type": "post", "ref": 5, "channel_id": 3, "body": "x"}', "bad_frame"),
        ('{"type": "read", "ref": "r", "channel_id": 99999999999999999999999}', "bad_frame"),
        ('{"type": "ping", "ref": "%s"}' % ("r" * 65), "bad_frame"),
        ('{"type": "post", "ref": "r", "channel_id": 3, "body": "%s"}' % ("x" * 17000), "frame_too_large"),
    ],
)
def test_bad_client_frames_have_stable_codes(text: str, code: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse_client(text)
    assert err.value.code == code


def test_errors_echo_the_ref_when_it_can_be_read() -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse_client('{"type": "edit", "ref": "abc", "message_id": 1}')
    assert err.value.ref == "abc"
