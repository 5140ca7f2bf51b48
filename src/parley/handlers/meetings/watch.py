"""Follows the dialogues of open meetings on the bus: a dialogue that ended some other way (its
own page, another process) ends its meeting; an observer whose grant was revoked is sent out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from parley.bus.base import Bus, Subscription
from parley.handlers.dialogues import dialogue_topic
from parley.tasks import TaskOwner
from parley.vocabulary import DialogueState

log = logging.getLogger(__name__)

Ended = Callable[[int], Awaitable[object]]
Revoked = Callable[[int, int], Awaitable[None]]


class DialogueWatch:
    def __init__(self, bus: Bus, *, ended: Ended, observer_revoked: Revoked) -> None:
        self.bus = bus
        self._ended = ended
        self._revoked = observer_revoked
        self._sub: Subscription | None = None

    async def start(self, tasks: TaskOwner, dialogue_ids: list[int]) -> None:
        self._sub = await self.bus.subscribe([dialogue_topic(d) for d in dialogue_ids])
        tasks.spawn("dialogue-watch", self._watch(self._sub))

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.close()
            self._sub = None

    async def add(self, dialogue_id: int) -> None:
        if self._sub is not None:
            await self._sub.add(dialogue_topic(dialogue_id))

    async def remove(self, dialogue_id: int) -> None:
        if self._sub is not None:
            await self._sub.remove(dialogue_topic(dialogue_id))

    async def _watch(self, sub: Subscription) -> None:
        async for _topic, event in sub:
            dialogue_id = event.get("dialogue_id")
            if not isinstance(dialogue_id, int):
                continue
            kind = event.get("type")
            if kind == "dialogue.observer_revoked":
                user_id = event.get("user_id")
                if isinstance(user_id, int):
                    try:
                        await self._revoked(dialogue_id, user_id)
                    except Exception:
                        log.exception("sending a revoked observer out of meeting %s failed", dialogue_id)
            elif kind == "dialogue.state" and event.get("state") != DialogueState.LIVE.value:
                try:
                    await self._ended(dialogue_id)
                except Exception:
                    log.exception("ending the meeting of dialogue %s failed", dialogue_id)
