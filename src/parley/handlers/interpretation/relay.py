"""Workers shared by every web process: each process carries commands, over the bus, to the
workers connected to it from the processes whose meetings they interpret, and carries their
replies and events back.

    relay (the process a worker's socket reaches):
        every HEARTBEAT_S  ─▶ interpretation:workers  {relay, hello, load}   ("gone" when it leaves)
    owner (the process interpreting a meeting) places it on any worker, here or elsewhere:
        RemotePeer.send ─▶ interpretation:worker:<name> {from: owner, frame}
                        ─▶ relay: the command, renumbered, on the worker's socket
        the reply       ─▶ relay ─▶ interpretation:hub:<owner> {worker, frame (the owner's id)}
        events of meeting M ─▶ relay ─▶ interpretation:hub:<M's owner> (who sent M's OpenMeeting)

A remote worker is a `WorkerPeer` like a local one: pinged by the owner's pool (through its
relay), taken as gone when the relay says so or when the pings stay unanswered, its meetings
then moved. With one process (the embedded default) nothing crosses the bus but the
announcements, which the process ignores.

Final caption lines are acknowledged (the bus delivers at most once, and an owner may die
between receiving a line and writing it)::

    relay: a final of M ─▶ interpretation:hub:<owner> {worker, frame, ack, relay}   kept until
    owner: handled (written to the transcript, or not kept by consent) ─▶ hub:<relay> {acked}
    relay: none within ACK_WAIT_S ─▶ sent again, to M's owner now (a new one at once when
           one takes M over; this process itself while none does); given up after GIVE_UP_S,
           said in the log
    owner: a final it has handled already is acknowledged and dropped; the transcript finds a
           line's row by its utterance id, and the finals claimed and shown are recorded
           (`shown`), so a new owner does not write it twice, shows it if its predecessor died
           before it did, and not again if it had (pages drop the one copy a death between
           the two can make)
    any:   a final of a meeting that ended (or is unknown) is settled by whichever process it
           reaches, at once, and acknowledged (see `late_finals`)
    relay: the worker sends a final again (no acknowledgement after a few seconds): the same
           item, kept once here, sent again now
    relay: once the owner acknowledged it, ``acked`` to the worker (one that numbers its
           finals, see `protocol.Acked`); the worker sends the finals it still keeps again
           after it reconnects, here or to another process, and they go to the owner as above
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from parley.bus.base import Bus, Subscription
from parley.clock import Clock
from parley.handlers.interpretation.peer import WorkerPeer
from parley.handlers.interpretation.pool import HEARTBEAT_S, WorkerPool
from parley.interpretation.protocol import (
    Acked,
    Event,
    Hello,
    Load,
    ProtocolError,
    command_to_json,
    parse_worker_message,
    worker_message_to_json,
)
from parley.tasks import TaskOwner

log = logging.getLogger(__name__)

WORKERS_TOPIC = "interpretation:workers"
# Commands carried for other processes get ids from here up: never one of the local peer's own.
RELAY_IDS_FROM = 1 << 40
# A relayed final not acknowledged this long is sent again; one unacknowledged this long is
# given up (its meeting has no owner that takes it).
ACK_WAIT_S = 3.0
GIVE_UP_S = 300.0
OwnerOf = Callable[[int], Awaitable[str | None]]
EventSink = Callable[[Event], Awaitable[bool]]


def worker_topic(name: str) -> str:
    return f"interpretation:worker:{name}"


def hub_topic(process: str) -> str:
    return f"interpretation:hub:{process}"


def _renumbered(frame: str, new_id: int) -> str:
    data = json.loads(frame)
    data["id"] = new_id
    return json.dumps(data, separators=(",", ":"))


def _is_final(data: dict[str, Any]) -> bool:
    event = data.get("event")
    return isinstance(event, dict) and event.get("kind") == "caption" and event.get("is_final") is True


@dataclass
class Unacked:
    """A final line relayed to a meeting's owner, kept until it says it has it."""

    meeting: int
    worker: str
    frame: str
    owner: str
    first_at: float
    sent_at: float
    # the worker's number for it (acknowledged to the worker once the owner has it)
    seq: int | None = None


class Relay:
    def __init__(self, bus: Bus, clock: Clock, pool: WorkerPool, tasks: TaskOwner, *, process: str,
                 owner_of: OwnerOf, handle: EventSink) -> None:
        self.bus = bus
        self.clock = clock
        self.pool = pool
        self._tasks = tasks
        # this process's address on the bus: its owner lease holder id (see `owners`)
        self.process = process
        # who owns a meeting now, when it is another process (None: this one, or unknown)
        self._owner_of = owner_of
        # a worker's event handled by this process as a meeting's owner: False if it is not
        self._handle = handle
        self._acks = itertools.count(1)
        self.unacked: dict[str, Unacked] = {}
        self._sub: Subscription | None = None
        self._ids = itertools.count(RELAY_IDS_FROM)
        # relay side: (worker, our id) -> (owner, their id); (worker, meeting) -> owner
        self._carried: dict[tuple[str, int], tuple[str, int]] = {}
        self._owners: dict[tuple[str, int], str] = {}
        self._announced: set[str] = set()
        # owner side: the workers other processes carry, by name
        self.remote: dict[str, WorkerPeer] = {}

    async def start(self) -> None:
        self._sub = await self.bus.subscribe([WORKERS_TOPIC, hub_topic(self.process)])
        self._tasks.spawn("relay", self._read(self._sub))
        self._tasks.spawn("relay-announce", self._announce_loop())

    async def stop(self) -> None:
        for name in list(self._announced):
            with contextlib.suppress(Exception):
                await self.bus.publish(WORKERS_TOPIC, {"relay": self.process, "worker": name, "gone": True})
        if self._sub is not None:
            await self._sub.close()

    # --- relay side: the workers connected here -----------------------------------------------

    def _local(self) -> dict[str, WorkerPeer]:
        return {w.name: w for w in self.pool.workers if w.relay is None and not w.closed}

    def outgoing(self, name: str, send: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[None]]:
        """``send`` for a worker connected here, noting the meetings this process opens on it
        (their events stay here, even if another process had them on this worker before)."""

        async def noting(frame: str) -> None:
            if '"op":"open"' in frame:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    data = json.loads(frame)
                    if int(data["id"]) < RELAY_IDS_FROM:  # this process's own, not one carried
                        self._owners.pop((name, int(data["meeting"])), None)
            await send(frame)

        return noting

    async def local_connected(self, peer: WorkerPeer) -> None:
        if self._sub is not None:
            await self._sub.add(worker_topic(peer.name))
        await self._announce(peer)

    async def local_gone(self, peer: WorkerPeer) -> None:
        """A worker connected here left: the owners of its meetings move them at once."""
        if peer.name in self._local():
            return  # replaced by a newer connection of the same name
        self._announced.discard(peer.name)
        for key in [k for k in self._carried if k[0] == peer.name]:
            del self._carried[key]
        for key in [k for k in self._owners if k[0] == peer.name]:
            del self._owners[key]
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.remove(worker_topic(peer.name))
        await self.bus.publish(WORKERS_TOPIC, {"relay": self.process, "worker": peer.name, "gone": True})

    async def local_frame(self, peer: WorkerPeer, frame: str) -> bool:
        """A frame from a worker connected here: True when it belonged to another process (and
        went there), False when it is this process's own."""
        try:
            data = json.loads(frame)
        except ValueError:
            return False
        if not isinstance(data, dict):
            return False
        peer.heard()
        op, owner = data.get("op"), None
        if op == "reply" and isinstance(data.get("id"), int):
            carried = self._carried.pop((peer.name, data["id"]), None)
            if carried is not None:
                owner, frame = carried[0], _renumbered(frame, carried[1])
        elif op == "event" and isinstance(data.get("meeting"), int):
            owner = self._owners.get((peer.name, data["meeting"]))
        if owner is None or owner == self.process:
            return False
        if op == "event" and _is_final(data):
            seq = data.get("seq")
            await self._send_final(*self._keep(data["meeting"], peer.name, frame, owner,
                                               seq if isinstance(seq, int) else None))
            return True
        await self.bus.publish(hub_topic(owner), {"worker": peer.name, "frame": frame})
        return True

    def _keep(self, meeting: int, worker: str, frame: str, owner: str, seq: int | None) -> tuple[str, Unacked]:
        """A final to relay, kept until acknowledged. One the worker sent again (its `seq` still
        kept here: the acknowledgement was late) is the same item, sent again now."""
        if seq is not None:
            for ack, item in self.unacked.items():
                if item.worker == worker and item.seq == seq:
                    item.owner = owner
                    return ack, item
        now = self.clock.monotonic()
        ack = f"{worker}:{next(self._acks)}"
        self.unacked[ack] = Unacked(meeting, worker, frame, owner, now, now, seq)
        return ack, self.unacked[ack]

    async def _send_final(self, ack: str, item: Unacked) -> None:
        item.sent_at = self.clock.monotonic()
        if item.owner == self.process:  # this process took the meeting over
            if await self._handle(Event(item.meeting, json.loads(item.frame)["event"])):
                await self._acked(ack)
            return
        await self.bus.publish(hub_topic(item.owner), {"worker": item.worker, "frame": item.frame, "ack": ack,
                                                       "relay": self.process})

    async def _acked(self, ack: str) -> None:
        item = self.unacked.pop(ack, None)
        if item is not None and item.seq is not None:
            await self.ack_worker(item.worker, item.seq)

    async def ack_worker(self, name: str, seq: int) -> None:
        """The owner has the worker's final ``seq``: the worker, if still connected here and able
        to, forgets it (one that reconnected elsewhere sends it again there: dropped as known)."""
        peer = self._local().get(name)
        if peer is not None and peer.hello.acks:
            with contextlib.suppress(Exception):  # its socket is closing: it sends the line again
                await peer.send_frame(command_to_json(0, Acked((seq,))))

    async def local_final(self, peer: WorkerPeer, frame: str, handled: bool) -> None:
        """A worker's frame this process took as its own (see `local_frame`). A numbered final
        handled here is acknowledged to the worker; a final of a meeting not interpreted here
        (sent again after the worker reconnected here, its meeting owned elsewhere or by nobody
        for a moment, or ended) goes to the meeting's owner as a relayed final, kept until
        acknowledged, or is settled here (`late_finals`). So is one of a worker too old to
        number its finals: it never sends one again."""
        if handled and (not peer.hello.acks or '"seq"' not in frame):
            return
        try:
            message = parse_worker_message(frame)
        except ProtocolError:
            return
        if not isinstance(message, Event) or not _is_final({"event": message.event}):
            return
        if handled:
            if message.seq is not None:
                await self.ack_worker(peer.name, message.seq)
            return
        owner = await self._owner_of(message.meeting) or self.process
        await self._send_final(*self._keep(message.meeting, peer.name, frame, owner, message.seq))

    async def owner_changed(self, meeting: int) -> None:
        """The meeting has a new owner (another process, or this one): the finals it may not
        have go there now."""
        owner = await self._owner_of(meeting)
        for ack, item in list(self.unacked.items()):
            if item.meeting == meeting:
                item.owner = owner or self.process
                await self._send_final(ack, item)

    async def _resend(self) -> None:
        """Finals not acknowledged within `ACK_WAIT_S` go again, to their meeting's owner now."""
        now = self.clock.monotonic()
        for ack, item in list(self.unacked.items()):
            if now - item.sent_at < ACK_WAIT_S:
                continue
            if now - item.first_at >= GIVE_UP_S:
                del self.unacked[ack]
                log.warning("a final caption line of meeting %s was never acknowledged; given up", item.meeting)
                continue
            # nobody owns it (the lease moving, or the meeting ended): settled here if it can be
            item.owner = await self._owner_of(item.meeting) or self.process
            await self._send_final(ack, item)

    async def _carry(self, name: str, event: dict[str, Any]) -> None:
        """A command from another process for a worker connected here."""
        peer = self._local().get(name)
        owner, frame = event.get("from"), event.get("frame")
        if peer is None or not isinstance(owner, str) or not isinstance(frame, str):
            return
        try:
            data = json.loads(frame)
            their_id = data["id"]
        except (ValueError, KeyError, TypeError):
            log.warning("a malformed command for worker %s came over the bus", name)
            return
        ours = next(self._ids)
        self._carried[(name, ours)] = (owner, their_id)
        if data.get("op") == "open" and isinstance(data.get("meeting"), int):
            self._owners[(name, data["meeting"])] = owner
            for item in self.unacked.values():
                if item.meeting == data["meeting"]:
                    item.owner = owner
        try:
            await peer.send_frame(_renumbered(frame, ours))
        except Exception:  # its socket is closing: the owner's pings decide
            self._carried.pop((name, ours), None)

    async def _announce(self, peer: WorkerPeer) -> None:
        self._announced.add(peer.name)
        await self.bus.publish(WORKERS_TOPIC, {"relay": self.process, "worker": peer.name,
                                               "hello": worker_message_to_json(peer.hello),
                                               "load": worker_message_to_json(peer.load)})

    async def _announce_loop(self) -> None:
        """Every `HEARTBEAT_S`, the workers connected here (a process started later learns them),
        and the finals to send again."""
        while True:
            await self.clock.sleep(HEARTBEAT_S)
            if self.unacked:
                try:
                    await self._resend()
                except Exception:
                    log.exception("re-sending relayed finals failed")
            local = self._local()
            for name in self._announced - set(local):
                with contextlib.suppress(Exception):
                    await self.bus.publish(WORKERS_TOPIC, {"relay": self.process, "worker": name, "gone": True})
            self._announced &= set(local)
            for peer in local.values():
                try:
                    await self._announce(peer)
                except Exception:
                    log.exception("announcing worker %s failed", peer.name)

    # --- owner side: the workers other processes carry ----------------------------------------

    async def _read(self, sub: Subscription) -> None:
        async for topic, event in sub:
            try:
                if topic == WORKERS_TOPIC:
                    await self._announced_by_other(dict(event))
                elif topic == hub_topic(self.process):
                    await self._for_owner(dict(event))
                elif topic.startswith(worker_topic("")):
                    await self._carry(topic.removeprefix(worker_topic("")), dict(event))
            except Exception:
                log.exception("a relayed interpretation message failed (%s)", topic)

    async def _for_owner(self, event: dict[str, Any]) -> None:
        """A frame relayed to this process (as the owner of its meeting), or an acknowledgement
        of a final this process relayed."""
        acked = event.get("acked")
        if isinstance(acked, str):
            await self._acked(acked)
            return
        peer = self.remote.get(str(event.get("worker")))
        frame, ack, relay = event.get("frame"), event.get("ack"), event.get("relay")
        if not isinstance(frame, str):
            return
        if isinstance(ack, str) and isinstance(relay, str):
            # a final: handled whether or not its worker is still known here
            if peer is not None:
                peer.heard()
            try:
                message = parse_worker_message(frame)
            except ProtocolError:
                return
            if isinstance(message, Event) and await self._handle(message):
                await self.bus.publish(hub_topic(relay), {"acked": ack})
            return
        if peer is not None and not peer.closed:
            await self.pool.frame(peer, frame)

    async def _announced_by_other(self, event: dict[str, Any]) -> None:
        relay, name = event.get("relay"), event.get("worker")
        if relay == self.process or not isinstance(relay, str) or not isinstance(name, str):
            return
        peer = self.remote.get(name)
        if event.get("gone"):
            if peer is not None and peer.relay == relay:
                del self.remote[name]
                await self.pool.disconnect(peer)
            return
        if name in self._local():
            return  # the same name here: ours wins (see `WorkerPool.connect`)
        try:
            hello = parse_worker_message(str(event.get("hello")))
            load = parse_worker_message(str(event.get("load")))
        except ProtocolError:
            log.warning("a malformed announcement of worker %s came over the bus", name)
            return
        if not isinstance(hello, Hello):
            return
        if peer is None or peer.closed or peer.relay != relay:
            if peer is not None and not peer.closed:
                await self.pool.disconnect(peer)  # it reconnected through another process
            peer = WorkerPeer(hello, self._sender(name), relay=relay)
            self.remote[name] = peer
            await self.pool.add(peer)
        if isinstance(load, Load):
            peer.load = load

    def _sender(self, name: str) -> Callable[[str], Awaitable[None]]:
        async def send(frame: str) -> None:
            await self.bus.publish(worker_topic(name), {"from": self.process, "frame": frame})

        return send
