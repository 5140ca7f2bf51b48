"""Janus tokens nobody may use any more are revoked, and a token stays in the database until
Janus has let go of it.

Someone who leaves or is removed loses their token at once (`disconnect`); one that could not
be revoked (Janus away, an error) is put back, and `sweep` revokes it later with every other
token nobody may use (holder gone, meeting over, expired).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime

from parley.errors import EngineError
from parley.handlers.meetings.changes import MeetingChanges
from parley.handlers.meetings.room import token_live
from parley.handlers.meetings.rooms import MediaRooms
from parley.storage.stores import meeting_snapshots as snapshots
from parley.storage.stores import meetings as store
from parley.storage.stores.meeting_snapshots import ParticipantDraft
from parley.vocabulary import MeetingStatus

log = logging.getLogger(__name__)

# The sweep revokes at most a batch each time.
TOKEN_SWEEP_BATCH = 50

Taken = tuple[int, str, datetime | None]


class Tokens:
    def __init__(self, changes: MeetingChanges, rooms: MediaRooms) -> None:
        self.changes = changes
        self.rooms = rooms
        self.sweep_batch = TOKEN_SWEEP_BATCH

    async def disconnect(self, dialogue_id: int, people: Sequence[ParticipantDraft]) -> None:
        """Janus side of someone leaving: kick their feed, revoke and disallow their token."""
        await self.retire(dialogue_id, [p.id for p in people], feeds={p.id: p.feed_id for p in people})

    async def retire(self, dialogue_id: int, participant_ids: Sequence[int], *,
                     feeds: Mapping[int, int | None] | None = None) -> int:
        """Revoke the tokens of these participants that nobody may use any more; the count revoked.

        Forgets each token under the meeting's lock first (so `connect` cannot hand it out
        again meanwhile), then asks Janus; a token Janus could not revoke is put back for the
        sweep to retry, unless its holder got a new one since (which `connect` then revokes).
        """
        taken: list[Taken] = []
        async with self.changes.serial(dialogue_id), self.changes.db.session() as s:
            snapshot = await snapshots.take(s, dialogue_id, lock=True)
            if snapshot is None:
                return 0
            meeting = snapshot.meeting
            wanted = set(participant_ids)
            now = self.changes.clock.now()
            for p in snapshot.participants:
                if p.id in wanted and p.janus_token is not None and not token_live(meeting, p, now):
                    taken.append((p.id, p.janus_token, p.token_expires_at))
                    p.janus_token = None
                    p.token_expires_at = None
            await snapshots.save(s, snapshot, snapshot.participants)
            is_open = meeting.status == MeetingStatus.OPEN
            room_id, text_room_id, meeting_id = meeting.room_id, meeting.text_room_id, meeting.id
        if not taken:
            return 0
        janus = await self.rooms.service_of(meeting_id)
        if janus is None:
            return len(taken)  # on no node (or a lost one): there is nothing to revoke them from
        if not janus.ready:
            # A node that restarts forgets every token; until it answers, keep them for the sweep.
            await self._restore(dialogue_id, taken)
            return 0
        feeds = feeds or {}
        failed: list[Taken] = []

        async def attempt(what: str, pid: int, call: Awaitable[None]) -> bool:
            # Each step on its own: one failing must not leave the others undone.
            try:
                await call
            except EngineError as exc:
                log.error("janus %s for participant %s failed: %s", what, pid, exc)
                return False
            return True

        for pid, token, expires in taken:
            feed = feeds.get(pid)
            live_room = is_open and janus.ready
            if feed is not None and live_room:
                await attempt("kick", pid, janus.kick(room_id, feed))
            if not await attempt("revoke", pid, janus.revoke_token(token)):
                failed.append((pid, token, expires))
                continue
            if live_room:
                await attempt("disallow", pid, janus.allow(room_id, text_room_id, token, False))
        if failed:
            await self._restore(dialogue_id, failed)
        return len(taken) - len(failed)

    async def _restore(self, dialogue_id: int, tokens: Sequence[Taken]) -> None:
        async with self.changes.serial(dialogue_id), self.changes.db.session() as s:
            snapshot = await snapshots.take(s, dialogue_id, lock=True)
            people = {p.id: p for p in snapshot.participants} if snapshot is not None else {}
            for pid, token, expires in tokens:
                p = people.get(pid)
                if p is not None and p.janus_token is None:
                    p.janus_token, p.token_expires_at = token, expires
                else:
                    log.error("meeting %s: a token of participant %s stays in janus (revoking it failed)",
                              dialogue_id, pid)
            if snapshot is not None:
                await snapshots.save(s, snapshot, snapshot.participants)

    async def sweep(self) -> int:
        """Revoke in Janus, then forget, up to `sweep_batch` tokens nobody may use any more:
        their holder left or was removed, the meeting ended, or the token expired; how many.

        Catches what the immediate revocations missed (Janus away or failing, a crash in
        between). Leaves a node's tokens while it is not connected: one that restarted has
        forgotten every token already, and `MediaRooms.recover` reinstalls only the live ones.
        """
        async with self.changes.db.session() as s:
            found = await store.stale_tokens(s, self.changes.clock.now(), limit=self.sweep_batch)
        by_dialogue: dict[int, list[int]] = {}
        for pid, dialogue_id in found:
            by_dialogue.setdefault(dialogue_id, []).append(pid)
        revoked = 0
        for dialogue_id, pids in by_dialogue.items():
            revoked += await self.retire(dialogue_id, pids)
        if revoked:
            log.info("revoked %d stale janus token(s)", revoked)
        return revoked
