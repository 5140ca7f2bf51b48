"""A worker process's connection to Parley: a WebSocket that survives Parley restarts.

`run_worker` loads the engines once, then connects, says hello, carries out commands and
streams events until told to stop; when the connection drops it closes every meeting (Parley
places them again, here or elsewhere) and reconnects with backoff. Given several web
processes' addresses (no balancer in front of them), it moves to the next one each time a
connection fails or drops. WebSocket pings every `PING_S` find a web process that hangs or
whose machine is gone (a killed one closes the connection at once). Finals are kept until
Parley acknowledges them, sent again after a reconnect, and, while the connection stays up,
again after a few seconds without an acknowledgement, backing off (`unacked`); only once
this connection has acknowledged something (a Parley too old to acknowledge gets each line
once, as before).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from parley.clock import Clock
from parley.interpretation.factory import EngineOptions, build_engines
from parley.interpretation.pipeline import InterpreterEngines, PipelineOptions
from parley.interpretation.protocol import (
    CLOSE_DUPLICATE_WORKER,
    Acked,
    Event,
    ProtocolError,
    WorkerMessage,
    parse_command,
    worker_message_to_json,
)
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.unacked import UnackedFinals, is_final
from parley.interpretation.worker import InterpretationWorker, Send
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

WORKER_PATH = "/ws/interpretation/worker"
# A web process that does not answer a ping within PING_TIMEOUT_S is taken as gone.
PING_S = 2.0
PING_TIMEOUT_S = 4.0
# How often the finals whose acknowledgement is late are looked at (see `UnackedFinals.due`).
RESEND_CHECK_S = 1.0
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class LinkOptions:
    url: str
    secret: str
    name: str = "worker"
    rtp_bind: str = "127.0.0.1"
    rtp_advertise: str = ""
    backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    # Other web processes to try, in turn, when the one connected to fails (none behind a balancer).
    more_urls: tuple[str, ...] = ()

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.url, *(u for u in self.more_urls if u != self.url))


class Unauthorized(Exception):
    """Parley refused the worker's secret: retrying will not help."""


class WorkerLink:
    def __init__(self, options: LinkOptions, worker_factory: Callable[[Send], Awaitable[InterpretationWorker]], *,
                 clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self._factory = worker_factory
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self.worker: InterpretationWorker | None = None
        self.connected = asyncio.Event()
        self._next = 0  # which of `LinkOptions.urls` to try next
        self.url = options.url  # the one connected to, or tried last
        self.unacked = UnackedFinals(clock, name=options.name)
        # this connection's Parley acknowledges finals (so it drops one that comes again)
        self.acking = False

    async def send(self, message: WorkerMessage) -> None:
        """Send a frame; a final is kept (even when there is no connection) until acknowledged."""
        if isinstance(message, Event) and message.seq is None and is_final(message):
            message = self.unacked.keep(message)
        ws = self._ws
        if ws is None:
            raise ConnectionError("not connected to Parley")
        async with self._send_lock:
            try:
                await ws.send(worker_message_to_json(message))
            except ConnectionClosed as exc:
                raise ConnectionError("connection to Parley closed") from exc

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and serve until ``stop`` is set; reconnect on every drop."""
        self.worker = await self._factory(self.send)
        await self.worker.start()
        delay = self.options.backoff_s
        try:
            while not stop.is_set():
                try:
                    await self._session(stop)
                    delay = self.options.backoff_s
                except Unauthorized:
                    log.error("Parley refused this worker's secret; check interpretation.worker_secret")
                    raise
                except ConnectionClosed as exc:
                    if exc.rcvd is not None and exc.rcvd.code == CLOSE_DUPLICATE_WORKER:
                        log.error("worker %s: Parley refused it, a worker of this name is connected; "
                                  "retrying in %.1fs", self.options.name, delay)
                    else:
                        log.warning("worker %s: connection to Parley lost (%s); retrying in %.1fs",
                                    self.options.name, exc.__class__.__name__, delay)
                except (OSError, InvalidHandshake, TimeoutError) as exc:
                    log.warning("worker %s: no connection to Parley (%s); retrying in %.1fs",
                                self.options.name, exc.__class__.__name__, delay)
                finally:
                    self.connected.clear()
                    self._ws = None
                    await self.worker.close_all()  # Parley places them again, here or elsewhere
                    self._next += 1  # dropped or failed: the next web process, if there are others
                if stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, self.options.max_backoff_s)
        finally:
            await self.worker.stop()

    async def _session(self, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.options.secret}"}
        urls = self.options.urls
        self.url = urls[self._next % len(urls)]
        try:
            ws = await connect(self.url, additional_headers=headers, max_size=2**20, open_timeout=10,
                               ping_interval=PING_S, ping_timeout=PING_TIMEOUT_S)
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise Unauthorized() from exc
            raise
        tasks = TaskOwner(f"link:{self.options.name}")
        try:
            self._ws = ws
            self.acking = False
            assert self.worker is not None
            await self.send(dataclasses.replace(self.worker.hello(), acks=True))
            for final in self.unacked.pending():  # those the last connection took with it
                await self.send(final)
            self.connected.set()
            log.info("worker %s connected to %s", self.options.name, self.url)
            tasks.spawn("resend", self._resend_late())
            stopper = asyncio.ensure_future(stop.wait())
            try:
                while True:
                    receive = asyncio.ensure_future(ws.recv())
                    done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    if stopper in done:
                        receive.cancel()
                        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                            await receive
                        # while Parley still hears: the lines still open end final from here
                        await self.worker.close_all()
                        return
                    frame = receive.result()
                    if isinstance(frame, bytes):
                        frame = frame.decode("utf-8", "replace")
                    tasks.spawn("command", self._command(frame))
            finally:
                stopper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stopper
        finally:
            await tasks.stop()
            await ws.close()

    async def _command(self, frame: str) -> None:
        try:
            command_id, command = parse_command(frame)
        except ProtocolError as exc:
            log.warning("worker %s: bad command from Parley: %s", self.options.name, exc)
            return
        if isinstance(command, Acked):
            self.acking = True
            self.unacked.acked(command.seqs)
            return
        assert self.worker is not None
        reply = await self.worker.handle(command_id, command)
        with contextlib.suppress(ConnectionError):
            await self.send(reply)

    async def _resend_late(self) -> None:
        """While connected: the finals whose acknowledgement is late go again (see `unacked`)."""
        while True:
            await self.clock.sleep(RESEND_CHECK_S)
            if not self.acking:
                continue
            for final in self.unacked.due():
                try:
                    await self.send(final)
                except ConnectionError:
                    return  # the session ends; the next one sends what is still kept


async def local_engines(options: EngineOptions, *, clock: Clock, name: str) -> tuple[InterpreterEngines, Closer]:
    """Load the engines once (a worker's models), and a closer that releases them."""
    scheduler = InferenceScheduler(clock=clock, workers=options.asr_workers, name=f"{name}-inference")
    await scheduler.start()
    engines = await build_engines(options, clock=clock, scheduler=scheduler)
    for health in engines.health:
        log.warning("worker %s: %s %s: %s", name, health.stage, health.status.value, health.message)

    async def close() -> None:
        if engines.asr is not None:
            await engines.asr.aclose()
        await engines.translator.aclose()
        if engines.voices is not None:
            await engines.voices.aclose()
        await scheduler.stop()

    return engines, close


async def run_worker(link: LinkOptions, engine_options: EngineOptions, *, clock: Clock, stop: asyncio.Event,
                     pipeline: PipelineOptions | None = None) -> None:
    """What `parley worker` runs: load the models, then serve Parley until ``stop``."""
    engines, close = await local_engines(engine_options, clock=clock, name=link.name)

    async def factory(send: Send) -> InterpretationWorker:
        return InterpretationWorker(engines, clock=clock, send=send, name=link.name, rtp_bind=link.rtp_bind,
                                    rtp_advertise=link.rtp_advertise or None, options=pipeline)

    try:
        await WorkerLink(link, factory, clock=clock).run(stop)
    finally:
        await close()
