"""Owned background tasks.

Every long-running coroutine is started through a `TaskOwner`, named, and cancelled and
awaited (with a timeout) when its owner stops; a task that dies with an error is logged
instead of vanishing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskOwner:
    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def stop(self, grace: float = 5.0) -> None:
        """Cancel every task and wait for them, at most ``grace`` seconds."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.warning("task %s did not stop within %.1fs", task.get_name(), grace)
        self._tasks.clear()


async def until_first_ends(named: dict[str, Coroutine[Any, Any, Any]], grace: float = 5.0) -> dict[str, BaseException]:
    """Run the coroutines as named tasks until one of them ends, then cancel and await the
    rest (at most ``grace`` seconds): a socket's reader, writer and watchers, none of which
    outlives the others. Returns what the tasks that ended on their own raised, by name."""
    tasks = [asyncio.create_task(coro, name=name) for name, coro in named.items()]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            log.warning("task %s did not stop within %.1fs", task.get_name(), grace)
    return {task.get_name(): exc for task in tasks
            if task.done() and not task.cancelled() and (exc := task.exception()) is not None}
