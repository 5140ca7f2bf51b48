"""What people do to themselves in a meeting: come in through the lobby, report their status,
raise a hand, agree to (or withdraw from) the recording, leave, lose their connection.

Hosts, staff and observers skip the waiting room (observers only listen, and Janus keeps
them muted). Someone present who withdraws consent stops a running recording at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, InvalidInput
from parley.handlers.access import note_use
from parley.handlers.dialogues import clean_text
from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.lifecycle import Lifecycle
from parley.handlers.meetings.room import DISPLAY_NAME_MAX, Room, new_participant
from parley.handlers.meetings.tokens import Tokens
from parley.handlers.meetings.views import JoinInput
from parley.storage.stores import meeting_snapshots as snapshots
from parley.storage.stores.accounts import Account
from parley.storage.stores.meeting_snapshots import ParticipantDraft
from parley.vocabulary import AttendeeRole, AttendeeStatus, AuditAction, DialogueState, MediaMode, Presence

log = logging.getLogger(__name__)


class Attendance:
    def __init__(self, changes: MeetingChanges, lifecycle: Lifecycle, tokens: Tokens) -> None:
        self.changes = changes
        self.lifecycle = lifecycle
        self.tokens = tokens

    async def join(self, actor: Account, dialogue_id: int, data: JoinInput) -> dict[str, Any]:
        """Enter through the lobby: the waiting room, or straight in for the dialogue's staff."""
        access = await self.changes.access(actor, dialogue_id)
        d = access.dialogue
        if d.state != DialogueState.LIVE:
            if d.state in (DialogueState.DRAFT, DialogueState.SCHEDULED):
                raise Conflict("The meeting has not started yet.", code="meeting_not_started")
            raise Conflict("This meeting has ended.", code="meeting_ended")
        errors: dict[str, str] = {}
        try:
            mode = MediaMode(data.mode)
        except ValueError:
            errors["mode"] = "invalid"
            mode = MediaMode.AUDIO
        if access.role == AttendeeRole.OBSERVER:
            mode = MediaMode.LISTEN  # observers listen; they never publish
        language = data.language or access.language_default
        if access.role == AttendeeRole.STAFF:
            # An interpreter speaks the language they interpret into, and everyone sees it on their tile.
            language = access.language_default
        if language not in d.languages and access.role == AttendeeRole.PARTICIPANT:
            errors["language"] = "not_offered"
        name = clean_text(data.display_name) if data.display_name else actor.display_name
        if not name or len(name) > DISPLAY_NAME_MAX:
            errors["display_name"] = "length"
        if errors:
            raise InvalidInput("Some fields need attention.", fields=errors)
        assert name is not None
        consent = data.consent
        await self.lifecycle.ensure(dialogue_id)

        async def enter(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is not None:
                withdraws = p.status == AttendeeStatus.ADMITTED and p.recording_consent and not consent
                room.reenter(p, mode=mode, language=language, display_name=name, consent=consent)
                if withdraws:
                    await self._withdrawn(room, s, p)
            else:
                if room.meeting.locked and access.role == AttendeeRole.PARTICIPANT:
                    raise Conflict("The meeting is locked: nobody new can join.", code="meeting_locked")
                if not room.open:
                    raise Conflict("This meeting has ended.", code="meeting_ended")
                p = await snapshots.add_participant(s, new_participant(
                    room.meeting, user_id=actor.id, display_name=name, role=access.role, mode=mode,
                    language=language, consent=consent, now=room.now))
                room.add(p)
            if access.role == AttendeeRole.OBSERVER:
                # Should an observer's browser publish anyway, Janus keeps it muted.
                p.force_muted = True
                await note_use(s, room.now, actor, access.dialogue, access.dialogue_role, AuditAction.JOIN_MEETING)

        await self.changes.change(dialogue_id, enter)
        return await self.changes.state(actor, dialogue_id)

    async def _own(
        self, actor: Account, dialogue_id: int, fn: Callable[[Room, ParticipantDraft], None]
    ) -> dict[str, Any]:
        async def change(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None:
                raise Conflict("Join the meeting first.", code="not_joined")
            fn(room, p)

        await self.changes.change(dialogue_id, change, actor=actor)
        return await self.changes.state(actor, dialogue_id)

    async def report(self, actor: Account, dialogue_id: int, *, self_muted: bool | None = None,
                     camera_on: bool | None = None, presence: str | None = None) -> dict[str, Any]:
        try:
            where = Presence(presence) if presence is not None else None
        except ValueError:
            raise InvalidInput("Unknown presence.", fields={"presence": "invalid"}) from None

        def report(room: Room, p: ParticipantDraft) -> None:
            room.report(p.id, self_muted=self_muted, camera_on=camera_on, presence=where)

        return await self._own(actor, dialogue_id, report)

    async def raise_hand(self, actor: Account, dialogue_id: int, raised: bool) -> dict[str, Any]:
        def hand(room: Room, p: ParticipantDraft) -> None:
            room.raise_hand(p.id, raised)

        return await self._own(actor, dialogue_id, hand)

    async def set_consent(self, actor: Account, dialogue_id: int, consent: bool) -> dict[str, Any]:
        """Agree to the recording, or withdraw: someone present who withdraws stops a running
        (or paused) recording at once; a new one needs everyone's agreement again."""

        async def agree(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None:
                raise Conflict("Join the meeting first.", code="not_joined")
            room.set_consent(p.id, consent)
            if not consent and p.status == AttendeeStatus.ADMITTED:
                await self._withdrawn(room, s, p)

        await self.changes.change(dialogue_id, agree, actor=actor)
        return await self.changes.state(actor, dialogue_id)

    async def _withdrawn(self, room: Room, s: AsyncSession, p: ParticipantDraft) -> None:
        rid = await self.changes.stop_recording(room, s)
        if rid is not None:
            log.info("meeting %s: recording %s stopped (participant %s withdrew consent)",
                     room.meeting.dialogue_id, rid, p.id)

    async def leave(self, actor: Account, dialogue_id: int) -> dict[str, Any]:
        gone: list[ParticipantDraft] = []

        def leave(room: Room, p: ParticipantDraft) -> None:
            room.leave(p.id)
            gone.append(p)

        state = await self._own(actor, dialogue_id, leave)
        await self.tokens.disconnect(dialogue_id, gone)
        return state

    async def socket_closed(self, actor: Account, dialogue_id: int) -> None:
        """The meeting page's socket went away: show the person as reconnecting (not left)."""

        async def lost(room: Room, s: AsyncSession) -> None:
            p = room.of_user(actor.id)
            if p is None or not room.media_lost(p.id):
                raise NoChange

        await self.changes.try_change(dialogue_id, lost)
