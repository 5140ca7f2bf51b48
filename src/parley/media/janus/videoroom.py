"""VideoRoom requests Parley makes as the room owner (Janus 1.1 API).

Every room gets a ``secret`` derived from the plugin admin key and the room id, so only Parley
can edit, destroy, kick, moderate or forward, and it can recompute the secret after a restart
without storing it. Rooms are never ``permanent`` (nothing is written to Janus's config).

Media paths (see notes/janus-on-loopback.md): ``rtp_forward`` copies a publisher's RTP to a
local UDP port (speaker audio out to interpretation); ``add_remote_publisher`` makes a plain
RTP source (synthesized voice) an ordinary publisher others can subscribe to. Both outlive
the session that created them, so always stop / remove them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from parley.clock import Clock, SystemClock
from parley.errors import EngineError
from parley.media.janus.client import JanusHandle, JanusPluginError, JanusSession, JsonObject
from parley.media.janus.plugin import OwnedPlugin, new_room_id

PLUGIN = "janus.plugin.videoroom"

# VideoRoom error codes callers may want to match.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428
UNAUTHORIZED = 433


def new_room_pin() -> str:
    """A room's pin: the credential Janus asks of every joiner, publisher or subscriber.

    Only the people admitted to the meeting get it, and it changes whenever someone is
    removed, so a token from another meeting (valid for the whole plugin) opens no other room.
    """
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class RoomSettings:
    description: str = ""
    # Janus's cap on concurrent WebRTC publishers (remote publishers do not count).
    publishers: int = 16
    audiocodec: str = "opus"
    videocodec: str = "vp8"
    is_private: bool = True
    pin: str | None = None
    # Tokens allowed to join; None leaves the room open to any holder of a Janus token.
    allowed: Sequence[str] | None = None
    notify_joining: bool = True
    audiolevel_event: bool = False
    bitrate: int | None = None
    opus_fec: bool = True
    require_pvtid: bool = False


@dataclass(frozen=True)
class Participant:
    id: int
    display: str | None
    publisher: bool
    talking: bool | None

    @classmethod
    def parse(cls, data: JsonObject) -> Participant:
        talking = data.get("talking")
        return cls(
            id=int(data["id"]),
            display=data.get("display"),
            publisher=bool(data.get("publisher", False)),
            talking=talking if isinstance(talking, bool) else None,
        )


@dataclass(frozen=True)
class ForwardTarget:
    """One publisher stream (by mid) to forward as plain RTP to ``host``:``port``."""

    mid: str
    port: int
    ssrc: int | None = None
    pt: int | None = None
    host: str | None = None
    rtcp_port: int | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"mid": self.mid, "port": self.port}
        for key in ("ssrc", "pt", "host", "rtcp_port"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Forwarder:
    publisher_id: int
    stream_id: int
    type: str
    host: str
    port: int
    ssrc: int | None = None
    pt: int | None = None
    local_rtcp_port: int | None = None
    remote_rtcp_port: int | None = None
    srtp: bool = False

    @classmethod
    def parse(cls, publisher_id: int, data: JsonObject) -> Forwarder:
        return cls(
            publisher_id=publisher_id,
            stream_id=int(data["stream_id"]),
            type=str(data.get("type", "")),
            host=str(data.get("host", "")),
            port=int(data.get("port", 0)),
            ssrc=data.get("ssrc"),
            pt=data.get("pt"),
            local_rtcp_port=data.get("local_rtcp_port"),
            remote_rtcp_port=data.get("remote_rtcp_port"),
            srtp=bool(data.get("srtp", False)),
        )


@dataclass(frozen=True)
class RemoteStream:
    """A stream a remote (plain RTP) publisher will send; mindex orders the SDP m-lines."""

    type: str
    mid: str
    mindex: int
    # Janus requires the codec of every enabled stream.
    codec: str | None = "opus"
    description: str | None = None
    stereo: bool | None = None
    fec: bool | None = None
    dtx: bool | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"type": self.type, "mid": self.mid, "mindex": self.mindex}
        for key in ("codec", "description", "stereo", "fec", "dtx"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class RemotePublisher:
    """Where to send RTP for a remote publisher: one port for all its streams."""

    room: int
    id: int
    ip: str
    port: int
    rtcp_port: int | None

    @staticmethod
    def ssrc_for(stream_index: int) -> int:
        """Janus demultiplexes a remote publisher's streams by SSRC: base + 10 x mindex."""
        return 1000 + 10 * stream_index


class VideoRoom(OwnedPlugin):
    """Owner-side VideoRoom requests on one attached handle."""

    PLUGIN = PLUGIN
    KIND = "videoroom"

    def __init__(
        self,
        handle: JanusHandle,
        *,
        admin_key: str,
        secret_key: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(handle, admin_key=admin_key, secret_key=secret_key)
        self._clock = clock or SystemClock()

    @classmethod
    async def attach(
        cls, session: JanusSession, *, admin_key: str, secret_key: str | None = None, clock: Clock | None = None
    ) -> Self:
        return cls(await session.attach(PLUGIN), admin_key=admin_key, secret_key=secret_key, clock=clock)

    # --- rooms -----------------------------------------------------------------------------

    async def create(self, room: int | None = None, settings: RoomSettings = RoomSettings()) -> int:
        """Create a room (random id when None); returns its id. Raises JanusPluginError 427 if taken."""
        room = room if room is not None else new_room_id()
        fields: JsonObject = {
            "permanent": False,
            "description": settings.description or None,
            "publishers": settings.publishers,
            "audiocodec": settings.audiocodec,
            "videocodec": settings.videocodec,
            "is_private": settings.is_private,
            "pin": settings.pin,
            "allowed": list(settings.allowed) if settings.allowed is not None else None,
            "notify_joining": settings.notify_joining,
            "audiolevel_event": settings.audiolevel_event,
            "bitrate": settings.bitrate,
            "opus_fec": settings.opus_fec,
            "require_pvtid": settings.require_pvtid,
        }
        data = await self._request("create", room, **fields)
        return int(data.get("room", room))

    async def destroy(self, room: int, *, missing_ok: bool = True) -> None:
        """Destroy a room, kicking everyone; a room that is already gone is fine by default."""
        try:
            await self._request("destroy", room, permanent=False)
        except JanusPluginError as exc:
            if not (missing_ok and exc.code == NO_SUCH_ROOM):
                raise

    async def exists(self, room: int) -> bool:
        data = await self.handle.request({"request": "exists", "room": room})
        return bool(data.get("exists", False))

    async def edit(
        self,
        room: int,
        *,
        description: str | None = None,
        pin: str | None = None,
        is_private: bool | None = None,
        publishers: int | None = None,
        bitrate: int | None = None,
    ) -> None:
        await self._request(
            "edit", room, permanent=False, new_description=description, new_pin=pin,
            new_is_private=is_private, new_publishers=publishers, new_bitrate=bitrate,
        )

    async def list_rooms(self) -> list[int]:
        """Every room id, private ones included (the admin key shows them)."""
        data = await self._request("list")
        return [int(item["room"]) for item in data.get("list", [])]

    async def allowed(self, room: int, action: str, tokens: Sequence[str] = ()) -> list[str]:
        """Manage the room's join ACL: action is enable | disable | add | remove."""
        if action not in ("enable", "disable", "add", "remove"):
            raise ValueError(f"unknown allowed action {action!r}")
        data = await self._request("allowed", room, action=action,
                                   allowed=list(tokens) if action in ("add", "remove") else None)
        return [str(t) for t in data.get("allowed", [])]

    # --- participants ----------------------------------------------------------------------

    async def list_participants(self, room: int) -> list[Participant]:
        data = await self.handle.request({"request": "listparticipants", "room": room})
        return [Participant.parse(p) for p in data.get("participants", [])]

    async def kick(self, room: int, participant_id: int) -> None:
        await self._request("kick", room, id=participant_id)

    async def moderate(self, room: int, participant_id: int, *, mid: str, mute: bool) -> None:
        """Force-mute (or lift the block on) one published stream, e.g. a participant's audio."""
        await self._request("moderate", room, id=participant_id, mid=mid, mute=mute)

    # --- media in and out ------------------------------------------------------------------

    async def rtp_forward(
        self,
        room: int,
        publisher_id: int,
        targets: Sequence[ForwardTarget],
        *,
        host: str = "127.0.0.1",
    ) -> list[Forwarder]:
        """Forward a publisher's streams as plain RTP; returns one forwarder per stream."""
        data = await self._request(
            "rtp_forward", room, publisher_id=publisher_id, host=host, host_family="ipv4",
            streams=[t.to_json() for t in targets],
        )
        return [Forwarder.parse(publisher_id, f) for f in data.get("forwarders", [])]

    async def stop_rtp_forward(self, room: int, publisher_id: int, stream_id: int) -> None:
        await self._request("stop_rtp_forward", room, publisher_id=publisher_id, stream_id=stream_id)

    async def list_forwarders(self, room: int) -> list[Forwarder]:
        data = await self._request("listforwarders", room)
        out: list[Forwarder] = []
        for publisher in data.get("publishers", []):
            pid = int(publisher["publisher_id"])
            out.extend(Forwarder.parse(pid, f) for f in publisher.get("forwarders", []))
        return out

    async def add_remote_publisher(
        self,
        room: int,
        streams: Sequence[RemoteStream],
        *,
        publisher_id: int | None = None,
        display: str | None = None,
        iface: str = "127.0.0.1",
        port: int = 0,
        ready_timeout: float = 5.0,
    ) -> RemotePublisher:
        """Register a plain-RTP publisher (e.g. a synthesized voice); send its RTP to the result.

        Janus 1.1 answers before the publisher has joined the room (its thread adds it), and
        until then ``rtp_forward`` or ``kick`` on it fail with 428; so this waits until the room
        lists it, at most ``ready_timeout`` seconds.
        """
        data = await self._request(
            "add_remote_publisher", room, id=publisher_id, display=display, iface=iface, port=port,
            streams=[s.to_json() for s in streams],
        )
        rtcp = data.get("rtcp_port")
        remote = RemotePublisher(
            room=int(data.get("room", room)),
            id=int(data["id"]),
            ip=str(data.get("ip", iface)),
            port=int(data["port"]),
            rtcp_port=int(rtcp) if isinstance(rtcp, int) and rtcp > 0 else None,
        )
        deadline = self._clock.monotonic() + ready_timeout
        while not any(p.id == remote.id for p in await self.list_participants(room)):
            if self._clock.monotonic() >= deadline:
                await self.remove_remote_publisher(room, remote.id)
                raise EngineError(f"remote publisher did not join room {room} within {ready_timeout:.0f}s",
                                  retryable=True, engine="janus")
            await self._clock.sleep(0.01)
        return remote

    async def remove_remote_publisher(self, room: int, publisher_id: int, *, missing_ok: bool = True) -> None:
        try:
            await self._request("remove_remote_publisher", room, id=publisher_id)
        except JanusPluginError as exc:
            if not (missing_ok and exc.code in (NO_SUCH_ROOM, NO_SUCH_FEED)):
                raise
