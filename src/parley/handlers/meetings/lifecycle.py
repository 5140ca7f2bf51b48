"""Opening and ending a meeting.

The facilitator opens it (a scheduled dialogue goes live) and ends it (a live dialogue ends
with it); a dialogue ended some other way ends its meeting through `DialogueWatch`. Ending
stops the recording, closes the rooms in Janus, retires every token and publishes
``meeting.ended`` with the speaking-time summary, then tells ``on_ended`` (the composition
root queues the transcript's translation there).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, EngineError
from parley.handlers.dialogues import Action, Dialogues
from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.room import Room, SpeakingTime, new_meeting
from parley.handlers.meetings.rooms import MediaRooms
from parley.handlers.meetings.tokens import Tokens
from parley.handlers.meetings.views import meeting_topic
from parley.handlers.meetings.watch import DialogueWatch
from parley.media.janus.plugin import new_room_id
from parley.media.janus.videoroom import new_room_pin
from parley.storage.stores import meeting_snapshots as snapshots
from parley.storage.stores import meetings as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.meetings import MeetingInfo
from parley.vocabulary import DialogueState, MeetingStatus

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, changes: MeetingChanges, rooms: MediaRooms, tokens: Tokens, dialogues: Dialogues,
                 watch: DialogueWatch, *, on_ended: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.changes = changes
        self.on_ended = on_ended
        self.rooms = rooms
        self.tokens = tokens
        self.dialogues = dialogues
        self.watch = watch

    async def start_meeting(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        """The facilitator opens the meeting; a scheduled dialogue goes live."""
        access = await self.changes.host(actor, dialogue_id)
        state = access.dialogue.state
        if state == DialogueState.SCHEDULED:
            await self.dialogues.transition(actor, dialogue_id, Action.START)
        elif state != DialogueState.LIVE:
            raise Conflict("Only a scheduled or live dialogue can hold its meeting.", code="dialogue_not_live")
        await self.ensure(dialogue_id)
        return await self.changes.state(actor, dialogue_id)

    async def ensure(self, dialogue_id: int) -> MeetingInfo:
        """The dialogue's meeting, opened now if it was not (once, whichever process asks)."""
        db, now = self.changes.db, self.changes.clock.now()
        async with db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
        new = meeting is None
        if meeting is None:
            try:
                async with db.session() as s:
                    meeting = await snapshots.add_meeting(
                        s, new_meeting(dialogue_id, new_room_id(), new_room_id(), now, room_pin=new_room_pin()))
            except IntegrityError:  # another process opened it at the same moment
                async with db.session() as s:
                    meeting = await store.meeting_for(s, dialogue_id)
                if meeting is None:  # pragma: no cover
                    raise
                new = False
            else:
                log.info("meeting for dialogue %s opened", dialogue_id)
                await self.changes.bus.publish(meeting_topic(dialogue_id), {"type": "meeting.opened",
                                                                            "dialogue_id": dialogue_id})
        if meeting.status == MeetingStatus.OPEN:
            self.rooms.follow(meeting)
            await self.watch.add(dialogue_id)
            try:
                await self.rooms.ensure_open(meeting, new=new)
            except EngineError as exc:
                log.error("could not open the rooms of meeting %s: %s", dialogue_id, exc)
        return meeting

    async def end_meeting(self, actor: Account, dialogue_id: int) -> list[SpeakingTime]:
        """The facilitator ends the meeting; a live dialogue ends with it."""
        access = await self.changes.host(actor, dialogue_id)
        summary = await self.end(dialogue_id)
        if access.dialogue.state == DialogueState.LIVE:
            with contextlib.suppress(Conflict):
                await self.dialogues.transition(actor, dialogue_id, Action.END)
        return summary

    async def end(self, dialogue_id: int) -> list[SpeakingTime]:
        holders: list[int] = []

        async def end(room: Room, s: AsyncSession) -> list[SpeakingTime]:
            if not room.open:
                raise NoChange
            # Their tokens stay until Janus has revoked them (below, or the sweep).
            holders.extend(p.id for p in room.participants.values() if p.janus_token)
            await self.changes.stop_recording(room, s)
            room.end()
            return room.speaking_times()

        try:
            summary, _state = await self.changes.change(dialogue_id, end)
        except NoChange:
            return await self.changes.speaking_times(dialogue_id)
        log.info("meeting for dialogue %s ended", dialogue_id)
        async with self.changes.db.session() as s:
            meeting = await store.meeting_for(s, dialogue_id)
        if meeting is not None:
            await self.rooms.close(meeting)
        if holders:
            await self.tokens.retire(dialogue_id, holders)
        await self.watch.remove(dialogue_id)
        await self.changes.bus.publish(meeting_topic(dialogue_id), {
            "type": "meeting.ended", "dialogue_id": dialogue_id,
            "summary": [{"participant_id": t.participant_id, "display_name": t.display_name,
                         "seconds": round(t.seconds, 1), "turns": t.turns, "share": round(t.share, 3)}
                        for t in summary],
        })
        if self.on_ended is not None:
            try:
                await self.on_ended(dialogue_id)
            except Exception as exc:  # what follows a meeting never undoes its end
                log.error("after the meeting of dialogue %s ended: %s", dialogue_id, type(exc).__name__)
        return summary
