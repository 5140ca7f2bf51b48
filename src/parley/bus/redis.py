"""Redis bus: events published on one Parley process reach subscribers on every other.

One pub/sub connection per process: topics are subscribed on Redis when the first local
subscriber appears and unsubscribed when the last goes, and one named reader task fans
messages out locally.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis.asyncio as aioredis

from parley.bus.base import Bus, Event, Fanout, Subscription
from parley.errors import EngineError
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


class RedisBus(Bus):
    def __init__(self, url: str, *, prefix: str = "parley:") -> None:
        self._url = url
        self._prefix = prefix
        self._fanout = Fanout()
        self._tasks = TaskOwner("redis-bus")
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._redis = aioredis.from_url(self._url)
        try:
            await self._redis.ping()
        except Exception as exc:  # redis raises several connection error types
            raise EngineError(f"cannot reach Redis: {exc}", retryable=True, engine="redis") from exc
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # A pub/sub connection must hold a subscription before it can be read.
        await self._pubsub.subscribe(self._prefix + "__bus__")
        self._tasks.spawn("reader", self._read())

    async def stop(self) -> None:
        await self._tasks.stop()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        self._pubsub = self._redis = None

    async def publish(self, topic: str, event: Event) -> None:
        assert self._redis is not None, "RedisBus.start() was not awaited"
        await self._redis.publish(self._prefix + topic, json.dumps(event, separators=(",", ":")))

    async def _attach(self, sub: Subscription, topics: list[str]) -> None:
        fresh = self._fanout.attach(sub, topics)
        if fresh:
            async with self._lock:
                await self._pubsub.subscribe(*(self._prefix + t for t in fresh))

    async def _detach(self, sub: Subscription, topics: list[str]) -> None:
        gone = self._fanout.detach(sub, topics)
        if gone and self._pubsub is not None:
            async with self._lock:
                await self._pubsub.unsubscribe(*(self._prefix + t for t in gone))

    async def _read(self) -> None:
        cut = len(self._prefix)
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus read failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if msg is None or msg.get("type") != "message":
                continue
            channel = msg["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else channel)[cut:]
            try:
                event = json.loads(msg["data"])
            except (ValueError, TypeError):
                log.warning("dropped a malformed bus event on %s", topic)
                continue
            self._fanout.deliver(topic, event)
