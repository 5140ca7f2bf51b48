"""`Meetings` builds the meeting parts once, wires them, and starts and stops their work.

    changes      MeetingChanges   the one way to change a meeting; who someone is in it; state
    rooms        MediaRooms       the meeting's rooms on its media node; recovery, moves; monitor events
    tokens       Tokens           revoking what nobody may use any more
    connections  Connections      a token, a feed id and the pin for each browser connection
    lifecycle    Lifecycle        opening and ending
    attendance   Attendance       lobby, own status, hand, consent, leaving
    facilitation Facilitation     waiting room, removal, mute, lock, speaker queue
    recordings   Recordings       start, pause/resume with consent, convert, files
    chat         Chat             the in-meeting chat
    ticker       Ticker           timed turns, lost connections, the token sweep
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.dialogues import Dialogues
from parley.handlers.leases import Leases
from parley.handlers.media_nodes import MediaNodes
from parley.handlers.meetings.attendance import Attendance
from parley.handlers.meetings.changes import MeetingChanges
from parley.handlers.meetings.chat import Chat
from parley.handlers.meetings.connect import Connections
from parley.handlers.meetings.facilitation import Facilitation
from parley.handlers.meetings.lifecycle import Lifecycle
from parley.handlers.meetings.recordings import Recordings
from parley.handlers.meetings.rooms import MediaRooms
from parley.handlers.meetings.ticker import Ticker
from parley.handlers.meetings.tokens import Tokens
from parley.handlers.meetings.watch import DialogueWatch
from parley.storage.database import Database
from parley.storage.stores import meetings as store
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


class Meetings:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: Bus,
        dialogues: Dialogues,
        nodes: MediaNodes,
        *,
        data_dir: Path,
        token_ttl: int = 43200,
        recorder: Sequence[str] | None = None,
        leases: Leases | None = None,
        on_ended: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """``on_ended(dialogue_id)`` runs once a meeting has ended (its transcript's translation)."""
        self.nodes = nodes
        # The ticker (turns, presence, the token sweep) runs in one process at a time.
        self.leases = leases or Leases(db, clock)
        self._tasks = TaskOwner("meetings")
        self._started = False
        self.changes = MeetingChanges(db, clock, bus)
        self.rooms = MediaRooms(self.changes, nodes, self.leases, self._tasks, data_dir=data_dir)
        self.tokens = Tokens(self.changes, self.rooms)
        self.connections = Connections(self.changes, self.rooms, token_ttl=token_ttl)
        self.watch = DialogueWatch(bus, ended=lambda d: self.lifecycle.end(d),
                                   observer_revoked=lambda d, u: self.facilitation.send_out_observer(d, u))
        self.lifecycle = Lifecycle(self.changes, self.rooms, self.tokens, dialogues, self.watch, on_ended=on_ended)
        self.attendance = Attendance(self.changes, self.lifecycle, self.tokens)
        self.facilitation = Facilitation(self.changes, self.rooms, self.tokens)
        self.recordings = Recordings(self.changes, self.rooms, self._tasks, self.leases, recorder=recorder)
        self.chat = Chat(self.changes)
        self.ticker = Ticker(self.changes, self.tokens)
        # What routes and other handlers read most.
        self.access = self.changes.access
        self.state = self.changes.state

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            async with self.changes.db.session() as s:
                meetings = await store.open_meetings(s)
        except DBAPIError as exc:
            log.error("meeting tables are missing or unreadable (run `parley migrate`): %s", type(exc).__name__)
            meetings = []
        await self.watch.start(self._tasks, [m.dialogue_id for m in meetings])
        self._tasks.spawn("ticker", self.leases("meetings.ticker", self.ticker.run))
        for m in meetings:
            self.rooms.follow(m)
        try:
            await self.recordings.resume_conversions()
        except DBAPIError as exc:
            log.error("recordings are unreadable (run `parley migrate`): %s", type(exc).__name__)
        self.rooms.watch_nodes()  # the watching process recovers each node's rooms

    async def stop(self) -> None:
        self._started = False
        await self._tasks.stop()
        await self.watch.stop()
