"""How an admitted person reaches the meeting's room: a token, a fresh feed id, the pin.

The token is issued once and only to its owner, reused until it nears its expiry; every
connection gets a new publisher id (the old feed is kicked), so a reconnecting browser never
fights its own ghost. The proxy asks `scope` which one room a socket may reach.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Conflict, EngineError, Forbidden, NotFound
from parley.handlers.meetings.changes import MeetingChanges
from parley.handlers.meetings.room import Room, feed_for
from parley.handlers.meetings.rooms import MediaRooms
from parley.handlers.meetings.views import ConnectInfo
from parley.media.janus.guard import Scope
from parley.storage.stores.accounts import Account
from parley.storage.stores.meeting_snapshots import ParticipantDraft
from parley.vocabulary import AttendeeStatus, MeetingStatus, Presence

log = logging.getLogger(__name__)


class _TokenChanged(Exception):
    """The token `connect` meant to hand out was revoked or replaced meanwhile: start again."""


class Connections:
    def __init__(self, changes: MeetingChanges, rooms: MediaRooms, *, token_ttl: int = 43200) -> None:
        self.changes = changes
        self.rooms = rooms
        self.token_ttl = token_ttl

    async def connect(self, actor: Account, dialogue_id: int) -> ConnectInfo:
        """Credentials for one connection to Janus: a token (issued once) and a fresh feed id."""
        for _ in range(3):
            try:
                return await self._connect(actor, dialogue_id)
            except _TokenChanged:
                continue  # revoked (the sweep, a leave) or replaced while we looked: look again
        raise EngineError("the janus token kept changing", retryable=True, engine="janus")

    async def _connect(self, actor: Account, dialogue_id: int) -> ConnectInfo:
        async with self.changes.db.session() as s:
            meeting, p = await self.changes.mine_in(s, actor, dialogue_id)
        if meeting.status != MeetingStatus.OPEN:
            raise Conflict("This meeting has ended.", code="meeting_ended")
        if p.status != AttendeeStatus.ADMITTED:
            raise Forbidden("The facilitator has not let you in yet.", code="not_admitted")
        janus = await self.rooms.ensure_open(meeting)
        now = self.changes.clock.now()
        fresh: str | None = None
        reused = p.janus_token
        if p.janus_token is None or p.token_expires_at is None or p.token_expires_at <= now + timedelta(minutes=5):
            fresh = await janus.issue_token()
            await janus.allow(meeting.room_id, meeting.text_room_id, fresh, True)
        old_feed = p.feed_id
        replaced: list[str] = []
        pins: list[str | None] = []

        async def assign(room: Room, s: AsyncSession) -> ParticipantDraft:
            pins[:] = [room.meeting.room_pin]  # read under the lock: a removal may just have changed it
            me = room.get(p.id)
            if me.status != AttendeeStatus.ADMITTED:
                raise Forbidden("The facilitator has not let you in yet.", code="not_admitted")
            replaced.clear()
            if fresh is not None:
                if me.janus_token is not None:
                    replaced.append(me.janus_token)
                me.janus_token = fresh
                me.token_expires_at = room.now + timedelta(seconds=self.token_ttl)
            elif me.janus_token != reused:
                raise _TokenChanged
            me.feed_id = feed_for(me.id)
            if me.presence == Presence.OFFLINE:
                me.presence = Presence.RECONNECTING
            me.updated_at = room.now
            return me

        try:
            me, _ = await self.changes.change(dialogue_id, assign)
        except BaseException:
            if fresh is not None:
                with contextlib.suppress(EngineError):
                    await janus.revoke_token(fresh)
            raise
        for token in replaced:
            try:
                await janus.revoke_token(token)
            except EngineError as exc:
                log.error("meeting %s: janus kept a replaced token of participant %s: %s", dialogue_id, me.id, exc)
        if old_feed is not None and old_feed != me.feed_id:
            with contextlib.suppress(EngineError):
                await janus.kick(meeting.room_id, old_feed)
        assert me.janus_token is not None and me.feed_id is not None
        browser = janus.browser_config(me.id)
        server = browser.server
        if server.startswith("/"):
            server = f"{server}?dialogue={dialogue_id}"
        pin = pins[0] if pins and pins[0] is not None else meeting.room_pin
        assert pin is not None  # MediaRooms.open gave the meeting one
        return ConnectInfo(server=server, ice_servers=browser.ice_servers, token=me.janus_token,
                           room_id=meeting.room_id, text_room_id=meeting.text_room_id, pin=pin,
                           feed_id=me.feed_id, participant_id=me.id, mode=me.mode)

    async def scope(self, actor: Account, dialogue_id: int) -> Scope | None:
        """The one room ``actor``'s Janus proxy socket may reach, with their publisher id; None
        when they may not open one (not admitted, or the meeting is not open)."""
        try:
            async with self.changes.db.session() as s:
                meeting, p = await self.changes.mine_in(s, actor, dialogue_id)
        except (NotFound, Forbidden, Conflict):
            return None
        if meeting.status != MeetingStatus.OPEN or p.status != AttendeeStatus.ADMITTED:
            return None
        return Scope(room_id=meeting.room_id, feed_id=p.feed_id)

    async def may_use_janus(self, actor: Account, dialogue_id: int) -> bool:
        """Whether ``actor`` may open Parley's Janus WebSocket proxy for this meeting."""
        return await self.scope(actor, dialogue_id) is not None
