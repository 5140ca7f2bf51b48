"""What the facilitator does: the waiting room (admit, deny), removing someone, blocking a
microphone, locking the meeting, and the speaker queue with timed turns.

Removing someone (or revoking an observer's grant) gives the room a new pin: Janus kicks
their feed and refuses their token from now on, what they knew opens nothing, and their
proxy sockets close when the new state reaches them (`views.admitted_in`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import InvalidInput
from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.room import Room
from parley.handlers.meetings.rooms import MediaRooms, repin
from parley.handlers.meetings.tokens import Tokens
from parley.storage.stores.accounts import Account
from parley.storage.stores.meeting_snapshots import ParticipantDraft
from parley.vocabulary import AttendeeRole, AttendeeStatus

log = logging.getLogger(__name__)

FLOOR_ACTIONS = ("next", "give", "end", "length")


class Facilitation:
    def __init__(self, changes: MeetingChanges, rooms: MediaRooms, tokens: Tokens) -> None:
        self.changes = changes
        self.rooms = rooms
        self.tokens = tokens

    async def _host_change(self, actor: Account, dialogue_id: int,
                           fn: Callable[[Room, AsyncSession], Awaitable[None]]) -> dict[str, Any]:
        await self.changes.change(dialogue_id, fn, actor=actor, host_only=True)
        return await self.changes.state(actor, dialogue_id)

    async def admit(self, actor: Account, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        async def admit(room: Room, s: AsyncSession) -> None:
            room.admit(participant_id)

        return await self._host_change(actor, dialogue_id, admit)

    async def admit_all(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        async def admit(room: Room, s: AsyncSession) -> None:
            for p in room.waiting():
                room.admit(p.id)

        return await self._host_change(actor, dialogue_id, admit)

    async def deny(self, actor: Account, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        async def deny(room: Room, s: AsyncSession) -> None:
            room.deny(participant_id)

        return await self._host_change(actor, dialogue_id, deny)

    async def remove(self, actor: Account, dialogue_id: int, participant_id: int) -> dict[str, Any]:
        """Remove someone: kicked, token refused, the room re-pinned (see the module's docstring)."""
        gone: list[ParticipantDraft] = []
        pins: list[tuple[int, str]] = []

        async def remove(room: Room, s: AsyncSession) -> None:
            gone.append(room.remove(participant_id))
            pins.append(repin(room))

        await self.changes.change(dialogue_id, remove, actor=actor, host_only=True)
        await self._sent_out(dialogue_id, gone, pins)
        log.info("meeting %s: participant %s removed by user %s", dialogue_id, participant_id, actor.id)
        return await self.changes.state(actor, dialogue_id)

    async def send_out_observer(self, dialogue_id: int, user_id: int) -> None:
        """An observer's grant was revoked: they leave the meeting now, and Janus drops them."""
        gone: list[ParticipantDraft] = []
        pins: list[tuple[int, str]] = []

        async def out(room: Room, s: AsyncSession) -> None:
            p = room.of_user(user_id)
            if p is None or p.role != AttendeeRole.OBSERVER or p.status not in (AttendeeStatus.ADMITTED,
                                                                                  AttendeeStatus.WAITING):
                raise NoChange
            gone.append(room.leave(p.id))
            pins.append(repin(room))

        if await self.changes.try_change(dialogue_id, out):
            await self._sent_out(dialogue_id, gone, pins)

    async def _sent_out(self, dialogue_id: int, gone: list[ParticipantDraft], pins: list[tuple[int, str]]) -> None:
        await self.tokens.disconnect(dialogue_id, gone)
        for room_id, pin in pins:
            await self.rooms.set_pin(dialogue_id, room_id, pin)

    async def mute(self, actor: Account, dialogue_id: int, participant_id: int, muted: bool) -> dict[str, Any]:
        """Block (or release) someone's microphone in Janus itself."""

        async def mute(room: Room, s: AsyncSession) -> tuple[int, int | None]:
            p = room.force_mute(participant_id, muted)
            return room.meeting.room_id, p.feed_id

        (room_id, feed), _ = await self.changes.change(dialogue_id, mute, actor=actor, host_only=True)
        if feed is not None:
            await self.rooms.moderate(dialogue_id, room_id, feed, muted)
        return await self.changes.state(actor, dialogue_id)

    async def lock(self, actor: Account, dialogue_id: int, locked: bool) -> dict[str, Any]:
        async def lock(room: Room, s: AsyncSession) -> None:
            room.set_locked(locked)

        return await self._host_change(actor, dialogue_id, lock)

    async def floor(self, actor: Account, dialogue_id: int, action: str, *, participant_id: int | None = None,
                    seconds: int | None = None) -> dict[str, Any]:
        """The speaker queue: ``next`` (head of the queue), ``give`` (someone), ``end``, ``length``."""
        if action not in FLOOR_ACTIONS:
            raise InvalidInput("Unknown action.", fields={"action": "invalid"})
        if action == "give" and participant_id is None:
            raise InvalidInput("Say who gets the floor.", fields={"participant_id": "required"})

        async def floor(room: Room, s: AsyncSession) -> None:
            if action == "length":
                room.set_turn_seconds(seconds)
            elif action == "end":
                room.end_turn()
            else:
                room.give_floor(participant_id if action == "give" else None)

        return await self._host_change(actor, dialogue_id, floor)
