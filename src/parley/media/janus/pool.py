"""Every media node this process talks to: one `JanusService` per node.

    registry (handlers.media_nodes) --sync(endpoints)--> JanusPool
        added node    -> a JanusService built by `factory`, started (connects; retries alone)
        changed node  -> the old service stopped, a new one started
        gone node     -> its service stopped
        adopted node  -> a service someone else owns (the embedded Janus of `parley serve`),
                         never started or stopped here
    watch: a node whose service has not been connected for `lost_after` seconds is reported
           once through `on_node_lost` (its meetings must move); `on_node_back` when it returns.

`service_for(node_id)` is what meeting code calls to reach the node hosting a meeting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from parley.clock import Clock
from parley.config import JanusConfig, TurnConfig
from parley.errors import EngineError
from parley.media.janus.config import JanusCredentials
from parley.media.janus.service import JanusService
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeEndpoint:
    """How to reach one node's Janus (the credentials never show in a repr)."""

    id: int
    name: str
    ws_url: str
    admin_url: str
    credentials: JanusCredentials


ServiceFactory = Callable[[NodeEndpoint], JanusService]
NodeCallback = Callable[[int], Awaitable[None]]
ServiceCallback = Callable[[int, JanusService], None]


def remote_services(cfg: JanusConfig, clock: Clock, *, turn: TurnConfig | None = None) -> ServiceFactory:
    """Services that connect to a node's Janus over its WebSocket API with the node's secrets
    (and hand browsers the deployment's TURN relay, like the embedded one)."""

    def build(node: NodeEndpoint) -> JanusService:
        return JanusService.for_node(cfg, clock, ws_url=node.ws_url, admin_url=node.admin_url,
                                     credentials=node.credentials, turn=turn)

    return build


class JanusPool:
    def __init__(
        self,
        clock: Clock,
        factory: ServiceFactory,
        *,
        lost_after: float = 15.0,
        check_every: float = 1.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.clock = clock
        self._factory = factory
        self._lost_after = lost_after
        self._check_every = check_every
        self._stop_timeout = stop_timeout
        self._tasks = TaskOwner("janus-pool")
        self._services: dict[int, JanusService] = {}
        self._endpoints: dict[int, NodeEndpoint] = {}
        self._adopted: set[int] = set()
        self._down_since: dict[int, float] = {}
        self._lost: set[int] = set()
        self._lost_callbacks: list[NodeCallback] = []
        self._back_callbacks: list[NodeCallback] = []
        self._added_callbacks: list[ServiceCallback] = []
        self._sync_lock = asyncio.Lock()
        self._started = False

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._tasks.spawn("watch", self._watch())

    async def stop(self) -> None:
        self._started = False
        await self._tasks.stop()
        for node_id in list(self._services):
            await self._drop(node_id)

    # --- membership -----------------------------------------------------------------------------

    def adopt(self, endpoint: NodeEndpoint, service: JanusService) -> None:
        """Serve ``endpoint`` through a service its owner starts and stops (the embedded Janus)."""
        self._adopted.add(endpoint.id)
        self._services[endpoint.id] = service
        self._endpoints[endpoint.id] = endpoint
        self._added(endpoint.id, service)

    async def sync(self, endpoints: Sequence[NodeEndpoint]) -> None:
        """Connect to every node in ``endpoints`` and to no other (adopted nodes stay)."""
        wanted = {e.id: e for e in endpoints}
        async with self._sync_lock:
            for node_id in [n for n in self._services if n not in wanted and n not in self._adopted]:
                await self._drop(node_id)
            for node_id, endpoint in wanted.items():
                if node_id in self._adopted:
                    continue
                if self._endpoints.get(node_id) == endpoint:
                    continue
                if node_id in self._services:
                    log.info("media node %s changed address or secrets; reconnecting", endpoint.name)
                    await self._drop(node_id)
                await self._add(endpoint)

    async def _add(self, endpoint: NodeEndpoint) -> None:
        service = self._factory(endpoint)
        self._services[endpoint.id] = service
        self._endpoints[endpoint.id] = endpoint
        log.info("media node %s (id %d) joins the pool", endpoint.name, endpoint.id)
        await service.start()
        self._added(endpoint.id, service)

    async def _drop(self, node_id: int) -> None:
        service = self._services.pop(node_id, None)
        endpoint = self._endpoints.pop(node_id, None)
        self._down_since.pop(node_id, None)
        self._lost.discard(node_id)
        if node_id in self._adopted:
            self._adopted.discard(node_id)
            return
        if service is not None:
            log.info("media node %s leaves the pool", endpoint.name if endpoint else node_id)
            try:
                await asyncio.wait_for(service.stop(), self._stop_timeout)
            except TimeoutError:
                log.warning("media node %d: its service did not stop in time", node_id)

    def _added(self, node_id: int, service: JanusService) -> None:
        for callback in list(self._added_callbacks):
            try:
                callback(node_id, service)
            except Exception:
                log.exception("media node added callback failed")

    # --- lookups --------------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._services

    @property
    def node_ids(self) -> list[int]:
        return sorted(self._services)

    def service_for(self, node_id: int) -> JanusService:
        """The service reaching that node; EngineError (retryable) when the pool does not hold it."""
        service = self._services.get(node_id)
        if service is None:
            raise EngineError(f"media node {node_id} is not in this process's pool", retryable=True, engine="janus")
        return service

    def is_lost(self, node_id: int) -> bool:
        return node_id in self._lost

    # --- failure detection ----------------------------------------------------------------------

    def on_service(self, callback: ServiceCallback) -> None:
        """Called for every node's service as it joins (and at once for those already in):
        where meeting code subscribes to its room events and its recoveries."""
        self._added_callbacks.append(callback)
        for node_id, service in list(self._services.items()):
            callback(node_id, service)

    def on_node_lost(self, callback: NodeCallback) -> None:
        """Called once when a node has been unreachable for ``lost_after`` seconds."""
        self._lost_callbacks.append(callback)

    def on_node_back(self, callback: NodeCallback) -> None:
        """Called when a node reported lost is reachable again."""
        self._back_callbacks.append(callback)

    async def check(self) -> None:
        """One pass of the watch: note who is down, report who stayed down too long."""
        now = self.clock.monotonic()
        for node_id, service in list(self._services.items()):
            if service.ready:
                self._down_since.pop(node_id, None)
                if node_id in self._lost:
                    self._lost.discard(node_id)
                    log.info("media node %d is reachable again", node_id)
                    await self._fire(self._back_callbacks, node_id)
                continue
            since = self._down_since.setdefault(node_id, now)
            if now - since >= self._lost_after and node_id not in self._lost:
                self._lost.add(node_id)
                log.warning("media node %d unreachable for %.0fs: reported lost", node_id, now - since)
                await self._fire(self._lost_callbacks, node_id)

    async def _fire(self, callbacks: list[NodeCallback], node_id: int) -> None:
        for callback in list(callbacks):
            try:
                await callback(node_id)
            except Exception:
                log.exception("media node callback failed")

    async def _watch(self) -> None:
        while True:
            await self.check()
            await self.clock.sleep(self._check_every)
