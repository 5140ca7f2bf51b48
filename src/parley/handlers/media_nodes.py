"""Media nodes: the registry of Janus servers, placing meetings on them, and reaching them.

    parley media-node (one per media machine)  --register, heartbeat, depart-->  media_nodes table
    parley nodes add / the admin page           --add, drain, undrain, remove-->  media_nodes table
    parley serve, embedded Janus                --register_local-->              "local" node
    meetings                                    --place(meeting) -> node, service_for(node)-->  JanusPool
    JanusPool: a node unreachable for media.lost_seconds --> on_node_lost(node, its open meetings)

Placement itself is the pure policy in `parley.media.placement`; this module feeds it what
the database knows (reports, open meetings per node) and records the choice on the meeting
with a compare-and-set, so two web processes placing one meeting agree on the winner.
Secrets live in the table and are never shown in full (`NodeView.secrets`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import clean_text
from parley.media.janus.config import JanusCredentials
from parley.media.janus.pool import JanusPool, NodeEndpoint
from parley.media.janus.service import JanusService
from parley.media.placement import NodeLoad, NoMediaNode, PlacementPolicy
from parley.storage.database import Database
from parley.storage.media_node_models import MediaNode, NodeState
from parley.storage.models import Role
from parley.storage.stores import media_nodes as store
from parley.storage.stores.accounts import Account

log = logging.getLogger(__name__)

LOCAL = "local"
NAME_MAX = 64
URL_MAX = 255
SECRET_MIN, SECRET_MAX = 8, 128
# A node the pool reaches this many times in a row without meetings is fine; these are the
# states the pool connects to (a removed node's meetings are moved by whoever removed it).
CONNECTED_STATES = (NodeState.ACTIVE, NodeState.DRAINING)

LostCallback = Callable[[int, list[int]], Awaitable[None]]


@dataclass(frozen=True)
class NodeRegistration:
    """What registers a node: where its Janus answers, its secrets and its capacity."""

    name: str
    ws_url: str
    admin_url: str
    api_secret: str = field(repr=False)
    admin_secret: str = field(repr=False)
    admin_key: str = field(repr=False)
    advertise: str = ""
    max_rooms: int = 0
    max_participants: int = 0
    # True: a `parley media-node` runs it and heartbeats.
    supervised: bool = False


@dataclass(frozen=True)
class LoadReport:
    """What a node measured; None leaves the last value as it was."""

    rooms: int | None = None
    participants: int | None = None
    cpu_load: float | None = None


@dataclass(frozen=True)
class HostedMeeting:
    meeting_id: int
    dialogue_id: int
    title: str


@dataclass(frozen=True)
class NodeView:
    id: int
    name: str
    ws_url: str
    admin_url: str
    advertise: str
    state: NodeState
    supervised: bool
    max_rooms: int
    max_participants: int
    rooms: int
    participants: int
    cpu_load: float
    last_seen: datetime | None
    # Open meetings placed on it.
    meetings: tuple[HostedMeeting, ...]
    # "ok", or why it takes no new meeting: draining | removed | stale | rooms_full | ...
    availability: str
    # The secrets, masked: enough to tell two apart, never enough to use.
    secrets: str


def mask(secret: str) -> str:
    return f"{secret[:3]}…({len(secret)})" if len(secret) >= 12 else "…"


def cpu_load() -> float:
    """This machine's one-minute load average per core."""
    try:
        return round(os.getloadavg()[0] / (os.cpu_count() or 1), 3)
    except OSError:
        return 0.0


def _check_url(key: str, value: str, schemes: tuple[str, ...]) -> str:
    text = clean_text(value) or ""
    parts = urlsplit(text)
    if len(text) > URL_MAX or parts.scheme not in schemes or not parts.hostname:
        raise InvalidInput(f"The {key} must be a {' or '.join(s + '://' for s in schemes)} URL.",
                           code="invalid_node", fields={key: "invalid"})
    return text


def validate(reg: NodeRegistration) -> NodeRegistration:
    """The registration with its text cleaned; InvalidInput (``invalid_node``) naming the field."""
    name = clean_text(reg.name) or ""
    if not 1 <= len(name) <= NAME_MAX or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise InvalidInput("A node name is 1 to 64 letters, digits, '-', '_' or '.'.", code="invalid_node",
                           fields={"name": "invalid"})
    for key in ("api_secret", "admin_secret", "admin_key"):
        secret = getattr(reg, key)
        if not SECRET_MIN <= len(secret) <= SECRET_MAX or clean_text(secret) != secret or " " in secret:
            raise InvalidInput(f"The node's {key} must be {SECRET_MIN} to {SECRET_MAX} characters without spaces.",
                               code="invalid_node", fields={key: "invalid"})
    advertise = clean_text(reg.advertise) or ""
    if advertise:
        try:
            ipaddress.ip_address(advertise)
        except ValueError:
            if len(advertise) > URL_MAX or not all(ch.isalnum() or ch in "-." for ch in advertise):
                raise InvalidInput("The advertised address must be an IP address or a host name.",
                                   code="invalid_node", fields={"advertise": "invalid"}) from None
    for key in ("max_rooms", "max_participants"):
        if not 0 <= getattr(reg, key) <= 1_000_000:
            raise InvalidInput("Capacity is 0 (no limit) or a positive number.", code="invalid_node",
                               fields={key: "invalid"})
    return NodeRegistration(
        name=name, ws_url=_check_url("ws_url", reg.ws_url, ("ws", "wss")),
        admin_url=_check_url("admin_url", reg.admin_url, ("http", "https")), api_secret=reg.api_secret,
        admin_secret=reg.admin_secret, admin_key=reg.admin_key, advertise=advertise, max_rooms=reg.max_rooms,
        max_participants=reg.max_participants, supervised=reg.supervised,
    )


def _endpoint(node: MediaNode) -> NodeEndpoint:
    return NodeEndpoint(id=node.id, name=node.name, ws_url=node.ws_url, admin_url=node.admin_url,
                        credentials=JanusCredentials(api_secret=node.api_secret, admin_secret=node.admin_secret,
                                                     admin_key=node.admin_key))


def _require_admin(actor: Account | None) -> None:
    """``None`` is the operator at the command line."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("Media nodes are managed by admins.", code="not_admin")


class MediaNodes:
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
        self._heartbeat = heartbeat_seconds
        self._lost_callbacks: list[LostCallback] = []
        self._local_id: int | None = None
        if pool is not None:
            pool.on_node_lost(self._node_lost)

    # --- the registry ---------------------------------------------------------------------------

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
            node = await store.by_name(s, reg.name)
            if node is None:
                node = MediaNode(name=reg.name, state=NodeState.ACTIVE, created_at=now)
                store.add(s, node)
            elif node.state == NodeState.REMOVED:
                node.state = NodeState.ACTIVE
            self._apply(node, reg, now)
            node.last_seen = now
            await s.flush()
            log.info("media node %s registered (id %d)", node.name, node.id)
            return await self._view(s, node)

    async def add(self, actor: Account | None, reg: NodeRegistration) -> NodeView:
        """Register an external Janus (reached through its API with its secrets); a new name only."""
        _require_admin(actor)
        reg = validate(reg)
        now = self.clock.now()
        async with self.db.session() as s:
            if await store.by_name(s, reg.name) is not None:
                raise Conflict("A media node with this name exists.", code="node_exists")
            node = MediaNode(name=reg.name, state=NodeState.ACTIVE, created_at=now)
            self._apply(node, reg, now)
            store.add(s, node)
            await s.flush()
            log.info("media node %s added (id %d)", node.name, node.id)
            return await self._view(s, node)

    @staticmethod
    def _apply(node: MediaNode, reg: NodeRegistration, now: datetime) -> None:
        node.ws_url, node.admin_url, node.advertise = reg.ws_url, reg.admin_url, reg.advertise
        node.api_secret, node.admin_secret, node.admin_key = reg.api_secret, reg.admin_secret, reg.admin_key
        node.max_rooms, node.max_participants, node.supervised = reg.max_rooms, reg.max_participants, reg.supervised
        node.rooms = node.rooms or 0
        node.participants = node.participants or 0
        node.cpu_load = node.cpu_load or 0.0
        node.updated_at = now

    async def heartbeat(self, node_id: int, report: LoadReport) -> None:
        """The node is alive now, with this load; NotFound when it was deleted."""
        async with self.db.session() as s:
            if not await store.report(s, node_id, now=self.clock.now(), rooms=report.rooms,
                                      participants=report.participants, cpu_load=report.cpu_load):
                raise NotFound("No such media node.", code="node_not_found")

    async def depart(self, node_id: int) -> None:
        """A clean stop: the node is offline (takes no meeting) until it registers again."""
        async with self.db.session() as s:
            node = await store.node(s, node_id)
            if node is not None:
                node.last_seen, node.rooms, node.participants = None, 0, 0
                node.updated_at = self.clock.now()
        log.info("media node %d departed", node_id)

    async def drain(self, actor: Account | None, node_id: int) -> NodeView:
        """No new meetings on this node; the running ones finish there."""
        return await self._set_state(actor, node_id, NodeState.DRAINING, {NodeState.ACTIVE, NodeState.DRAINING})

    async def undrain(self, actor: Account | None, node_id: int) -> NodeView:
        return await self._set_state(actor, node_id, NodeState.ACTIVE, {NodeState.ACTIVE, NodeState.DRAINING})

    async def remove(self, actor: Account | None, node_id: int, *, force: bool = False) -> NodeView:
        """Take the node out for good; refused (``node_busy``) while it hosts open meetings unless
        ``force`` (they then move wherever the meetings code puts them when it next places them)."""
        _require_admin(actor)
        async with self.db.session() as s:
            hosted = await store.open_meetings_on(s, node_id)
            if hosted and not force:
                raise Conflict("Drain the node and let its meetings end first (or force the removal).",
                               code="node_busy")
        return await self._set_state(actor, node_id, NodeState.REMOVED, set(NodeState))

    async def _set_state(self, actor: Account | None, node_id: int, state: NodeState,
                         allowed_from: set[NodeState]) -> NodeView:
        _require_admin(actor)
        async with self.db.session() as s:
            node = await store.node(s, node_id)
            if node is None:
                raise NotFound("No such media node.", code="node_not_found")
            if node.state not in allowed_from:
                raise Conflict("The node is removed; start its media node again to bring it back.",
                               code="node_removed")
            if node.state != state:
                node.state = state
                node.updated_at = self.clock.now()
                log.info("media node %s is now %s", node.name, state.value)
            return await self._view(s, node)

    async def nodes(self, actor: Account | None, *, include_removed: bool = False) -> list[NodeView]:
        _require_admin(actor)
        async with self.db.session() as s:
            states = None if include_removed else CONNECTED_STATES
            return await self._views(s, await store.nodes(s, states=states))

    async def get(self, actor: Account | None, node_id: int) -> NodeView:
        return await self._one(actor, lambda s: store.node(s, node_id))

    async def find(self, actor: Account | None, name: str) -> NodeView:
        """The node with this name (for `parley nodes`, which names nodes)."""
        return await self._one(actor, lambda s: store.by_name(s, name))

    async def _one(self, actor: Account | None,
                   lookup: Callable[[AsyncSession], Awaitable[MediaNode | None]]) -> NodeView:
        _require_admin(actor)
        async with self.db.session() as s:
            node = await lookup(s)
            if node is None:
                raise NotFound("No such media node.", code="node_not_found")
            return await self._view(s, node)

    # --- views ----------------------------------------------------------------------------------

    async def _loads(self, s: AsyncSession, nodes: Sequence[MediaNode]) -> dict[int, NodeLoad]:
        placed = await store.open_meetings_per_node(s)
        known = await store.participants_per_node(s)
        return {
            n.id: NodeLoad(id=n.id, name=n.name, state=n.state.value, last_seen=n.last_seen,
                           max_rooms=n.max_rooms, max_participants=n.max_participants, rooms=n.rooms,
                           participants=max(n.participants, known.get(n.id, 0)), cpu_load=n.cpu_load,
                           placed=placed.get(n.id, 0))
            for n in nodes
        }

    async def _views(self, s: AsyncSession, nodes: Sequence[MediaNode]) -> list[NodeView]:
        loads = await self._loads(s, nodes)
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

    async def _view(self, s: AsyncSession, node: MediaNode) -> NodeView:
        return (await self._views(s, [node]))[0]

    # --- placement ------------------------------------------------------------------------------

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
                return await self._view(s, by_id[current])
            loads = await self._loads(s, nodes)
            choice = self.policy.choose(loads.values(), self.clock.now(), exclude=unreachable)
            if not await store.assign(s, meeting_id, choice.id, expected=current):
                # Another process placed (or moved) it first: its choice stands.
                _, winner = await store.meeting_node(s, meeting_id)
                if winner is None or winner not in by_id:
                    raise NoMediaNode("No media server can take this meeting now; try again in a moment.")
                return await self._view(s, by_id[winner])
            log.info("meeting %d placed on media node %s", meeting_id, choice.name)
            return await self._view(s, by_id[choice.id])

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

    # --- reaching the nodes ---------------------------------------------------------------------

    def _pool(self) -> JanusPool:
        if self.pool is None:
            raise NoMediaNode("This process has no media servers.")
        return self.pool

    async def service_for(self, node_id: int) -> JanusService:
        """The JanusService reaching that node (connecting to it first if this process has not yet)."""
        pool = self._pool()
        if node_id not in pool:
            await self.sync_pool()
        if node_id not in pool:
            raise NoMediaNode("That media server is not available.")
        return pool.service_for(node_id)

    async def service_for_meeting(self, meeting_id: int) -> tuple[NodeView, JanusService]:
        """The node hosting this open meeting (placed now if it is on none, or on one that is
        gone) and the service reaching it: what meeting code calls before opening its rooms."""
        node = await self.place(meeting_id)
        return node, await self.service_for(node.id)

    def on_node_lost(self, callback: LostCallback) -> None:
        """``callback(node_id, open meeting ids on it)`` once a node stayed unreachable for
        media.lost_seconds (every web process sees it: moving a meeting must be idempotent,
        which `move` is)."""
        self._lost_callbacks.append(callback)

    async def _node_lost(self, node_id: int) -> None:
        meetings = await self.meetings_on(node_id)
        log.warning("media node %d lost with %d open meetings", node_id, len(meetings))
        for callback in list(self._lost_callbacks):
            try:
                await callback(node_id, meetings)
            except Exception:
                log.exception("media node lost callback failed")

    async def register_local(self, service: JanusService, *, max_rooms: int = 0, max_participants: int = 0) -> int:
        """The embedded (or single configured) Janus as node "local", served by ``service``."""
        creds = service.credentials
        view = await self.register(NodeRegistration(
            name=LOCAL, ws_url=service.upstream_url, admin_url=service.admin_url, api_secret=creds.api_secret,
            admin_secret=creds.admin_secret, admin_key=creds.admin_key, max_rooms=max_rooms,
            max_participants=max_participants,
        ))
        self._local_id = view.id
        if self.pool is not None:
            self.pool.adopt(_endpoint_of(view, creds), service)
        return view.id

    async def sync_pool(self) -> None:
        """Connect this process's pool to every active or draining node, and only those."""
        pool = self._pool()
        async with self.db.session() as s:
            nodes = await store.nodes(s, states=CONNECTED_STATES)
        await pool.sync([_endpoint(n) for n in nodes])

    async def keep_alive(self) -> None:
        """One pass of the web process's side: connect to new nodes, and vouch for the nodes no
        `parley media-node` heartbeats (external and local) while they answer."""
        pool = self._pool()
        async with self.db.session() as s:
            nodes = await store.nodes(s, states=CONNECTED_STATES)
        await pool.sync([_endpoint(n) for n in nodes])
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
