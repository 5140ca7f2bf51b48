"""Fan-out of workspace bus events to this process's WebSocket sessions.

One bus subscription per process, whatever the number of connections: the hub subscribes
to ``user:<id>`` for each connected user and ``channel:<id>`` for each channel any local
session belongs to, and drops topics nobody here needs. An event is parsed and serialised
once, then queued to each interested session. The reader task runs while at least one
session is attached and is cancelled and awaited when the last one leaves (or on `stop`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from parley.bus.base import Bus, Event, Subscription
from parley.handlers.workspace import channel_topic, user_topic
from parley.signalling.messages import (
    ChannelAdded,
    ChannelRemoved,
    MessageDeleted,
    MessageNew,
    ProtocolError,
    counted_prefix,
    serialise,
    server_frame,
)
from parley.signalling.session import Session
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, bus: Bus, *, queue_size: int = 10_000) -> None:
        self._bus = bus
        self._queue_size = queue_size
        self._sub: Subscription | None = None
        self._tasks = TaskOwner("workspace-hub")
        self._lock = asyncio.Lock()
        self._by_user: dict[int, set[Session]] = {}
        self._by_channel: dict[int, set[Session]] = {}
        self._channels_of: dict[Session, set[int]] = {}

    @property
    def sessions(self) -> int:
        return len(self._channels_of)

    async def attach(self, session: Session) -> None:
        async with self._lock:
            if self._sub is None:
                self._sub = await self._bus.subscribe([], maxsize=self._queue_size)
                self._tasks.spawn("fanout", self._run(self._sub))
            self._channels_of[session] = set()
            users = self._by_user.setdefault(session.user_id, set())
            users.add(session)
            if len(users) == 1:
                await self._sub.add(user_topic(session.user_id))

    async def set_channels(self, session: Session, channel_ids: Iterable[int]) -> None:
        """Make ``session`` receive exactly these channels."""
        wanted = set(channel_ids)
        async with self._lock:
            current = self._channels_of.get(session)
            if current is None:
                return
            for cid in wanted - current:
                await self._join(session, cid)
            for cid in current - wanted:
                await self._leave(session, cid)

    async def detach(self, session: Session) -> None:
        async with self._lock:
            channels = self._channels_of.pop(session, None)
            if channels is None:
                return
            for cid in list(channels):
                await self._leave(session, cid, channels)
            users = self._by_user.get(session.user_id)
            if users is not None:
                users.discard(session)
                if not users:
                    del self._by_user[session.user_id]
                    if self._sub is not None:
                        await self._sub.remove(user_topic(session.user_id))
            if not self._channels_of:
                await self._shutdown()

    async def stop(self) -> None:
        """Stop fanning out (normally it stops by itself when the last session leaves)."""
        async with self._lock:
            await self._shutdown()

    async def _shutdown(self) -> None:
        sub, self._sub = self._sub, None
        await self._tasks.stop()
        if sub is not None:
            await sub.close()

    async def _join(self, session: Session, cid: int) -> None:
        self._channels_of[session].add(cid)
        members = self._by_channel.setdefault(cid, set())
        members.add(session)
        if len(members) == 1 and self._sub is not None:
            await self._sub.add(channel_topic(cid))

    async def _leave(self, session: Session, cid: int, channels: set[int] | None = None) -> None:
        (channels if channels is not None else self._channels_of.get(session, set())).discard(cid)
        members = self._by_channel.get(cid)
        if members is None:
            return
        members.discard(session)
        if not members:
            del self._by_channel[cid]
            if self._sub is not None:
                await self._sub.remove(channel_topic(cid))

    # --- the reader ---------------------------------------------------------------------

    async def _run(self, sub: Subscription) -> None:
        dropped = 0
        async for topic, event in sub:
            if sub.dropped != dropped:
                dropped = sub.dropped
                log.warning("workspace hub fell behind and dropped events; %d sessions will resync", self.sessions)
                for session in list(self._channels_of):
                    session.lag()
            try:
                await self._dispatch(topic, event)
            except ProtocolError as exc:
                log.warning("dropped a malformed workspace event on %s: %s", topic, exc.message)
            except Exception:
                log.exception("workspace event on %s was not delivered", topic)

    async def _dispatch(self, topic: str, event: Event) -> None:
        kind, _, ident = topic.partition(":")
        if not ident.isdigit():
            return
        key = int(ident)
        if kind == "channel":
            sessions = self._by_channel.get(key)
            if not sessions:
                return
            frame = server_frame(event)
            counted = isinstance(frame, MessageNew | MessageDeleted)
            text = counted_prefix(frame) if counted else serialise(frame)  # type: ignore[arg-type]
            for session in list(sessions):
                session.deliver(frame, text)
        elif kind == "user":
            sessions = self._by_user.get(key)
            if not sessions:
                return
            frame = server_frame(event)
            if isinstance(frame, ChannelAdded):
                async with self._lock:
                    for session in list(sessions):
                        if session in self._channels_of:
                            await self._join(session, frame.channel.id)
            elif isinstance(frame, ChannelRemoved):
                async with self._lock:
                    for session in list(sessions):
                        if session in self._channels_of:
                            await self._leave(session, frame.channel_id)
            for session in list(sessions):
                session.deliver(frame, None)
