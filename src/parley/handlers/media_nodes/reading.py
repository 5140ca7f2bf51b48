"""Nodes as admins and the placement code see them: each node's load as the database knows
it (its last report, the open meetings placed on it, the participants known there), and
its view, with why it takes no new meeting when it does not (`PlacementPolicy.why_not`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.handlers.media_nodes.views import HostedMeeting, NodeView, mask
from parley.media.placement import NodeLoad, PlacementPolicy
from parley.storage.stores import media_nodes as store
from parley.storage.stores.media_nodes import NodeInfo


class NodeViews:
    def __init__(self, clock: Clock, policy: PlacementPolicy) -> None:
        self.clock = clock
        self.policy = policy

    async def loads(self, s: AsyncSession, nodes: Sequence[NodeInfo]) -> dict[int, NodeLoad]:
        placed = await store.open_meetings_per_node(s)
        known = await store.participants_per_node(s)
        return {
            n.id: NodeLoad(id=n.id, name=n.name, state=n.state.value, last_seen=n.last_seen,
                           max_rooms=n.max_rooms, max_participants=n.max_participants, rooms=n.rooms,
                           participants=max(n.participants, known.get(n.id, 0)), cpu_load=n.cpu_load,
                           placed=placed.get(n.id, 0))
            for n in nodes
        }

    async def views(self, s: AsyncSession, nodes: Sequence[NodeInfo]) -> list[NodeView]:
        loads = await self.loads(s, nodes)
        hosted: dict[int, list[HostedMeeting]] = {}
        for node_id, meeting_id, dialogue_id, title in await store.open_meetings_on(s):
            hosted.setdefault(node_id, []).append(HostedMeeting(meeting_id, dialogue_id, title))
        now = self.clock.now()
        return [
            NodeView(
                id=n.id, name=n.name, ws_url=n.ws_url, admin_url=n.admin_url, advertise=n.advertise, state=n.state,
                supervised=n.supervised, max_rooms=n.max_rooms, max_participants=n.max_participants,
                rooms=loads[n.id].room_count, participants=loads[n.id].participants, cpu_load=n.cpu_load,
                last_seen=n.last_seen, meetings=tuple(hosted.get(n.id, ())),
                availability=self.policy.why_not(loads[n.id], now) or "ok",
                secrets=f"api {mask(n.api_secret)}, admin {mask(n.admin_secret)}, key {mask(n.admin_key)}",
            )
            for n in nodes
        ]

    async def view(self, s: AsyncSession, node: NodeInfo) -> NodeView:
        return (await self.views(s, [node]))[0]
