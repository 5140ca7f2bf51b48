"""Interpretation media through Janus: a speaker's audio forwarded as plain RTP to an
interpretation worker, and each synthesized voice added to the room as a plain-RTP publisher
(remote publishers outlive every session: whoever adds one removes it).
"""

from __future__ import annotations

from collections.abc import Callable

from parley.errors import EngineError
from parley.media.janus.client import JanusPluginError
from parley.media.janus.rooms import NO_SUCH_FEED, NO_SUCH_ROOM
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import ForwardTarget, RemotePublisher, RemoteStream, VideoRoom


class AudioForwarding:
    """Speaker audio out of a room as plain RTP, synthesized voices into it as remote publishers."""

    def __init__(self, rooms: Callable[[], tuple[VideoRoom, TextRoom]]) -> None:
        self._rooms = rooms

    async def forward_audio(self, room_id: int, feed_id: int, mid: str, host: str, port: int, ssrc: int) -> int:
        """Forward one publisher's audio as plain RTP (to an interpretation worker); the stream id."""
        videoroom, _ = self._rooms()
        forwarders = await videoroom.rtp_forward(room_id, feed_id, [ForwardTarget(mid=mid, port=port, ssrc=ssrc)],
                                                 host=host)
        if not forwarders:
            raise EngineError(f"janus made no forwarder for feed {feed_id}", retryable=True, engine="janus")
        return forwarders[0].stream_id

    async def stop_forward(self, room_id: int, feed_id: int, stream_id: int) -> None:
        videoroom, _ = self._rooms()
        try:
            await videoroom.stop_rtp_forward(room_id, feed_id, stream_id)
        except JanusPluginError as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise

    async def add_voice(self, room_id: int, display: str) -> RemotePublisher:
        """A plain-RTP publisher in the room for a synthesized voice (Opus, one audio stream)."""
        videoroom, _ = self._rooms()
        return await videoroom.add_remote_publisher(room_id, [RemoteStream(type="audio", mid="a0", mindex=0)],
                                                    display=display[:100])

    async def remove_voice(self, room_id: int, publisher_id: int) -> None:
        """Remote publishers outlive every session: whoever adds one must remove it."""
        videoroom, _ = self._rooms()
        await videoroom.remove_remote_publisher(room_id, publisher_id)

    async def clear_interpretation(self, room_id: int, voice_display: str) -> int:
        """Remove what an earlier interpretation owner of the room left behind (it died, or
        handed the meeting over): every RTP forwarder, and the remote publishers whose display
        starts with ``voice_display``. How many were removed."""
        videoroom, _ = self._rooms()
        removed = 0
        for forwarder in await videoroom.list_forwarders(room_id):
            await self.stop_forward(room_id, forwarder.publisher_id, forwarder.stream_id)
            removed += 1
        for participant in await videoroom.list_participants(room_id):
            if (participant.display or "").startswith(voice_display):
                await self.remove_voice(room_id, participant.id)
                removed += 1
        return removed
