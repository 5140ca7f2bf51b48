"""A meeting's rooms in Janus: opened from the database, re-pinned, recovered, watched.

Janus forgets everything when it restarts; the database does not. `open` builds a meeting's
VideoRoom (and TextRoom) from its rows: the tokens of people admitted, the pin, a recording
that is live. `recover` does it for every open meeting once Janus is back, and tells the
browsers (``meeting.media_restarted``) so they reconnect. What the monitor sees in a room
(talking, published, left) becomes a change of the meeting.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import EngineError
from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.room import Room, participant_of_feed
from parley.handlers.meetings.views import meeting_topic
from parley.media.janus.service import JanusService, MediaEvent, RoomSpec
from parley.media.janus.videoroom import new_room_pin
from parley.storage.meeting_models import AttendeeStatus, Meeting, MeetingStatus, Presence
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meetings as store

log = logging.getLogger(__name__)


def repin(room: Room) -> tuple[int, str]:
    """Inside a change: give the room a new pin (someone was sent out); its id and the pin."""
    room.meeting.room_pin = new_room_pin()
    return room.meeting.room_id, room.meeting.room_pin


class MediaRooms:
    def __init__(self, changes: MeetingChanges, janus: JanusService | None, *, data_dir: Path) -> None:
        self.changes = changes
        self.janus = janus
        self.data_dir = data_dir
        self._ready: set[int] = set()
        self._room_dialogue: dict[int, int] = {}

    def media(self) -> JanusService:
        """Janus, connected; an engine error that says whether waiting helps otherwise."""
        if self.janus is None:
            raise EngineError("meetings need Janus (janus.enabled or an external Janus)", retryable=False,
                              engine="janus")
        if not self.janus.ready:
            raise EngineError("janus is not connected", retryable=True, engine="janus")
        return self.janus

    def live(self) -> JanusService | None:
        """Janus when it is connected, else None (for best-effort side effects)."""
        return self.janus if self.janus is not None and self.janus.ready else None

    def path(self, relative: str) -> Path:
        return (self.data_dir / relative).resolve()

    def is_open(self, room_id: int) -> bool:
        return room_id in self._ready

    def follow(self, meeting: Meeting) -> None:
        self._room_dialogue[meeting.room_id] = meeting.dialogue_id

    async def open(self, meeting: Meeting) -> None:
        """Create (or update) the meeting's rooms in Janus from what the database holds."""
        janus = self.media()
        if meeting.room_pin is None:
            meeting.room_pin = await self._give_pin(meeting.dialogue_id)
        db, clock = self.changes.db, self.changes.clock
        async with db.session() as s:
            now = clock.now()
            people = await store.live_tokens(s, [meeting.id], now)
            dialogue = await dialogue_store.dialogue(s, meeting.dialogue_id)
            current = await store.meeting_for(s, meeting.dialogue_id) or meeting
            room = Room(current, await store.participants(s, current.id), now)
            # A paused recording stays paused in the recreated room.
            recording = await store.recording(s, current.recording_id) \
                if current.recording_id is not None and room.recording_live() else None
        capacity = dialogue.capacity if dialogue is not None else 16
        spec = RoomSpec(
            room_id=meeting.room_id,
            text_room_id=meeting.text_room_id,
            description=f"dialogue {meeting.dialogue_id}",
            publishers=min(capacity + 8, 200),
            allowed=tuple(p.janus_token for p in people if p.janus_token),
            pin=meeting.room_pin,
            record_dir=self.path(recording.directory) if recording is not None else None,
        )
        await janus.open_rooms(spec)
        self._ready.add(meeting.room_id)

    async def close(self, meeting: Meeting) -> None:
        self._room_dialogue.pop(meeting.room_id, None)
        self._ready.discard(meeting.room_id)
        janus = self.live()
        if janus is None:
            return
        try:
            await janus.close_rooms(meeting.room_id, meeting.text_room_id)
        except EngineError as exc:
            log.error("janus cleanup of meeting %s failed: %s", meeting.dialogue_id, exc)

    async def set_pin(self, dialogue_id: int, room_id: int, pin: str) -> None:
        """Tell Janus the room's new pin; if it cannot hear it now, `recover` sets it later."""
        janus = self.live()
        if janus is None or room_id not in self._ready:
            return
        try:
            await janus.set_pin(room_id, pin)
        except EngineError as exc:
            self._ready.discard(room_id)  # the next connect reopens (and re-pins) the rooms
            log.error("meeting %s: janus kept the old room pin: %s", dialogue_id, exc)

    async def _give_pin(self, dialogue_id: int) -> str:
        """A pin for a meeting opened before rooms had pins (stored, so every process agrees)."""

        async def give(room: Room, s: AsyncSession) -> str:
            if room.meeting.room_pin is None:
                room.meeting.room_pin = new_room_pin()
            return room.meeting.room_pin

        pin, _ = await self.changes.change(dialogue_id, give)
        return pin

    async def moderate(self, dialogue_id: int, room_id: int, feed_id: int, muted: bool) -> None:
        janus = self.live()
        if janus is None:
            return
        try:
            await janus.moderate(room_id, feed_id, muted)
        except EngineError as exc:
            log.error("janus moderate in meeting %s failed: %s", dialogue_id, exc)

    async def recover(self) -> None:
        """Janus came (back) up: recreate every open meeting's rooms and reinstall live tokens."""
        janus = self.live()
        if janus is None:
            return
        self._ready.clear()
        async with self.changes.db.session() as s:
            meetings = await store.open_meetings(s)
            holders = await store.live_tokens(s, [m.id for m in meetings], self.changes.clock.now())
        try:
            await janus.install_tokens([p.janus_token for p in holders if p.janus_token])
        except EngineError as exc:
            log.error("reinstalling janus tokens failed: %s", exc)
        for meeting in meetings:
            self.follow(meeting)
            try:
                await self.open(meeting)
            except EngineError as exc:
                log.error("recreating the rooms of meeting %s failed: %s", meeting.dialogue_id, exc)
                continue
            await self.changes.bus.publish(meeting_topic(meeting.dialogue_id),
                                           {"type": "meeting.media_restarted", "dialogue_id": meeting.dialogue_id})
        if meetings:
            log.info("janus recovered: %d meeting(s), %d token(s)", len(meetings), len(holders))

    async def _dialogue_for_room(self, room_id: int) -> int | None:
        dialogue_id = self._room_dialogue.get(room_id)
        if dialogue_id is None:
            async with self.changes.db.session() as s:
                meeting = await store.meeting_by_room(s, room_id)
            if meeting is None or meeting.status != MeetingStatus.OPEN:
                return None
            dialogue_id = self._room_dialogue[room_id] = meeting.dialogue_id
        return dialogue_id

    async def on_media_event(self, event: MediaEvent) -> None:
        """Someone started or stopped talking, published, or their media went away."""
        dialogue_id = await self._dialogue_for_room(event.room_id)
        if dialogue_id is None:
            return
        pid = participant_of_feed(event.feed_id)
        reapply_mute: list[bool] = []

        async def apply(room: Room, s: AsyncSession) -> None:
            p = room.participants.get(pid)
            if p is None or p.feed_id != event.feed_id:
                raise NoChange  # an old connection of someone who reconnected since
            if event.kind in ("talking", "stopped-talking"):
                if not room.talking(pid, event.kind == "talking"):
                    raise NoChange
            elif event.kind == "left":
                if not room.media_lost(pid):
                    raise NoChange
            elif event.kind == "published":
                if p.force_muted:
                    reapply_mute.append(True)
                if p.status != AttendeeStatus.ADMITTED or p.presence == Presence.ONLINE:
                    raise NoChange
                p.presence = Presence.ONLINE
                p.updated_at = room.now
            else:
                raise NoChange

        await self.changes.try_change(dialogue_id, apply)
        janus = self.live()
        if reapply_mute and janus is not None:
            with contextlib.suppress(EngineError):
                await janus.moderate(event.room_id, event.feed_id, True)
