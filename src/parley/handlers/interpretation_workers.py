"""Where interpretation workers run: inside the server, or as processes it supervises.

`LocalWorker` runs one `InterpretationWorker` in the server's own process and talks to the
hub through the same frames a WebSocket would carry (so the protocol is exercised either
way). `WorkerProcesses` starts ``parley worker`` processes that connect back over
``/ws/interpretation/worker``, and restarts any that exit, with backoff. Each holds a
`parley.lifeline` to the server: when the server dies, even by ``kill -9``, its workers stop
instead of living on as orphans that reconnect to the next server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from parley.clock import Clock
from parley.handlers.interpretation import Interpretation, WorkerPeer
from parley.interpretation.pipeline import InterpreterEngines, PipelineOptions
from parley.interpretation.protocol import ProtocolError, WorkerMessage, parse_command, worker_message_to_json
from parley.interpretation.worker import InterpretationWorker
from parley.lifeline import ENV as LIFELINE_ENV
from parley.lifeline import close_lifeline, open_lifeline
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

EnginesLoader = Callable[[], Awaitable[tuple[InterpreterEngines, Callable[[], Awaitable[None]]]]]


class LocalWorker:
    def __init__(self, hub: Interpretation, load_engines: EnginesLoader, *, clock: Clock, name: str = "local",
                 rtp_bind: str = "127.0.0.1", rtp_advertise: str | None = None,
                 pipeline: PipelineOptions | None = None) -> None:
        self.hub = hub
        self.clock = clock
        self.name = name
        self._load = load_engines
        self._rtp = (rtp_bind, rtp_advertise)
        self._pipeline = pipeline
        self._tasks = TaskOwner(f"local-worker:{name}")
        self.worker: InterpretationWorker | None = None
        self.peer: WorkerPeer | None = None
        self._close_engines: Callable[[], Awaitable[None]] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        """Load the models in the background: the server answers requests meanwhile."""
        self._tasks.spawn("start", self._start())

    async def _start(self) -> None:
        engines, self._close_engines = await self._load()
        worker = InterpretationWorker(engines, clock=self.clock, send=self._from_worker, name=self.name,
                                      rtp_bind=self._rtp[0], rtp_advertise=self._rtp[1], options=self._pipeline)
        await worker.start()
        self.worker = worker
        self.peer = await self.hub.connect_worker(worker.hello(), self._to_worker)
        self.ready.set()

    async def stop(self) -> None:
        await self._tasks.stop()
        if self.peer is not None:
            await self.hub.disconnect_worker(self.peer)
        if self.worker is not None:
            await self.worker.stop()
        if self._close_engines is not None:
            await self._close_engines()

    async def _to_worker(self, frame: str) -> None:
        self._tasks.spawn("command", self._run(frame))

    async def _run(self, frame: str) -> None:
        try:
            command_id, command = parse_command(frame)
        except ProtocolError as exc:
            log.error("bad command for the local worker: %s", exc)
            return
        assert self.worker is not None
        reply = await self.worker.handle(command_id, command)
        await self._from_worker(reply)

    async def _from_worker(self, message: WorkerMessage) -> None:
        if self.peer is not None:
            await self.hub.worker_frame(self.peer, worker_message_to_json(message))


class WorkerProcesses:
    """``count`` ``parley worker`` processes, each restarted when it exits."""

    def __init__(self, count: int, *, url: str, secret: str, clock: Clock, env: dict[str, str] | None = None,
                 grace_s: float = 10.0) -> None:
        self.count = count
        self.url = url
        self._secret = secret
        self.clock = clock
        self._env = env
        self._grace = grace_s
        self._tasks = TaskOwner("worker-processes")
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False
        self.restarts = 0

    def start(self) -> None:
        for index in range(self.count):
            self._tasks.spawn(f"worker-{index + 1}", self._supervise(index + 1))

    async def stop(self) -> None:
        self._stopping = True  # a worker leaving now was asked to: neither a crash nor restarted
        procs = list(self._procs.values())
        for proc in procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), self._grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await self._tasks.stop()

    async def _supervise(self, index: int) -> None:
        delay = 1.0
        env = {**(self._env if self._env is not None else os.environ), "PARLEY_WORKER_SECRET": self._secret}
        while True:
            started = self.clock.monotonic()
            child_end, lifeline = open_lifeline()
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "parley.cli", "worker", "--server", self.url, "--name", f"worker-{index}",
                    env={**env, LIFELINE_ENV: str(child_end)}, stdin=asyncio.subprocess.DEVNULL,
                    pass_fds=(child_end,),
                    # its own process group: Ctrl+C reaches the server, which stops the workers in order
                    start_new_session=True,
                )
            except BaseException:
                close_lifeline(lifeline)
                raise
            finally:
                close_lifeline(child_end)
            self._procs[index] = proc
            log.info("interpretation worker-%d started (pid %d)", index, proc.pid)
            try:
                code = await proc.wait()
            except asyncio.CancelledError:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
                raise
            finally:
                close_lifeline(lifeline)
            if self._stopping:
                return
            if code == 3:  # refused secret or bad configuration: restarting will not help
                log.error("interpretation worker-%d cannot work (exit %d); not restarting", index, code)
                return
            self.restarts += 1
            delay = 1.0 if self.clock.monotonic() - started > 60 else min(delay * 2, 60.0)
            log.warning("interpretation worker-%d exited with %d; restarting in %.0fs", index, code, delay)
            await self.clock.sleep(delay)
