"""AudioBridge requests Parley makes as the room owner: mixed rooms and their RTP forwarders.

The VideoRoom path (one forwarder per speaker) is Parley's default for interpretation; the
AudioBridge mixes a room into one stream, useful for a floor channel or a recording. Its
forwarders belong to the room and outlive sessions: always `stop_rtp_forward` them. As with
the other plugins, each room's secret is derived from the admin key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parley.media.janus.client import JanusPluginError
from parley.media.janus.plugin import OwnedPlugin, new_room_id

PLUGIN = "janus.plugin.audiobridge"

NO_SUCH_ROOM = 485
ROOM_EXISTS = 486
NO_SUCH_USER = 492


@dataclass(frozen=True)
class BridgeParticipant:
    id: int
    display: str | None
    muted: bool
    talking: bool | None


@dataclass(frozen=True)
class MixForwarder:
    stream_id: int
    host: str
    port: int
    ssrc: int | None
    codec: str
    ptype: int | None
    always_on: bool


class AudioBridge(OwnedPlugin):
    PLUGIN = PLUGIN
    KIND = "audiobridge"

    async def create(
        self,
        room: int | None = None,
        *,
        description: str = "",
        sampling_rate: int = 48000,
        pin: str | None = None,
        allowed: Sequence[str] | None = None,
        audiolevel_event: bool = False,
    ) -> int:
        room = room if room is not None else new_room_id()
        data = await self._request(
            "create", room, permanent=False, description=description or None, sampling_rate=sampling_rate,
            pin=pin, is_private=True, allowed=list(allowed) if allowed is not None else None,
            audiolevel_event=audiolevel_event,
        )
        return int(data.get("room", room))

    async def destroy(self, room: int, *, missing_ok: bool = True) -> None:
        try:
            await self._request("destroy", room, permanent=False)
        except JanusPluginError as exc:
            if not (missing_ok and exc.code == NO_SUCH_ROOM):
                raise

    async def exists(self, room: int) -> bool:
        data = await self.handle.request({"request": "exists", "room": room})
        return bool(data.get("exists", False))

    async def list_participants(self, room: int) -> list[BridgeParticipant]:
        data = await self.handle.request({"request": "listparticipants", "room": room})
        return [
            BridgeParticipant(
                id=int(p["id"]), display=p.get("display"), muted=bool(p.get("muted", False)),
                talking=p.get("talking") if isinstance(p.get("talking"), bool) else None,
            )
            for p in data.get("participants", [])
        ]

    async def mute(self, room: int, participant_id: int, *, muted: bool = True) -> None:
        await self._request("mute" if muted else "unmute", room, id=participant_id)

    async def rtp_forward(
        self,
        room: int,
        port: int,
        *,
        host: str = "127.0.0.1",
        codec: str = "opus",
        ptype: int = 100,
        ssrc: int | None = None,
        always_on: bool = False,
    ) -> MixForwarder:
        """Forward the room's mix as RTP; ``always_on`` sends silence when nobody talks."""
        data = await self._request("rtp_forward", room, host=host, host_family="ipv4", port=port, codec=codec,
                                   ptype=ptype, ssrc=ssrc, always_on=always_on)
        return MixForwarder(stream_id=int(data["stream_id"]), host=str(data.get("host", host)),
                            port=int(data.get("port", port)), ssrc=ssrc, codec=codec, ptype=ptype,
                            always_on=always_on)

    async def stop_rtp_forward(self, room: int, stream_id: int) -> None:
        await self._request("stop_rtp_forward", room, stream_id=stream_id)

    async def list_forwarders(self, room: int) -> list[MixForwarder]:
        data = await self._request("listforwarders", room)
        return [
            MixForwarder(
                stream_id=int(f["stream_id"]), host=str(f.get("ip", "")), port=int(f.get("port", 0)),
                ssrc=f.get("ssrc"), codec=str(f.get("codec", "")), ptype=f.get("ptype"),
                always_on=bool(f.get("always_on", False)),
            )
            for f in data.get("rtp_forwarders", [])
        ]
