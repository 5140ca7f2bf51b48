"""Placing meetings on nodes: the node an open meeting is on while it is usable, else one
chosen by load, avoiding nodes this process cannot reach.

The choice itself is the pure policy in `parley.media.placement`; this feeds it what the
database knows and records the choice on the meeting with a compare-and-set, so two web
processes placing one meeting agree on the winner.
"""

from __future__ import annotations

import logging

from parley.clock import Clock
from parley.errors import NotFound
from parley.handlers.media_nodes.reading import NodeViews
from parley.handlers.media_nodes.rules import CONNECTED_STATES
from parley.handlers.media_nodes.views import NodeView
from parley.media.janus.pool import JanusPool
from parley.media.placement import NoMediaNode, PlacementPolicy
from parley.storage.database import Database
from parley.storage.stores import media_nodes as store

log = logging.getLogger(__name__)


class Placing:
    def __init__(self, db: Database, clock: Clock, policy: PlacementPolicy, pool: JanusPool | None,
                 reading: NodeViews) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.pool = pool
        self.reading = reading

    def _unreachable(self) -> set[int]:
        pool = self.pool
        return {n for n in pool.node_ids if pool.is_lost(n)} if pool is not None else set()

    async def place(self, meeting_id: int) -> NodeView:
        """The node hosting this open meeting: the one it is on while that node is usable (draining
        included), else a new one chosen by load. NoMediaNode (``no_media_node``) when none can
        take it; NotFound (``meeting_not_found``) when the meeting is not open."""
        return await self._place(meeting_id, away_from=None)

    async def move(self, meeting_id: int, *, away_from: int) -> NodeView:
        """Place the meeting on another node than ``away_from`` (lost or removed); a no-op when
        someone else moved it already."""
        return await self._place(meeting_id, away_from=away_from)

    async def _place(self, meeting_id: int, *, away_from: int | None) -> NodeView:
        unreachable = self._unreachable()
        if away_from is not None:
            unreachable.add(away_from)
        async with self.db.session() as s:
            is_open, current = await store.meeting_node(s, meeting_id)
            if not is_open:
                raise NotFound("The meeting is not open.", code="meeting_not_found")
            nodes = await store.nodes(s, states=CONNECTED_STATES)
            by_id = {n.id: n for n in nodes}
            if current is not None and current in by_id and current not in unreachable:
                return await self.reading.view(s, by_id[current])
            loads = await self.reading.loads(s, nodes)
            choice = self.policy.choose(loads.values(), self.clock.now(), exclude=unreachable)
            if not await store.assign(s, meeting_id, choice.id, expected=current):
                # Another process placed (or moved) it first: its choice stands.
                _, winner = await store.meeting_node(s, meeting_id)
                if winner is None or winner not in by_id:
                    raise NoMediaNode("No media server can take this meeting now; try again in a moment.")
                return await self.reading.view(s, by_id[winner])
            log.info("meeting %d placed on media node %s", meeting_id, choice.name)
            return await self.reading.view(s, by_id[choice.id])

    async def release(self, meeting_id: int) -> None:
        """Forget where an ended meeting was (it counts on no node any more either way)."""
        async with self.db.session() as s:
            _, current = await store.meeting_node(s, meeting_id)
            if current is not None:
                await store.assign(s, meeting_id, None, expected=current)

    async def node_of(self, meeting_id: int) -> int | None:
        async with self.db.session() as s:
            return (await store.meeting_node(s, meeting_id))[1]

    async def meetings_on(self, node_id: int) -> list[int]:
        async with self.db.session() as s:
            return [m for _, m, _, _ in await store.open_meetings_on(s, node_id)]
