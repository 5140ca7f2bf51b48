"""A meeting's rooms in Janus, locked down: private, a secret derived from the admin key,
``lock_record``, and an ``allowed`` list holding only the tokens of admitted participants
(plus the monitor's), so Janus itself refuses anyone else. `RoomSpec` says what they must
look like; `RoomControl` makes them so (idempotently, so a restarted Janus gets them back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from parley.media.janus.client import JanusPluginError, JsonObject
from parley.media.janus.monitor import RoomMonitor
from parley.media.janus.textroom import TextRoom
from parley.media.janus.videoroom import VideoRoom

TEXTROOM_ROOM_EXISTS = 418
VIDEOROOM_ROOM_EXISTS = 427
NO_SUCH_FEED = 428
NO_SUCH_ROOM = 426


@dataclass(frozen=True)
class RoomSpec:
    """What a meeting's rooms must look like in Janus (recreated as-is after a restart)."""

    room_id: int
    text_room_id: int
    description: str = ""
    publishers: int = 16
    # Tokens of the people admitted; Janus refuses publisher joins from anyone else.
    allowed: tuple[str, ...] = ()
    # Asked of every joiner, subscribers included: a token alone opens every room of the plugin.
    pin: str | None = None
    # Where Janus writes this room's .mjr files while it records; None: not recording.
    record_dir: Path | None = None
    # Publisher ids whose audio the facilitator has blocked.
    muted_feeds: tuple[int, ...] = ()
    # Whether this process watches the room (one process per node does: `MediaRooms`).
    monitor: bool = True


class RoomControl:
    """A meeting's VideoRoom and TextRoom: created or brought in line with a `RoomSpec`,
    closed, their pin, allowed list, recording and the facilitator's kick and mute. One
    change of a room's settings at a time."""

    def __init__(self, rooms: Callable[[], tuple[VideoRoom, TextRoom]], admin_key: str,
                 monitor: RoomMonitor) -> None:
        self._rooms = rooms
        self._admin_key = admin_key
        self.monitor = monitor
        self._lock = asyncio.Lock()

    async def open_rooms(self, spec: RoomSpec) -> bool:
        """Create the meeting's rooms, or bring existing ones in line with ``spec`` (idempotent);
        True when the VideoRoom was new (Janus had not got it: any browser in it must rejoin)."""
        videoroom, textroom = self._rooms()
        allowed = [*spec.allowed, self.monitor.token]
        if spec.pin is not None:
            self.monitor.pins[spec.room_id] = spec.pin
        async with self._lock:
            body: JsonObject = {
                "request": "create",
                "room": spec.room_id,
                "secret": videoroom.secret(spec.room_id),
                "admin_key": self._admin_key,
                "permanent": False,
                "description": spec.description[:100] or "meeting",
                "publishers": spec.publishers,
                "is_private": True,
                "allowed": allowed,
                **({"pin": spec.pin} if spec.pin is not None else {}),
                "audiocodec": "opus",
                "videocodec": "vp8",
                "opus_fec": True,
                "notify_joining": True,
                "audiolevel_event": True,
                "audio_active_packets": 50,
                "audio_level_average": 40,
                "lock_record": True,
                "record": spec.record_dir is not None,
            }
            if spec.record_dir is not None:
                body["rec_dir"] = str(spec.record_dir)
            created = True
            try:
                await videoroom.handle.request(body)
            except JanusPluginError as exc:
                if exc.code != VIDEOROOM_ROOM_EXISTS:
                    raise
                created = False
                await videoroom.allowed(spec.room_id, "add", allowed)
                if spec.pin is not None:
                    await self._set_pin(spec.room_id, spec.pin)
                await self._set_recording(spec.room_id, spec.record_dir)
            try:
                await textroom.create(spec.text_room_id, description=spec.description[:100] or "meeting",
                                      allowed=allowed)
            except JanusPluginError as exc:
                if exc.code != TEXTROOM_ROOM_EXISTS:
                    raise
                await textroom.allowed(spec.text_room_id, "add", allowed)
        if spec.monitor:
            await self.monitor.ensure(spec.room_id)
        return created

    async def close_rooms(self, room_id: int, text_room_id: int) -> None:
        videoroom, textroom = self._rooms()
        await self.monitor.leave(room_id)
        await videoroom.destroy(room_id)
        await textroom.destroy(text_room_id)

    async def set_pin(self, room_id: int, pin: str) -> None:
        """Change the room's pin; people inside stay, joiners need the new one."""
        async with self._lock:
            await self._set_pin(room_id, pin)

    async def _set_pin(self, room_id: int, pin: str) -> None:
        videoroom, _ = self._rooms()
        self.monitor.pins[room_id] = pin
        await videoroom.handle.request({
            "request": "edit", "room": room_id, "secret": videoroom.secret(room_id),
            "admin_key": self._admin_key, "new_pin": pin,
        })

    async def allow(self, room_id: int, text_room_id: int, token: str, allowed: bool) -> None:
        videoroom, textroom = self._rooms()
        action = "add" if allowed else "remove"
        await videoroom.allowed(room_id, action, [token])
        await textroom.allowed(text_room_id, action, [token])

    async def kick(self, room_id: int, feed_id: int) -> None:
        videoroom, _ = self._rooms()
        try:
            await videoroom.kick(room_id, feed_id)
        except JanusPluginError as exc:
            if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                raise

    async def moderate(self, room_id: int, feed_id: int, mute: bool) -> None:
        """Block (or release) a publisher's audio in Janus, whatever its browser does."""
        videoroom, _ = self._rooms()
        for mid in self.monitor.audio_mids(feed_id) or ("0",):
            try:
                await videoroom.moderate(room_id, feed_id, mid=mid, mute=mute)
            except JanusPluginError as exc:
                if exc.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):
                    raise

    async def set_recording(self, room_id: int, record_dir: Path | None) -> None:
        async with self._lock:
            await self._set_recording(room_id, record_dir)

    async def _set_recording(self, room_id: int, record_dir: Path | None) -> None:
        videoroom, _ = self._rooms()
        if record_dir is not None:
            # rec_dir can only be set by editing the room; then recording starts for every publisher.
            await videoroom.handle.request({
                "request": "edit", "room": room_id, "secret": videoroom.secret(room_id),
                "admin_key": self._admin_key, "new_rec_dir": str(record_dir),
            })
        await videoroom.handle.request({
            "request": "enable_recording", "room": room_id, "secret": videoroom.secret(room_id),
            "admin_key": self._admin_key, "record": record_dir is not None,
        })
