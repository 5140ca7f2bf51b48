"""The one way to change a meeting, and who someone is in it.

Every change reads the meeting and its participants as drafts under the meeting row's lock
(and, within this process, under a per-meeting `asyncio.Lock`), applies one pure command of
`room.Room`, bumps ``version``, writes back what changed, commits, and then publishes the
whole state on ``meeting:<dialogue id>``. Side effects in Janus come after the commit: the
database is the truth. A change that starts, pauses, resumes or stops the recording is
reported to `RecordingHook` once it is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, NotFound
from parley.handlers.access import DialogueRole, dialogue_role
from parley.handlers.dialogues import check_id, runs
from parley.handlers.meetings.room import Room, SpeakingTime
from parley.handlers.meetings.views import (
    Access,
    MeetingDialogue,
    empty_state,
    meeting_topic,
    state_of,
    visible_state,
)
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meeting_snapshots as snapshots
from parley.storage.stores import meetings as store
from parley.storage.stores import registration as reg_store
from parley.storage.stores.accounts import Account
from parley.storage.stores.meetings import MeetingInfo, ParticipantInfo
from parley.vocabulary import AttendeeRole, DialogueState

log = logging.getLogger(__name__)

T = TypeVar("T")


class NoChange(Exception):
    """Raised inside a change to roll it back quietly (nothing to store or announce)."""


class RecordingHook(Protocol):
    """Told, after the commit, what a change did to the meeting's recording."""

    async def recording_changed(self, dialogue_id: int, room_id: int, *, stopped: int | None,
                                live: bool | None, folder: str) -> None: ...


class MeetingChanges:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.recording_hook: RecordingHook | None = None
        self._serials: dict[int, asyncio.Lock] = {}

    # --- who someone is in a meeting ------------------------------------------------------

    async def access_in(self, s: AsyncSession, actor: Account, dialogue_id: int) -> Access:
        """Who ``actor`` is in this dialogue's meeting, from `access.dialogue_role`: its hosts
        (those who run it), interpreters, observers (a grant), registered participants."""
        check_id(dialogue_id)
        d = await dialogue_store.info(s, dialogue_id)
        if d is None:
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        language = d.languages[0] if d.languages else "en"
        own_language = actor.locale if actor.locale in d.languages else language
        role = await dialogue_role(s, actor, d)
        shown = MeetingDialogue.of(d)
        if role == DialogueRole.STAFF:
            if runs(actor, d):
                return Access(shown, AttendeeRole.HOST, own_language, role)
            interpreters = await dialogue_store.interpreters(s, [d.id])
            mine = [lang for lang, u in interpreters[d.id] if u.id == actor.id]
            return Access(shown, AttendeeRole.STAFF, mine[0] if mine else language, role)
        if role == DialogueRole.OBSERVER:
            return Access(shown, AttendeeRole.OBSERVER, own_language, role)
        registration = await reg_store.registration(s, d.id, actor.id) if role == DialogueRole.PARTICIPANT else None
        if registration is None:
            if d.state == DialogueState.DRAFT:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            raise Forbidden("Register for this dialogue to join its meeting.", code="not_registered")
        return Access(shown, AttendeeRole.PARTICIPANT, registration.preferred_language, role)

    async def access(self, actor: Account, dialogue_id: int) -> Access:
        async with self.db.session() as s:
            return await self.access_in(s, actor, dialogue_id)

    async def host_in(self, s: AsyncSession, actor: Account, dialogue_id: int) -> Access:
        access = await self.access_in(s, actor, dialogue_id)
        if access.role != AttendeeRole.HOST:
            raise Forbidden("Only the dialogue's facilitator or organiser can do this.", code="not_host")
        return access

    async def host(self, actor: Account, dialogue_id: int) -> Access:
        async with self.db.session() as s:
            return await self.host_in(s, actor, dialogue_id)

    async def mine_in(self, s: AsyncSession, actor: Account, dialogue_id: int) -> tuple[MeetingInfo, ParticipantInfo]:
        """The meeting and ``actor``'s own place in it (they must have joined)."""
        await self.access_in(s, actor, dialogue_id)
        meeting = await store.meeting_for(s, dialogue_id)
        if meeting is None:
            raise NotFound("The meeting has not started yet.", code="meeting_not_started")
        p = await store.attendee(s, meeting.id, actor.id)
        if p is None:
            raise Conflict("Join the meeting first.", code="not_joined")
        return meeting, p

    # --- reading ---------------------------------------------------------------------------

    async def state(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        """The meeting as ``actor`` sees it (also for a meeting that has not started)."""
        async with self.db.session() as s:
            access = await self.access_in(s, actor, dialogue_id)
            room = await self.room_in(s, dialogue_id)
            full = empty_state(access.dialogue, self.clock.now()) if room is None else state_of(room, access.dialogue)
        return visible_state(full, user_id=actor.id, host=access.role == AttendeeRole.HOST)

    async def summary(self, actor: Account, dialogue_id: int) -> list[SpeakingTime]:
        access = await self.access(actor, dialogue_id)
        if access.role in (AttendeeRole.PARTICIPANT, AttendeeRole.OBSERVER):
            raise Forbidden("The speaking-time summary is for the facilitator.", code="not_host")
        return await self.speaking_times(dialogue_id)

    async def speaking_times(self, dialogue_id: int) -> list[SpeakingTime]:
        async with self.db.session() as s:
            room = await self.room_in(s, dialogue_id)
        return [] if room is None else room.speaking_times()

    async def room_in(self, s: AsyncSession, dialogue_id: int) -> Room | None:
        """The meeting as it is now, to read (a change reads it under the lock instead)."""
        snapshot = await snapshots.take(s, dialogue_id)
        return None if snapshot is None else Room(snapshot.meeting, snapshot.participants, self.clock.now())

    async def staff_channel(self, actor: Account, dialogue_id: int) -> int | None:
        """The dialogue's workspace channel, shown beside the meeting for its staff."""
        async with self.db.session() as s:
            return await store.dialogue_channel_id(s, dialogue_id, actor.id)

    # --- changing ----------------------------------------------------------------------------

    def serial(self, dialogue_id: int) -> asyncio.Lock:
        """Changes to one meeting run one at a time in this process too: the row lock serialises
        processes on PostgreSQL, but SQLite reads outside any transaction (pysqlite starts one
        only at the first write), so two changes could otherwise each decide on a stale room."""
        lock = self._serials.get(dialogue_id)
        if lock is None:
            lock = self._serials[dialogue_id] = asyncio.Lock()
        return lock

    async def change(
        self,
        dialogue_id: int,
        fn: Callable[[Room, AsyncSession], Awaitable[T]],
        *,
        actor: Account | None = None,
        host_only: bool = False,
    ) -> tuple[T, dict[str, Any]]:
        """Run ``fn`` on the locked meeting; commit, announce the new state, return both.

        Keeps the invariant that Janus writes a recording only while everyone present agreed
        (`Room.recording_live`): a change that breaks it pauses the recording, one that
        restores it resumes it (same folder: the converter fills the gap with silence); a
        recording ``fn`` stopped (`stop_recording`) is converted.
        """
        stopped: int | None = None
        switch: bool | None = None  # Janus recording: False pause, True resume
        folder = ""
        async with self.serial(dialogue_id), self.db.session() as s:
            now = self.clock.now()
            if actor is not None:
                if host_only:
                    await self.host_in(s, actor, dialogue_id)
                else:
                    await self.access_in(s, actor, dialogue_id)
            snapshot = await snapshots.take(s, dialogue_id, lock=True)
            if snapshot is None:
                raise NotFound("The meeting has not started yet.", code="meeting_not_started")
            dialogue = await dialogue_store.info(s, dialogue_id)
            assert dialogue is not None  # the meeting row references it
            meeting = snapshot.meeting
            room = Room(meeting, snapshot.participants, now)
            rid_before, live_before = meeting.recording_id, room.recording_live()
            result = await fn(room, s)
            live_after = room.recording_live()
            if rid_before is not None and meeting.recording_id != rid_before:
                stopped = rid_before
            elif rid_before is not None and live_before != live_after:
                switch = live_after
                rec = await store.recording(s, rid_before)
                folder = rec.directory if rec is not None else ""
                log.info("meeting %s: recording %s %s", dialogue_id, rid_before,
                         "resumed (everyone present agreed)" if live_after else "paused (consent missing)")
            meeting.version += 1
            meeting.updated_at = now
            await snapshots.save(s, snapshot, room.participants.values())
            state = state_of(room, MeetingDialogue.of(dialogue))
            room_id = meeting.room_id
        await self.bus.publish(meeting_topic(dialogue_id),
                               {"type": "meeting.state", "dialogue_id": dialogue_id, "state": state})
        if (stopped is not None or switch is not None) and self.recording_hook is not None:
            await self.recording_hook.recording_changed(dialogue_id, room_id, stopped=stopped, live=switch,
                                                        folder=folder)
        return result, state

    async def try_change(self, dialogue_id: int, fn: Callable[[Room, AsyncSession], Awaitable[Any]]) -> bool:
        """`change` for background events: False when nothing changed or there is no meeting."""
        try:
            await self.change(dialogue_id, fn)
        except (NoChange, NotFound, Conflict):
            return False
        return True

    @staticmethod
    async def stop_recording(room: Room, s: AsyncSession) -> int | None:
        """Inside a change: end the running (or paused) recording; `change` stops Janus and
        converts it after the commit. The recording's id, None when there was none."""
        rid = room.meeting.recording_id
        if rid is None:
            return None
        await store.stop_recording(s, rid, room.now)
        room.meeting.recording_id = None
        return rid
