"""Reaching the nodes: this process's `JanusPool` connected to every active or draining node,
the `JanusService` for a node or for an open meeting (placed first when it must be), and
the callbacks for a node that stayed unreachable (its meetings must move).

    meetings  --service_for_meeting(meeting)-->  place --> node --> JanusPool.service_for(node)
    JanusPool: a node unreachable for media.lost_seconds --> on_node_lost(node, its open meetings)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from parley.handlers.media_nodes.placing import Placing
from parley.handlers.media_nodes.rules import CONNECTED_STATES
from parley.handlers.media_nodes.views import NodeView
from parley.media.janus.config import JanusCredentials
from parley.media.janus.pool import JanusPool, NodeEndpoint
from parley.media.janus.service import JanusService
from parley.media.placement import NoMediaNode
from parley.storage.database import Database
from parley.storage.stores import media_nodes as store
from parley.storage.stores.media_nodes import NodeInfo

log = logging.getLogger(__name__)

LostCallback = Callable[[int, list[int]], Awaitable[None]]


def endpoint(node: NodeInfo) -> NodeEndpoint:
    return NodeEndpoint(id=node.id, name=node.name, ws_url=node.ws_url, admin_url=node.admin_url,
                        credentials=JanusCredentials(api_secret=node.api_secret, admin_secret=node.admin_secret,
                                                     admin_key=node.admin_key))


class Reaching:
    def __init__(self, db: Database, pool: JanusPool | None, placing: Placing) -> None:
        self.db = db
        self.pool = pool
        self.placing = placing
        self._lost_callbacks: list[LostCallback] = []
        if pool is not None:
            pool.on_node_lost(self._node_lost)

    def require_pool(self) -> JanusPool:
        if self.pool is None:
            raise NoMediaNode("This process has no media servers.")
        return self.pool

    async def service_for(self, node_id: int) -> JanusService:
        """The JanusService reaching that node (connecting to it first if this process has not yet)."""
        pool = self.require_pool()
        if node_id not in pool:
            await self.sync_pool()
        if node_id not in pool:
            raise NoMediaNode("That media server is not available.")
        return pool.service_for(node_id)

    async def service_for_meeting(self, meeting_id: int) -> tuple[NodeView, JanusService]:
        """The node hosting this open meeting (placed now if it is on none, or on one that is
        gone) and the service reaching it: what meeting code calls before opening its rooms."""
        node = await self.placing.place(meeting_id)
        return node, await self.service_for(node.id)

    def on_node_lost(self, callback: LostCallback) -> None:
        """``callback(node_id, open meeting ids on it)`` once a node stayed unreachable for
        media.lost_seconds (every web process sees it: moving a meeting must be idempotent,
        which `move` is)."""
        self._lost_callbacks.append(callback)

    async def _node_lost(self, node_id: int) -> None:
        meetings = await self.placing.meetings_on(node_id)
        log.warning("media node %d lost with %d open meetings", node_id, len(meetings))
        for callback in list(self._lost_callbacks):
            try:
                await callback(node_id, meetings)
            except Exception:
                log.exception("media node lost callback failed")

    async def sync_pool(self) -> None:
        """Connect this process's pool to every active or draining node, and only those."""
        pool = self.require_pool()
        async with self.db.session() as s:
            nodes = await store.nodes(s, states=CONNECTED_STATES)
        await pool.sync([endpoint(n) for n in nodes])
