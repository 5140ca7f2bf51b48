"""The meetings' clock: timed turns that ran out, lost connections that stay lost, stale tokens.

One tick a second passes on or ends timed turns that are over and shows connections lost for
longer than `RECONNECT_GRACE` as offline; every `TOKEN_SWEEP_SECONDS` it has a batch of
tokens nobody may use any more revoked.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parley.handlers.meetings.changes import MeetingChanges, NoChange
from parley.handlers.meetings.room import Room
from parley.handlers.meetings.tokens import Tokens
from parley.storage.stores import meetings as store
from parley.vocabulary import Presence

log = logging.getLogger(__name__)

# Someone whose connection dropped shows as reconnecting this long, then as offline.
RECONNECT_GRACE = timedelta(seconds=60)
TICK_SECONDS = 1.0
TOKEN_SWEEP_SECONDS = 15.0


class Ticker:
    def __init__(self, changes: MeetingChanges, tokens: Tokens) -> None:
        self.changes = changes
        self.tokens = tokens
        self._next_sweep: float | None = None

    async def tick(self) -> None:
        clock = self.changes.clock
        now = clock.now()
        async with self.changes.db.session() as s:
            due = await store.due_turns(s, now)
            stale = await store.stale_reconnects(s, now - RECONNECT_GRACE)

        async def expire(room: Room, s: AsyncSession) -> None:
            if not room.tick():
                raise NoChange

        async def offline(room: Room, s: AsyncSession) -> None:
            changed = False
            for p in room.admitted():
                if p.presence == Presence.RECONNECTING and p.updated_at <= room.now - RECONNECT_GRACE:
                    p.presence = Presence.OFFLINE
                    p.updated_at = room.now
                    changed = True
            if not changed:
                raise NoChange

        for dialogue_id in due:
            await self.changes.try_change(dialogue_id, expire)
        for dialogue_id in stale:
            await self.changes.try_change(dialogue_id, offline)
        if self._next_sweep is None or clock.monotonic() >= self._next_sweep:
            self._next_sweep = clock.monotonic() + TOKEN_SWEEP_SECONDS
            await self.tokens.sweep()

    async def run(self) -> None:
        while True:
            await self.changes.clock.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("meeting ticker failed")
