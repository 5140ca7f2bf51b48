"""`MediaNodes` builds the media node parts once and hands out their calls.

    reading   NodeViews  each node's load and view, as the database knows them
    registry  Registry   registering, adding, heartbeats, draining, removing, listing
    placing   Placing    which node hosts an open meeting
    reaching  Reaching   the JanusService for a node or a meeting; lost nodes
    upkeep    Upkeep     the "local" node and the web process's heartbeat pass
"""

from __future__ import annotations

from parley.clock import Clock
from parley.handlers.media_nodes.placing import Placing
from parley.handlers.media_nodes.reaching import Reaching
from parley.handlers.media_nodes.reading import NodeViews
from parley.handlers.media_nodes.registry import Registry
from parley.handlers.media_nodes.upkeep import Upkeep
from parley.media.janus.pool import JanusPool
from parley.media.placement import PlacementPolicy
from parley.storage.database import Database


class MediaNodes:
    """The registry of Janus servers, placing meetings on them, and reaching them (see the parts)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        policy: PlacementPolicy = PlacementPolicy(),
        pool: JanusPool | None = None,
        heartbeat_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.pool = pool
        self.reading = NodeViews(clock, policy)
        self.registry = Registry(db, clock, self.reading)
        self.placing = Placing(db, clock, policy, pool, self.reading)
        self.reaching = Reaching(db, pool, self.placing)
        self.upkeep = Upkeep(db, clock, self.registry, self.reaching, heartbeat_seconds=heartbeat_seconds)
        # What meetings, routes, the CLI and the media node agent call.
        self.register = self.registry.register
        self.add = self.registry.add
        self.heartbeat = self.registry.heartbeat
        self.depart = self.registry.depart
        self.drain = self.registry.drain
        self.undrain = self.registry.undrain
        self.remove = self.registry.remove
        self.nodes = self.registry.nodes
        self.get = self.registry.get
        self.find = self.registry.find
        self.place = self.placing.place
        self.move = self.placing.move
        self.release = self.placing.release
        self.node_of = self.placing.node_of
        self.meetings_on = self.placing.meetings_on
        self.service_for = self.reaching.service_for
        self.service_for_meeting = self.reaching.service_for_meeting
        self.on_node_lost = self.reaching.on_node_lost
        self.sync_pool = self.reaching.sync_pool
        self.register_local = self.upkeep.register_local
        self.keep_alive = self.upkeep.keep_alive
        self.run = self.upkeep.run
