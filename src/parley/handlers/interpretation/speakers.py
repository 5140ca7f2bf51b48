"""Who is recognised: a participant's audio is forwarded to the meeting's worker once Janus
says they published (not a listener's, not an interpreter's channel), and stopped when they
leave; the finals of their last words still count until the worker's drain is over.

What Janus says is heard by the process that watches the room; when another process owns the
meeting's interpretation (see `owners`), it is told. Each process keeps who published in the
rooms it heard (`heard`), so that a new owner is told again (see `replay`)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import EngineError
from parley.handlers.interpretation.captions import Captions
from parley.handlers.interpretation.forwarding import Forwarding
from parley.handlers.interpretation.state import MeetingSession, Sessions, Speaker
from parley.handlers.interpretation.transcript import keeps_transcript
from parley.handlers.meetings.room import participant_of_feed
from parley.interpretation.protocol import DropSpeaker
from parley.storage.database import Database
from parley.storage.stores import interpretation as interpretation_store
from parley.storage.stores import meetings as store
from parley.storage.stores.meetings import ParticipantInfo
from parley.tasks import TaskOwner
from parley.vocabulary import AttendeeRole, AttendeeStatus, MediaMode, MeetingStatus

if TYPE_CHECKING:
    from parley.media.janus.service import MediaEvent

# A speaker who left: the worker drains their last words (`PipelineOptions.drain_timeout_s`)
# before the lines still open are closed here.
LEAVE_GRACE_S = 40.0
SessionOpener = Callable[[int], Awaitable["MeetingSession | None"]]
Tell = Callable[[int, dict[str, Any]], Awaitable[bool]]


class Speakers:
    def __init__(self, db: Database, clock: Clock, sessions: Sessions, rooms: dict[int, int], tasks: TaskOwner, *,
                 open_session: SessionOpener, tell: Tell, forwarding: Forwarding, captions: Captions) -> None:
        self.db = db
        self.clock = clock
        self._sessions = sessions
        self._room_dialogue = rooms
        self._tasks = tasks
        self._open_session = open_session
        self._tell = tell
        self.forwarding = forwarding
        self.captions = captions
        # dialogue -> feed -> audio mids: who published in the rooms this process heard
        self.heard: dict[int, dict[int, tuple[str, ...]]] = {}

    async def on_media_event(self, event: MediaEvent) -> None:
        if event.kind not in ("published", "left"):
            return
        dialogue_id = self._room_dialogue.get(event.room_id)
        if dialogue_id is None:
            async with self.db.session() as s:
                meeting = await store.meeting_by_room(s, event.room_id)
            if meeting is None or meeting.status != MeetingStatus.OPEN:
                return
            dialogue_id = meeting.dialogue_id
        if event.kind == "published":
            self.heard.setdefault(dialogue_id, {})[event.feed_id] = tuple(event.audio_mids)
            await self.published(dialogue_id, event.feed_id, event.audio_mids)
        else:
            self.heard.get(dialogue_id, {}).pop(event.feed_id, None)
            await self.left(dialogue_id, event.feed_id)

    async def replay(self, dialogue_id: int) -> None:
        """Who published, as this process heard it, for the meeting's new owner (this process,
        or another one)."""
        for feed_id, mids in list(self.heard.get(dialogue_id, {}).items()):
            await self.published(dialogue_id, feed_id, mids)

    async def published(self, dialogue_id: int, feed_id: int, mids: Sequence[str]) -> None:
        """A participant's audio is in the room: forward it to the meeting's worker."""
        if not mids:
            return
        participant_id = participant_of_feed(feed_id)
        async with self.db.session() as s:
            p = await store.participant(s, participant_id)
            if p is None or p.feed_id != feed_id or p.status != AttendeeStatus.ADMITTED or p.mode == MediaMode.LISTEN:
                return
            if await interpreter_language(s, dialogue_id, p) is not None:
                return  # an interpreter's channel is for listeners, not for recognition
            keep = await keeps_transcript(s, dialogue_id, p)
            speaker = Speaker(p.id, p.user_id, p.display_name, feed_id, mids[0], p.language or None, keep)
        session = await self._open_session(dialogue_id)
        if session is None:
            await self._tell(dialogue_id, {"op": "published", "feed": feed_id, "mids": list(mids)})
            return
        speaker_id = f"p{participant_id}"
        async with session.lock:
            old = session.speakers.get(speaker_id)
            if old is not None and old.feed_id == feed_id and old.stream_id is not None:
                return
            if old is not None:
                await self.forwarding.stop_forward(session, old)
            session.speakers[speaker_id] = speaker
            await self.forwarding.forward(session, speaker_id, speaker)

    async def left(self, dialogue_id: int, feed_id: int) -> None:
        session = self._sessions.get(dialogue_id)
        if session is None:
            await self._tell(dialogue_id, {"op": "left", "feed": feed_id})
            return
        speaker_id = f"p{participant_of_feed(feed_id)}"
        async with session.lock:
            speaker = session.speakers.get(speaker_id)
            if speaker is None or speaker.feed_id != feed_id:
                return
            del session.speakers[speaker_id]
            session.departed[speaker_id] = speaker  # the finals of their last words still come
            await self.forwarding.stop_forward(session, speaker)
            if session.worker is not None:
                with contextlib.suppress(EngineError):
                    await session.worker.request(DropSpeaker(dialogue_id, speaker_id))
        shown = {key for key, line in session.open.items() if line.speaker_id == speaker_id}
        self._tasks.spawn(f"left:{dialogue_id}:{speaker_id}", self._after_leaving(session, speaker_id, speaker, shown))

    async def _after_leaving(self, session: MeetingSession, speaker_id: str, speaker: Speaker,
                             shown: set[tuple[str, str]]) -> None:
        """Once the worker had time to drain a speaker who left, close what is still open of
        them (the lines open when they left; any, unless they are back)."""
        await self.clock.sleep(LEAVE_GRACE_S)
        back = speaker_id in session.speakers
        await self.captions.close_lines(session, lambda key, line: line.speaker_id == speaker_id
                                        and (key in shown or not back))
        if session.departed.get(speaker_id) is speaker:
            del session.departed[speaker_id]


async def interpreter_language(s: AsyncSession, dialogue_id: int, p: ParticipantInfo) -> str | None:
    """The language a staff member interprets into in this dialogue, None if they do not."""
    if p.role != AttendeeRole.STAFF:
        return None
    return await interpretation_store.interpreter_language(s, dialogue_id, p.user_id)
