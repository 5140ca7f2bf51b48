"""What `parley media-node` does on a media machine, around the Janus it supervises:

    start:  JanusService (JanusProcess: generated config, supervised janus) -> register in the
            shared database (name, URLs at the advertised address, secrets, capacity)
    every media.heartbeat_seconds, while Janus answers: rooms and participants (VideoRoom
            list), CPU (load average per core) -> heartbeat; a Janus that does not answer
            sends nothing, so the node goes stale and takes no new meeting
    stop:   depart (offline in the registry), then Janus is stopped

The web processes connect to the node themselves (`JanusPool`); nothing here talks to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from parley.clock import Clock
from parley.errors import EngineError, NotFound
from parley.handlers.media_nodes import LoadReport, MediaNodes, NodeRegistration, cpu_load
from parley.media.janus.service import JanusService

log = logging.getLogger(__name__)


def at_address(url: str, host: str) -> str:
    """``url`` with its host replaced by ``host`` (the port and path kept)."""
    if not host:
        return url
    parts = urlsplit(url)
    shown = f"[{host}]" if ":" in host else host
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return urlunsplit(parts._replace(netloc=netloc))


class MediaNodeAgent:
    def __init__(
        self,
        registry: MediaNodes,
        service: JanusService,
        clock: Clock,
        *,
        name: str,
        advertise: str = "",
        max_rooms: int = 0,
        max_participants: int = 0,
        heartbeat_seconds: float = 5.0,
        measure_cpu: Callable[[], float] = cpu_load,
    ) -> None:
        self.registry = registry
        self.service = service
        self.clock = clock
        self.name = name
        self.advertise = advertise
        self.max_rooms = max_rooms
        self.max_participants = max_participants
        self._heartbeat = heartbeat_seconds
        self._measure_cpu = measure_cpu
        self.node_id: int | None = None
        self.heartbeats = 0
        # Rounds of the heartbeat loop done (a heartbeat sent or not), for tests to wait on.
        self.rounds = 0

    async def start(self) -> int:
        """Start Janus and register the node; its id. EngineError when Janus cannot start."""
        await self.service.start()
        process = self.service.process
        if process is not None and not process.health.ready:
            await self.service.stop()
            raise EngineError("janus could not be started (see the log above)", retryable=False, engine="janus")
        creds = self.service.credentials
        view = await self.registry.register(NodeRegistration(
            name=self.name, ws_url=at_address(self.service.upstream_url, self.advertise),
            admin_url=at_address(self.service.admin_url, self.advertise), api_secret=creds.api_secret,
            admin_secret=creds.admin_secret, admin_key=creds.admin_key, advertise=self.advertise,
            max_rooms=self.max_rooms, max_participants=self.max_participants, supervised=True,
        ))
        self.node_id = view.id
        log.info("media node %s registered as id %d (janus at %s)", view.name, view.id, view.ws_url)
        return view.id

    async def beat(self) -> bool:
        """One heartbeat when Janus answers; False (nothing sent) when it does not."""
        if self.node_id is None or not self.service.ready:
            return False
        try:
            rooms, participants = await self.service.load()
        except EngineError as exc:
            log.warning("media node: janus gave no load (%s)", exc)
            return False
        await self.registry.heartbeat(self.node_id, LoadReport(rooms=rooms, participants=participants,
                                                               cpu_load=self._measure_cpu()))
        self.heartbeats += 1
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeat until ``stop`` is set (or the node row is deleted), then leave cleanly."""
        try:
            while not stop.is_set():
                try:
                    await self.beat()
                except NotFound:
                    log.error("media node %s was deleted from the registry; stopping", self.name)
                    return
                self.rounds += 1
                await _sleep_or(stop, self.clock, self._heartbeat)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.node_id is not None:
            with contextlib.suppress(Exception):
                await self.registry.depart(self.node_id)
            self.node_id = None
        await self.service.stop()


async def _sleep_or(stop: asyncio.Event, clock: Clock, seconds: float) -> None:
    """Sleep on ``clock``, waking early when ``stop`` is set."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waiter):
            task.cancel()
        await asyncio.gather(sleeper, waiter, return_exceptions=True)
