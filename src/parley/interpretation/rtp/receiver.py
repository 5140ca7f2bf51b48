"""UDP in: one socket, packets routed to subscribers by SSRC through bounded queues (a
stalled consumer loses the oldest packets, never blocks the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from parley.clock import Clock
from parley.interpretation.rtp.packet import RtpError, RtpPacket

log = logging.getLogger(__name__)


@dataclass
class ReceiverStats:
    datagrams: int = 0
    malformed: int = 0
    unrouted: int = 0
    dropped: int = 0


class _PacketQueue:
    """Bounded; a stalled consumer loses the oldest packets, never blocks the socket."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[tuple[RtpPacket, float] | None] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, item: tuple[RtpPacket, float] | None) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(item)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, receiver: RtpReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._receiver._on_datagram(data)

    def error_received(self, exc: Exception) -> None:  # pragma: no cover - OS-level, rare on loopback
        log.warning("rtp socket error: %s", exc.__class__.__name__)


class RtpReceiver:
    """One UDP socket; packets are routed to subscribers by SSRC (None = every SSRC).

    Several forwarded speakers may share a port when each has its own SSRC.
    """

    def __init__(self, *, clock: Clock, host: str = "127.0.0.1", port: int = 0, queue_size: int = 500) -> None:
        self._clock = clock
        self._host = host
        self._port = port
        self._queue_size = queue_size
        self._transport: asyncio.DatagramTransport | None = None
        self._routes: dict[int | None, _PacketQueue] = {}
        self.stats = ReceiverStats()

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(self._host, self._port))
        self._transport = transport
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        if self._transport is None:
            raise RuntimeError("receiver not started")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def subscribe(self, ssrc: int | None = None) -> asyncio.Queue[tuple[RtpPacket, float] | None]:
        if ssrc in self._routes:
            raise ValueError(f"SSRC {ssrc} already has a subscriber")
        q = _PacketQueue(self._queue_size)
        self._routes[ssrc] = q
        return q.queue

    def unsubscribe(self, ssrc: int | None = None) -> None:
        q = self._routes.pop(ssrc, None)
        if q is not None:
            q.put(None)

    async def stop(self) -> None:
        for key in list(self._routes):
            self.unsubscribe(key)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _on_datagram(self, data: bytes) -> None:
        self.stats.datagrams += 1
        try:
            packet = RtpPacket.parse(data)
        except RtpError:
            self.stats.malformed += 1
            return
        if 72 <= packet.payload_type <= 76:  # RTCP on a shared port (RFC 5761)
            return
        route = self._routes.get(packet.ssrc) or self._routes.get(None)
        if route is None:
            self.stats.unrouted += 1
            return
        before = route.dropped
        route.put((packet, self._clock.monotonic()))
        self.stats.dropped += route.dropped - before
