"""This web process's own side of the registry: the embedded (or single configured) Janus
registered as node "local", and every heartbeat a pass that connects the pool to new nodes
and reports the load of the nodes no `parley media-node` heartbeats (external ones and
"local") while they answer.
"""

from __future__ import annotations

import logging
import os

from parley.clock import Clock
from parley.handlers.media_nodes.reaching import Reaching, endpoint
from parley.handlers.media_nodes.registry import Registry
from parley.handlers.media_nodes.rules import CONNECTED_STATES, LOCAL
from parley.handlers.media_nodes.views import NodeRegistration, NodeView
from parley.media.janus.config import JanusCredentials
from parley.media.janus.pool import NodeEndpoint
from parley.media.janus.service import JanusService
from parley.storage.database import Database
from parley.storage.stores import media_nodes as store

log = logging.getLogger(__name__)


def cpu_load() -> float:
    """This machine's one-minute load average per core."""
    try:
        return round(os.getloadavg()[0] / (os.cpu_count() or 1), 3)
    except OSError:
        return 0.0


class Upkeep:
    def __init__(self, db: Database, clock: Clock, registry: Registry, reaching: Reaching, *,
                 heartbeat_seconds: float = 5.0) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.reaching = reaching
        self._heartbeat = heartbeat_seconds
        self._local_id: int | None = None

    async def register_local(self, service: JanusService, *, max_rooms: int = 0, max_participants: int = 0) -> int:
        """The embedded (or single configured) Janus as node "local", served by ``service``."""
        creds = service.credentials
        view = await self.registry.register(NodeRegistration(
            name=LOCAL, ws_url=service.upstream_url, admin_url=service.admin_url, api_secret=creds.api_secret,
            admin_secret=creds.admin_secret, admin_key=creds.admin_key, max_rooms=max_rooms,
            max_participants=max_participants,
        ))
        self._local_id = view.id
        if self.reaching.pool is not None:
            self.reaching.pool.adopt(_endpoint_of(view, creds), service)
        return view.id

    async def keep_alive(self) -> None:
        """One pass of the web process's side: connect to new nodes, and vouch for the nodes no
        `parley media-node` heartbeats (external and local) while they answer."""
        pool = self.reaching.require_pool()
        async with self.db.session() as s:
            nodes = await store.nodes(s, states=CONNECTED_STATES)
        await pool.sync([endpoint(n) for n in nodes])
        unsupervised = {n.id for n in nodes if not n.supervised}
        for node_id in pool.node_ids:
            service = pool.service_for(node_id)
            if node_id not in unsupervised or not service.ready:
                continue
            try:
                rooms, participants = await service.load()
            except Exception as exc:  # a report is best effort; the next pass tries again
                log.warning("media node %d: no load report (%s)", node_id, type(exc).__name__)
                continue
            cpu = cpu_load() if node_id == self._local_id else None
            async with self.db.session() as s:
                await store.report(s, node_id, now=self.clock.now(), rooms=rooms, participants=participants,
                                   cpu_load=cpu)

    async def run(self) -> None:
        """`keep_alive` every heartbeat, until cancelled."""
        while True:
            try:
                await self.keep_alive()
            except Exception:
                log.exception("media node upkeep failed")
            await self.clock.sleep(self._heartbeat)


def _endpoint_of(view: NodeView, creds: JanusCredentials) -> NodeEndpoint:
    return NodeEndpoint(id=view.id, name=view.name, ws_url=view.ws_url, admin_url=view.admin_url, credentials=creds)
