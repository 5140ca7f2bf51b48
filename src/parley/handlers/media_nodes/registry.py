"""The registry of media nodes: nodes registering themselves (and coming back), admins adding
external ones, heartbeats and clean stops, draining, removing, and listing them.

A node's secrets are kept in the table and never shown in full (`NodeView.secrets`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, NotFound
from parley.handlers.media_nodes.reading import NodeViews
from parley.handlers.media_nodes.rules import CONNECTED_STATES, require_admin
from parley.handlers.media_nodes.validation import validate
from parley.handlers.media_nodes.views import LoadReport, NodeRegistration, NodeView
from parley.storage.database import Database
from parley.storage.stores import media_nodes as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.media_nodes import NodeInfo
from parley.vocabulary import NodeState

log = logging.getLogger(__name__)


class Registry:
    def __init__(self, db: Database, clock: Clock, reading: NodeViews) -> None:
        self.db = db
        self.clock = clock
        self.reading = reading

    async def register(self, reg: NodeRegistration) -> NodeView:
        """Add or update the node named ``reg.name`` (a media node starting; a removed one comes
        back active, a draining one stays draining) and mark it seen now."""
        reg = validate(reg)
        try:
            return await self._register(reg)
        except IntegrityError:  # several web processes starting at once add "local" together
            return await self._register(reg)

    async def _register(self, reg: NodeRegistration) -> NodeView:
        now = self.clock.now()
        async with self.db.session() as s:
            known = await store.by_name(s, reg.name)
            if known is None:
                node_id = await store.add(s, reg, now, last_seen=now)
            else:
                node_id = known.id
                await store.reregister(s, node_id, reg, now)
            log.info("media node %s registered (id %d)", reg.name, node_id)
            return await self._view(s, node_id)

    async def add(self, actor: Account | None, reg: NodeRegistration) -> NodeView:
        """Register an external Janus (reached through its API with its secrets); a new name only."""
        require_admin(actor)
        reg = validate(reg)
        now = self.clock.now()
        async with self.db.session() as s:
            if await store.by_name(s, reg.name) is not None:
                raise Conflict("A media node with this name exists.", code="node_exists")
            node_id = await store.add(s, reg, now, last_seen=None)
            log.info("media node %s added (id %d)", reg.name, node_id)
            return await self._view(s, node_id)

    async def _view(self, s: AsyncSession, node_id: int) -> NodeView:
        node = await store.node(s, node_id)
        assert node is not None  # written in this transaction
        return await self.reading.view(s, node)

    async def heartbeat(self, node_id: int, report: LoadReport) -> None:
        """The node is alive now, with this load; NotFound when it was deleted."""
        async with self.db.session() as s:
            if not await store.report(s, node_id, now=self.clock.now(), rooms=report.rooms,
                                      participants=report.participants, cpu_load=report.cpu_load):
                raise NotFound("No such media node.", code="node_not_found")

    async def depart(self, node_id: int) -> None:
        """A clean stop: the node is offline (takes no meeting) until it registers again."""
        async with self.db.session() as s:
            await store.departed(s, node_id, self.clock.now())
        log.info("media node %d departed", node_id)

    async def drain(self, actor: Account | None, node_id: int) -> NodeView:
        """No new meetings on this node; the running ones finish there."""
        return await self._set_state(actor, node_id, NodeState.DRAINING, {NodeState.ACTIVE, NodeState.DRAINING})

    async def undrain(self, actor: Account | None, node_id: int) -> NodeView:
        return await self._set_state(actor, node_id, NodeState.ACTIVE, {NodeState.ACTIVE, NodeState.DRAINING})

    async def remove(self, actor: Account | None, node_id: int, *, force: bool = False) -> NodeView:
        """Take the node out for good; refused (``node_busy``) while it hosts open meetings unless
        ``force`` (they then move wherever the meetings code puts them when it next places them)."""
        require_admin(actor)
        async with self.db.session() as s:
            hosted = await store.open_meetings_on(s, node_id)
            if hosted and not force:
                raise Conflict("Drain the node and let its meetings end first (or force the removal).",
                               code="node_busy")
        return await self._set_state(actor, node_id, NodeState.REMOVED, set(NodeState))

    async def _set_state(self, actor: Account | None, node_id: int, state: NodeState,
                         allowed_from: set[NodeState]) -> NodeView:
        require_admin(actor)
        async with self.db.session() as s:
            node = await store.node(s, node_id)
            if node is None:
                raise NotFound("No such media node.", code="node_not_found")
            if node.state not in allowed_from:
                raise Conflict("The node is removed; start its media node again to bring it back.",
                               code="node_removed")
            if node.state != state:
                await store.set_state(s, node_id, state, self.clock.now())
                log.info("media node %s is now %s", node.name, state.value)
            return await self._view(s, node_id)

    async def nodes(self, actor: Account | None, *, include_removed: bool = False) -> list[NodeView]:
        require_admin(actor)
        async with self.db.session() as s:
            states = None if include_removed else CONNECTED_STATES
            return await self.reading.views(s, await store.nodes(s, states=states))

    async def get(self, actor: Account | None, node_id: int) -> NodeView:
        return await self._one(actor, lambda s: store.node(s, node_id))

    async def find(self, actor: Account | None, name: str) -> NodeView:
        """The node with this name (for `parley nodes`, which names nodes)."""
        return await self._one(actor, lambda s: store.by_name(s, name))

    async def _one(self, actor: Account | None,
                   lookup: Callable[[AsyncSession], Awaitable[NodeInfo | None]]) -> NodeView:
        require_admin(actor)
        async with self.db.session() as s:
            node = await lookup(s)
            if node is None:
                raise NotFound("No such media node.", code="node_not_found")
            return await self.reading.view(s, node)
