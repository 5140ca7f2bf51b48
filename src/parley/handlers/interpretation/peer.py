"""One connected interpretation worker, seen from Parley: commands out as frames, replies
matched to them by id, and whether it still answers (see `WorkerPool.watch`)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from parley.errors import EngineError
from parley.interpretation.protocol import Command, Hello, Load, Ping, Reply, command_to_json

REQUEST_TIMEOUT_S = 15.0
Hangup = Callable[[], Coroutine[Any, Any, None]]


class WorkerPeer:
    """One connected worker: sends commands as frames and matches replies to them.

    ``asked_at`` is when the oldest probe it has not answered yet was sent (None: it answered,
    or said something, since); ``hangup`` ends its connection from this side. ``relay`` is the
    process whose socket it reached, when that is another one (see `relay`).
    """

    def __init__(self, hello: Hello, send: Callable[[str], Awaitable[None]], hangup: Hangup | None = None, *,
                 relay: str | None = None) -> None:
        self.hello = hello
        self.relay = relay
        self.load = Load(0, 0)
        self._send = send
        self.hangup = hangup
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self.closed = False
        self.asked_at: float | None = None
        self.probing = False

    @property
    def name(self) -> str:
        return self.hello.worker

    async def request(self, command: Command, wait_s: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        if self.closed:
            raise EngineError(f"worker {self.name} is gone", retryable=True, engine="worker")
        command_id = next(self._ids)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            try:
                await self._send(command_to_json(command_id, command))
            except Exception as exc:  # its socket closed under us (whatever the transport raises)
                raise ConnectionError(str(exc) or type(exc).__name__) from exc
            reply = await asyncio.wait_for(future, wait_s)
        except TimeoutError as exc:
            raise EngineError(f"worker {self.name} did not answer {command.op}", retryable=True,
                              engine="worker") from exc
        except ConnectionError as exc:
            raise EngineError(f"worker {self.name} is gone", retryable=True, engine="worker") from exc
        finally:
            self._pending.pop(command_id, None)
        if not reply.ok:
            raise EngineError(f"worker {self.name}: {reply.error}", retryable=reply.retryable, engine="worker")
        return reply.result

    async def send_frame(self, frame: str) -> None:
        """A frame as it is (a command another process sends through this one, see `relay`)."""
        await self._send(frame)

    async def probe(self, now: float) -> None:
        """Send a ping without waiting for its answer (any frame from the worker counts as one)."""
        if self.asked_at is None:
            self.asked_at = now
        self.probing = True
        try:
            # whatever a closing socket raises: the silence decides
            with contextlib.suppress(Exception):
                await self._send(command_to_json(next(self._ids), Ping(0)))
        finally:
            self.probing = False

    def heard(self) -> None:
        """The worker said something: it is alive."""
        self.asked_at = None

    def resolve(self, reply: Reply) -> None:
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

    def close(self) -> None:
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("worker disconnected"))
        self._pending.clear()
