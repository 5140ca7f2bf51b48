"""A worker given several web processes' addresses (no balancer in front of them) moves to the
next one when the one it is connected to dies, and says hello there: its meetings are placed
again by the process it now talks to."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from parley.clock import Clock, SystemClock
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import InterpreterEngines
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.vad import EnergyVad
from parley.interpretation.worker import InterpretationWorker, Send
from parley.interpretation.worker_link import LinkOptions, WorkerLink
from tests.fakes.engines import ScriptedAsr

pytestmark = pytest.mark.unit


class WebProcess:
    """A stand-in for one web process's /ws/interpretation/worker: records the hellos it gets;
    `die` drops every connection, as a killed process's kernel does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.hellos: list[str] = []
        self.connections: list[ServerConnection] = []
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        hello = json.loads(await ws.recv())
        self.hellos.append(hello["worker"])
        await ws.wait_closed()

    async def die(self) -> None:
        for ws in self.connections:
            ws.transport.abort()


@pytest.fixture
async def engines() -> AsyncIterator[InterpreterEngines]:
    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    yield InterpreterEngines(asr=ScriptedAsr(scheduler=scheduler, clock=clock, final="x"),
                             translator=Translator([]), voices=None, vad_factory=EnergyVad)
    await scheduler.stop()


@contextlib.asynccontextmanager
async def running_link(engines: InterpreterEngines, url: str, *more: str,
                       clock: Clock | None = None) -> AsyncIterator[WorkerLink]:
    """A worker named worker-7 serving the web processes at ``url`` and ``more``, until the end."""
    clock = clock or SystemClock()

    async def factory(send: Send) -> InterpretationWorker:
        return InterpretationWorker(engines, clock=clock, send=send, name="worker-7")

    link = WorkerLink(LinkOptions(url=url, more_urls=more, secret="s", name="worker-7", backoff_s=0.05),
                      factory, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(link.run(stop))
    try:
        yield link
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_worker_moves_to_the_next_web_process_when_its_own_dies(engines: InterpreterEngines) -> None:
    first, second = WebProcess("web-1"), WebProcess("web-2")
    async with serve(first.handler, "127.0.0.1", 0) as s1, serve(second.handler, "127.0.0.1", 0) as s2:
        for web, srv in ((first, s1), (second, s2)):
            host, port = next(iter(srv.sockets)).getsockname()[:2]
            web.url = f"ws://{host}:{port}/ws/interpretation/worker"
        async with running_link(engines, first.url, second.url) as link:
            async with asyncio.timeout(10):
                while not first.hellos:  # noqa: ASYNC110 - the fake web process records it
                    await asyncio.sleep(0.01)
                assert link.url == first.url and second.hellos == []
                await first.die()
                while not second.hellos:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            assert second.hellos == ["worker-7"] and link.url == second.url and first.hellos == ["worker-7"]
