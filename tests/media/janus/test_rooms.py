"""VideoRoom / TextRoom helpers: request shapes and reply parsing, against the fake Janus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.media.janus.client import JanusClient, JanusPluginError, JanusSession
from parley.media.janus.plugin import derive_secret, new_room_id
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import (
    ForwardTarget,
    RemotePublisher,
    RemoteStream,
    RoomSettings,
    VideoRoom,
)
from tests.fakes.clock import FakeClock
from tests.fakes.janus import FakeJanus

pytestmark = pytest.mark.unit

KEY = "admin-key"


@pytest.fixture
def janus() -> FakeJanus:
    return FakeJanus(api_secret="s", admin_key=KEY)


@pytest.fixture
async def session(janus: FakeJanus, clock: FakeClock) -> AsyncIterator[JanusSession]:
    async with JanusClient(janus.transport(), clock=clock, api_secret="s") as client:
        yield await client.create_session()


def last_body(janus: FakeJanus, request: str | None = None) -> dict[str, object]:
    """The body of the last plugin message (of kind ``request`` when given)."""
    bodies = [m["body"] for m in janus.received if m["janus"] == "message"]
    matching = [b for b in bodies if request is None or b["request"] == request]
    body: dict[str, object] = matching[-1]
    return body


async def test_create_is_non_permanent_with_admin_key_and_derived_secret(session: JanusSession,
                                                                        janus: FakeJanus) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)

    room = await vr.create(42, RoomSettings(description="Dialogue 7", pin="1234", publishers=8))

    body = last_body(janus)
    assert room == 42
    assert body["permanent"] is False
    assert body["admin_key"] == KEY
    assert body["secret"] == vr.secret(42) == derive_secret(KEY, "videoroom", 42)
    assert (body["description"], body["pin"], body["publishers"]) == ("Dialogue 7", "1234", 8)
    assert "allowed" not in body
    assert janus.videoroom.rooms[42].secret == vr.secret(42)


async def test_random_room_ids_fit_javascript_numbers(session: JanusSession) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)
    room = await vr.create()
    assert 0 < room < 2**53
    assert all(0 < new_room_id() < 2**53 for _ in range(100))


async def test_room_lifecycle(session: JanusSession, janus: FakeJanus) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)
    room = await vr.create(7, RoomSettings(allowed=["tok-a"]))
    assert await vr.exists(7)
    assert janus.videoroom.rooms[7].allowed == {"tok-a"}

    await vr.edit(7, description="renamed", pin="9")
    assert await vr.allowed(room, "add", ["tok-b"]) == ["tok-a", "tok-b"]
    assert await vr.list_rooms() == [7]
    await vr.destroy(7)
    await vr.destroy(7)  # already gone is fine

    assert not await vr.exists(7)
    with pytest.raises(JanusPluginError) as caught:
        await vr.destroy(7, missing_ok=False)
    assert caught.value.code == 426


async def test_another_owner_key_cannot_destroy(session: JanusSession) -> None:
    ours = await VideoRoom.attach(session, admin_key=KEY)
    await ours.create(5)
    theirs = await VideoRoom.attach(session, admin_key=KEY, secret_key="someone else")

    with pytest.raises(JanusPluginError) as caught:
        await theirs.destroy(5)
    assert caught.value.code == 433


async def test_participants_kick_and_moderate(session: JanusSession, janus: FakeJanus) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)
    await vr.create(9)
    publisher = await session.attach("janus.plugin.videoroom")
    joined = await publisher.send({"request": "join", "ptype": "publisher", "room": 9, "display": "Ada"})
    pid = joined.data["id"]

    participants = await vr.list_participants(9)
    await vr.moderate(9, pid, mid="0", mute=True)
    body = last_body(janus)
    await vr.kick(9, pid)

    assert [(p.id, p.display, p.publisher) for p in participants] == [(pid, "Ada", True)]
    assert (body["request"], body["id"], body["mid"], body["mute"]) == ("moderate", pid, "0", True)
    assert await vr.list_participants(9) == []


async def test_rtp_forward_round_trip(session: JanusSession, janus: FakeJanus) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)
    await vr.create(3)
    remote = await vr.add_remote_publisher(3, [RemoteStream(type="audio", mid="0", mindex=0, codec="opus")])

    forwarders = await vr.rtp_forward(3, remote.id, [ForwardTarget(mid="0", port=6000, ssrc=77, pt=111)])
    body = last_body(janus)
    listed = await vr.list_forwarders(3)
    await vr.stop_rtp_forward(3, remote.id, forwarders[0].stream_id)

    assert body["streams"] == [{"mid": "0", "port": 6000, "ssrc": 77, "pt": 111}]
    assert (body["host"], body["admin_key"], body["secret"]) == ("127.0.0.1", KEY, vr.secret(3))
    assert listed == forwarders
    assert forwarders[0].publisher_id == remote.id and forwarders[0].port == 6000
    assert await vr.list_forwarders(3) == []


async def test_remote_publisher_round_trip(session: JanusSession, janus: FakeJanus) -> None:
    vr = await VideoRoom.attach(session, admin_key=KEY)
    await vr.create(4)

    remote = await vr.add_remote_publisher(
        4, [RemoteStream(type="audio", mid="0", mindex=0, codec="opus", stereo=False)], display="Voice (fr)",
    )
    body = last_body(janus, "add_remote_publisher")
    listed = await vr.list_participants(4)
    await vr.remove_remote_publisher(4, remote.id)
    await vr.remove_remote_publisher(4, remote.id)

    assert body["streams"] == [{"type": "audio", "mid": "0", "mindex": 0, "codec": "opus", "stereo": False}]
    assert (body["iface"], body["port"]) == ("127.0.0.1", 0)
    assert isinstance(remote, RemotePublisher) and remote.port > 0 and remote.room == 4
    assert [p.display for p in listed] == ["Voice (fr)"]
    assert await vr.list_participants(4) == []
    assert RemotePublisher.ssrc_for(0) == 1000 and RemotePublisher.ssrc_for(2) == 1020


async def test_videoroom_helper_refuses_another_plugins_handle(session: JanusSession) -> None:
    handle = await session.attach("janus.plugin.textroom")
    with pytest.raises(ValueError):
        VideoRoom(handle, admin_key=KEY)


async def test_textroom_rooms_and_announcements(session: JanusSession, janus: FakeJanus) -> None:
    tr = await TextRoom.attach(session, admin_key=KEY)

    room = await tr.create(11, description="captions", allowed=["tok"])
    create = last_body(janus)
    await tr.announcement(room, "caption text")
    assert janus.textroom.rooms[room].announcements == ["caption text"]
    assert await tr.exists(room)
    assert await tr.list_participants(room) == []
    await tr.destroy(room)
    await tr.destroy(room)

    assert create["permanent"] is False and create["admin_key"] == KEY
    assert create["secret"] == tr.secret(11)
    assert tr.secret(11) != derive_secret(KEY, "videoroom", 11)
    assert not await tr.exists(room)
    with pytest.raises(JanusPluginError) as caught:
        await tr.destroy(room, missing_ok=False)
    assert caught.value.code == 417
