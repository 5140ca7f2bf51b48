"""One workspace WebSocket connection.

The session reads client frames and answers them through the `Workspace` handler, and
receives bus events from the `Hub`, keeping this connection's unread counts in memory so
that a delivered message costs no database query. Everything it sends goes through one
bounded queue drained by one writer task; a client too slow to keep up is disconnected
(code 4008) and resynchronises when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Protocol

from parley.errors import ClientError
from parley.handlers.workspace import ChannelView, Workspace
from parley.signalling.messages import (
    Ack,
    ChannelAdded,
    ChannelRemoved,
    ClientMessage,
    Delete,
    Edit,
    Error,
    Fetch,
    Hello,
    MessageDeleted,
    MessageNew,
    Messages,
    Ping,
    Pong,
    Post,
    ProtocolError,
    Read,
    ReadMark,
    ServerMessage,
    Unread,
    parse_client,
    serialise,
    with_counts,
)
from parley.storage.stores.accounts import Account
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

CLOSE_LAGGING = 4008


class Connection(Protocol):
    """What a session needs from a WebSocket (the web layer adapts Starlette's)."""

    async def receive(self) -> str | None:
        """The next text frame; None once the peer has gone."""

    async def send(self, text: str) -> None: ...

    async def close(self, code: int) -> None: ...


class Fanout(Protocol):
    """What a session needs from the process's hub (`parley.signalling.hub.Hub`), which sends
    it the bus events of its user and channels; the hub knows sessions, not the other way."""

    async def attach(self, session: Session) -> None: ...

    async def set_channels(self, session: Session, channel_ids: Iterable[int]) -> None: ...

    async def detach(self, session: Session) -> None: ...


class _Channel:
    """This connection's view of one channel's read state."""

    __slots__ = ("last_read", "seen", "unread")

    def __init__(self, last_read: int, seen: int, unread: int) -> None:
        self.last_read = last_read
        self.seen = seen
        self.unread = unread


class Session:
    def __init__(self, user: Account, workspace: Workspace, hub: Fanout, conn: Connection, *,
                 queue_size: int = 1000) -> None:
        self.user = user
        self.user_id = user.id
        self.workspace = workspace
        self.hub = hub
        self.conn = conn
        self.channels: dict[int, _Channel] = {}
        self.total = 0
        self._out: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self._pending: list[tuple[ServerMessage, str | None]] | None = []
        self._tasks = TaskOwner(f"ws-user-{user.id}")
        self.lagging = False

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until the peer goes or falls too far behind."""
        await self.hub.attach(self)
        try:
            await self.hub.set_channels(self, await self.workspace.channel_ids(self.user))
            snapshot = await self.workspace.unread_snapshot(self.user)
            await self.hub.set_channels(self, [v.id for v in snapshot])
            self._greet(snapshot)
            self._tasks.spawn("writer", self._write())
            await self._read()
        finally:
            await self.hub.detach(self)
            await self._tasks.stop()

    def _greet(self, snapshot: list[ChannelView]) -> None:
        self.channels = {v.id: _Channel(v.last_read_message_id, v.last_message_id, v.unread) for v in snapshot}
        self.total = sum(c.unread for c in self.channels.values())
        self._send(
            serialise(
                Hello(
                    user_id=self.user_id,
                    channels=tuple(
                        ReadMark(
                            channel_id=v.id,
                            unread=v.unread,
                            last_read_message_id=v.last_read_message_id,
                            last_message_id=v.last_message_id,
                        )
                        for v in snapshot
                    ),
                    total_unread=self.total,
                )
            )
        )
        pending, self._pending = self._pending or [], None
        for frame, prefix in pending:
            self.deliver(frame, prefix)

    async def _read(self) -> None:
        while True:
            text = await self.conn.receive()
            if text is None or self.lagging:
                return
            try:
                request = parse_client(text)
            except ProtocolError as exc:
                self._send(serialise(Error(ref=exc.ref, code=exc.code, message=exc.message)))
                continue
            self._send(serialise(await self._answer(request)))

    async def _write(self) -> None:
        try:
            while True:
                text = await self._out.get()
                if text is None:
                    break
                try:
                    await self.conn.send(text)
                except Exception:  # the peer went away; the reader sees the disconnect
                    log.debug("workspace connection of user %s closed while sending", self.user_id)
                    return
        finally:
            if self.lagging:
                with contextlib.suppress(Exception):
                    await self.conn.close(CLOSE_LAGGING)

    def _send(self, text: str) -> None:
        if self.lagging:
            return
        try:
            self._out.put_nowait(text)
        except asyncio.QueueFull:
            self.lag()

    def lag(self) -> None:
        """Give up on this connection: it missed events, so it must reconnect and resync."""
        if self.lagging:
            return
        self.lagging = True
        log.info("workspace connection of user %s is lagging; closing it", self.user_id)
        while not self._out.empty():
            self._out.get_nowait()
        self._out.put_nowait(None)

    # --- requests ------------------------------------------------------------------------

    async def _answer(self, request: ClientMessage) -> ServerMessage:
        ws, user = self.workspace, self.user
        try:
            if isinstance(request, Post):
                return Ack(ref=request.ref, message=await ws.post(user, request.channel_id, request.body))
            if isinstance(request, Edit):
                return Ack(ref=request.ref, message=await ws.edit(user, request.message_id, request.body))
            if isinstance(request, Delete):
                return Ack(ref=request.ref, message=await ws.delete(user, request.message_id))
            if isinstance(request, Read):
                await ws.mark_read(user, request.channel_id, request.message_id)
                return Ack(ref=request.ref)
            if isinstance(request, Fetch):
                page = await ws.history(
                    user, request.channel_id, before=request.before, after=request.after, limit=request.limit
                )
                return Messages(
                    ref=request.ref,
                    channel_id=request.channel_id,
                    messages=tuple(page.messages),
                    has_more=page.has_more,
                )
            assert isinstance(request, Ping)
            return Pong(ref=request.ref)
        except ClientError as exc:
            return Error(ref=request.ref, code=exc.code, message=exc.message)
        except Exception:
            log.exception("workspace %s request from user %s failed", request.type, self.user_id)
            return Error(ref=request.ref, code="internal_error", message="Something went wrong; try again.")

    # --- events from the hub -------------------------------------------------------------

    def deliver(self, frame: ServerMessage, text: str | None) -> None:
        """Apply a bus event to this connection's state and queue what the client sees.

        ``text`` is the frame already serialised by the hub (for message.new/deleted, the
        prefix to finish with this connection's counts); None means serialise here.
        """
        if self._pending is not None:
            self._pending.append((frame, text))
            return
        if isinstance(frame, MessageNew):
            self._count_new(frame)
            state = self.channels.get(frame.channel_id)
            self._send(
                with_counts(text, state.unread if state else 0, self.total)
                if text is not None
                else serialise(MessageNew(frame.channel_id, frame.message, state.unread if state else 0, self.total))
            )
        elif isinstance(frame, MessageDeleted):
            self._count_deleted(frame)
            state = self.channels.get(frame.channel_id)
            self._send(
                with_counts(text, state.unread if state else 0, self.total)
                if text is not None
                else serialise(
                    MessageDeleted(frame.channel_id, frame.message, state.unread if state else 0, self.total)
                )
            )
        elif isinstance(frame, Unread):
            state = self.channels.get(frame.channel_id)
            if state is None:
                return
            state.last_read = max(state.last_read, frame.last_read_message_id)
            self.total += frame.count - state.unread
            state.unread = frame.count
            self._send(serialise(Unread(frame.channel_id, frame.count, state.last_read, self.total)))
        elif isinstance(frame, ChannelAdded):
            v = frame.channel
            if v.id not in self.channels:
                self.channels[v.id] = _Channel(v.last_read_message_id, v.last_message_id, v.unread)
                self.total += v.unread
            self._send(serialise(ChannelAdded(v, self.total)))
        elif isinstance(frame, ChannelRemoved):
            state = self.channels.pop(frame.channel_id, None)
            if state is not None:
                self.total -= state.unread
            self._send(serialise(ChannelRemoved(frame.channel_id, self.total)))
        else:
            self._send(text if text is not None else serialise(frame))

    def _count_new(self, frame: MessageNew) -> None:
        state = self.channels.get(frame.channel_id)
        m = frame.message
        if state is None or m.id <= state.seen:
            return
        state.seen = m.id
        if m.author_id == self.user_id:
            # Posting marks the channel read up to one's own message (as the handler does).
            state.last_read = m.id
            self.total -= state.unread
            state.unread = 0
        elif m.id > state.last_read:
            state.unread += 1
            self.total += 1

    def _count_deleted(self, frame: MessageDeleted) -> None:
        state = self.channels.get(frame.channel_id)
        m = frame.message
        if state is None or m.author_id == self.user_id or m.id <= state.last_read or m.id > state.seen:
            return
        if state.unread > 0:
            state.unread -= 1
            self.total -= 1
