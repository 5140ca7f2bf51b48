"""Plain RTP over UDP: what a media server forwards to us and what we send back.

    UDP datagram -> RtpPacket.parse -> RtpReceiver (demux by SSRC) -> JitterBuffer (reorder,
    declare loss) -> RtpDepacketizer (Opus decode, fill gaps, resample, stamp media time) ->
    AudioChunk

    samples -> OpusEncoder -> RtpPacketizer (seq/timestamp/ssrc/marker) -> RtpOpusSender
    (paced 20 ms frames) -> UDP

Nothing here knows about Janus; any sender of Opus RTP works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from parley.clock import Clock
from parley.interpretation.audio import ASR_RATE, OPUS_RATE, OpusDecoder, OpusEncoder, Resampler
from parley.interpretation.frames import AudioChunk, Samples

log = logging.getLogger(__name__)

RTP_VERSION = 2
HEADER_SIZE = 12


class RtpError(ValueError):
    """A datagram that is not a well-formed RTP packet."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension_profile: int | None = None
    extension: bytes = b""
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        if len(data) < HEADER_SIZE:
            raise RtpError(f"RTP packet too short ({len(data)} bytes)")
        b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
        if b0 >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version {b0 >> 6} is not 2")
        pos = HEADER_SIZE
        cc = b0 & 0x0F
        if len(data) < pos + 4 * cc:
            raise RtpError("RTP CSRC list truncated")
        csrc = struct.unpack_from(f"!{cc}I", data, pos)
        pos += 4 * cc
        profile: int | None = None
        ext = b""
        if b0 & 0x10:
            if len(data) < pos + 4:
                raise RtpError("RTP extension header truncated")
            profile, words = struct.unpack_from("!HH", data, pos)
            pos += 4
            if len(data) < pos + 4 * words:
                raise RtpError("RTP extension truncated")
            ext = bytes(data[pos : pos + 4 * words])
            pos += 4 * words
        end = len(data)
        padding = 0
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or padding > end - pos:
                raise RtpError("RTP padding length invalid")
            end -= padding
        return cls(payload_type=b1 & 0x7F, sequence_number=seq, timestamp=ts, ssrc=ssrc,
                   payload=bytes(data[pos:end]), marker=bool(b1 & 0x80), csrc=tuple(csrc),
                   extension_profile=profile, extension=ext, padding=padding)

    def serialize(self) -> bytes:
        if len(self.csrc) > 15:
            raise RtpError("at most 15 CSRCs")
        if len(self.extension) % 4:
            raise RtpError("RTP extension must be a whole number of 32-bit words")
        if not 0 <= self.padding <= 255:
            raise RtpError("RTP padding must be 0-255 bytes")
        has_ext = self.extension_profile is not None
        b0 = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | (0x10 if has_ext else 0) | len(self.csrc)
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        out = bytearray(struct.pack("!BBHII", b0, b1, self.sequence_number & 0xFFFF,
                                    self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF))
        out += struct.pack(f"!{len(self.csrc)}I", *self.csrc)
        if has_ext:
            out += struct.pack("!HH", self.extension_profile or 0, len(self.extension) // 4) + self.extension
        out += self.payload
        if self.padding:
            out += bytes(self.padding - 1) + bytes([self.padding])
        return bytes(out)


def _unwrap(value: int, reference: int, bits: int) -> int:
    """Extend a wrapping counter to the value nearest ``reference`` (which is already extended)."""
    modulus = 1 << bits
    diff = (value - reference) % modulus
    if diff >= modulus // 2:
        diff -= modulus
    return reference + diff


# --- reordering -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lost:
    """``count`` packets before the next released one never arrived in time."""

    count: int


@dataclass
class JitterStats:
    received: int = 0
    released: int = 0
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    reordered: int = 0
    resets: int = 0


class JitterBuffer:
    """Puts packets back in sequence order and gives up on missing ones.

    A gap is declared lost when ``max_delay`` newer packets are waiting behind it, or (through
    `expire`) when the packet after the gap has waited ``max_hold`` seconds. A jump of more
    than ``reset_gap`` sequence numbers is a restarted sender, not loss. Deterministic: time
    comes in as arguments.
    """

    def __init__(self, *, max_delay: int = 3, max_hold: float = 0.08, capacity: int = 64,
                 reset_gap: int = 1000) -> None:
        self.max_delay = max_delay
        self.max_hold = max_hold
        self.capacity = capacity
        self.reset_gap = reset_gap
        self.stats = JitterStats()
        self._expected: int | None = None
        self._highest: int | None = None
        self._held: dict[int, tuple[RtpPacket, float]] = {}

    def push(self, packet: RtpPacket, now: float) -> list[RtpPacket | Lost]:
        self.stats.received += 1
        ref = self._highest if self._highest is not None else packet.sequence_number
        ext = _unwrap(packet.sequence_number, ref, 16)
        out: list[RtpPacket | Lost] = []
        if self._expected is None:
            self._expected = self._highest = ext
        elif abs(ext - (self._highest or ext)) > self.reset_gap:
            out.extend(self._release_all())
            self.stats.resets += 1
            self._expected = self._highest = ext
        if ext < self._expected:
            self.stats.late += 1
            return out
        if ext in self._held:
            self.stats.duplicates += 1
            return out
        if self._highest is not None and ext < self._highest:
            self.stats.reordered += 1
        self._highest = max(self._highest or ext, ext)
        self._held[ext] = (packet, now)
        out.extend(self._release_ready())
        while self._held and (self._highest - self._expected >= self.max_delay or len(self._held) > self.capacity):
            out.extend(self._skip_gap())
        return out

    def expire(self, now: float) -> list[RtpPacket | Lost]:
        out: list[RtpPacket | Lost] = []
        while self._held and min(t for _, t in self._held.values()) <= now - self.max_hold:
            out.extend(self._skip_gap())
        return out

    def flush(self) -> list[RtpPacket | Lost]:
        return self._release_all()

    @property
    def waiting(self) -> int:
        return len(self._held)

    @property
    def oldest_arrival(self) -> float | None:
        return min((t for _, t in self._held.values()), default=None)

    def _release_ready(self) -> list[RtpPacket | Lost]:
        out: list[RtpPacket | Lost] = []
        assert self._expected is not None  # invariant: set by the first push
        while self._expected in self._held:
            out.append(self._held.pop(self._expected)[0])
            self.stats.released += 1
            self._expected += 1
        return out

    def _skip_gap(self) -> list[RtpPacket | Lost]:
        assert self._expected is not None
        first = min(self._held)
        missing = first - self._expected
        out: list[RtpPacket | Lost] = []
        if missing > 0:
            self.stats.lost += missing
            out.append(Lost(missing))
            self._expected = first
        out.extend(self._release_ready())
        return out

    def _release_all(self) -> list[RtpPacket | Lost]:
        out: list[RtpPacket | Lost] = []
        while self._held:
            out.extend(self._skip_gap())
        return out


# --- RTP Opus -> audio chunks -------------------------------------------------------------


class RtpDepacketizer:
    """In-order Opus RTP packets -> 16 kHz `AudioChunk`s stamped with media time.

    Media time comes from RTP timestamps, so lost packets and DTX pauses up to ``max_fill``
    seconds are filled with silence (the recogniser sees real time pass); a longer gap
    restarts the sample count at the new position.
    """

    def __init__(self, *, rate: int = ASR_RATE, max_fill: float = 1.0, clock_rate: int = OPUS_RATE) -> None:
        self.rate = rate
        self.clock_rate = clock_rate
        self.max_fill = max_fill
        self._decoder = OpusDecoder()
        self._resampler = Resampler(OPUS_RATE, rate)
        self._first_ts: int | None = None
        self._last_ts: int | None = None
        self._next_ts: int | None = None
        self._segment_start = 0.0
        self._produced = 0
        self.decode_errors = 0
        self.filled_seconds = 0.0

    def push(self, packet: RtpPacket, arrival: float) -> list[AudioChunk]:
        ref = self._last_ts if self._last_ts is not None else packet.timestamp
        ts = _unwrap(packet.timestamp, ref, 32)
        if self._first_ts is None:
            self._first_ts = ts
            self._next_ts = ts
        self._last_ts = ts
        assert self._next_ts is not None
        pcm_parts: list[Samples] = []
        gap = ts - self._next_ts
        chunks: list[AudioChunk] = []
        if gap > 0:
            if gap <= self.max_fill * self.clock_rate:
                pcm_parts.append(np.zeros(gap * OPUS_RATE // self.clock_rate, np.float32))
                self.filled_seconds += gap / self.clock_rate
            else:
                chunks.extend(self._emit(self._resampler.flush(), arrival))
                self._segment_start = (ts - self._first_ts) / self.clock_rate
                self._produced = 0
        elif gap < 0:
            return []  # overlaps audio already played out (a duplicate or a late retransmission)
        try:
            pcm = self._decoder.decode(packet.payload)
        except Exception:  # a corrupt payload must not end the stream
            self.decode_errors += 1
            pcm = np.zeros(0, np.float32)
        pcm_parts.append(pcm)
        self._next_ts = ts + max(len(pcm), 1) * self.clock_rate // OPUS_RATE
        data = np.concatenate(pcm_parts) if len(pcm_parts) > 1 else pcm_parts[0]
        chunks.extend(self._emit(self._resampler.process(data), arrival))
        return chunks

    def flush(self, arrival: float) -> list[AudioChunk]:
        return self._emit(self._resampler.flush(), arrival)

    def _emit(self, samples: Samples, arrival: float) -> list[AudioChunk]:
        if len(samples) == 0:
            return []
        start = self._segment_start + self._produced / self.rate
        self._produced += len(samples)
        return [AudioChunk(samples=samples, sample_rate=self.rate, start=start, captured_at=arrival)]


# --- UDP in -------------------------------------------------------------------------------


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


class RtpAudioSource:
    """An async iterator of `AudioChunk`s for one speaker: queue -> jitter buffer -> decoder.

    Ends when the receiver unsubscribes it (``None`` on the queue).
    """

    def __init__(self, packets: asyncio.Queue[tuple[RtpPacket, float] | None], *, clock: Clock,
                 jitter: JitterBuffer | None = None, depacketizer: RtpDepacketizer | None = None) -> None:
        self._packets = packets
        self._clock = clock
        self.jitter = jitter or JitterBuffer()
        self.depacketizer = depacketizer or RtpDepacketizer()
        self._ssrc: int | None = None
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while True:
            item = await self._next()
            now = self._clock.monotonic()
            if item is None:
                if self._closed:
                    for entry in self.jitter.flush():
                        for chunk in self._release(entry, now):
                            yield chunk
                    for chunk in self.depacketizer.flush(now):
                        yield chunk
                    return
                released = self.jitter.expire(now)
            else:
                packet, arrival = item
                if self._ssrc is not None and packet.ssrc != self._ssrc:
                    # a new sender on this route: start clean rather than mixing two timelines
                    for entry in self.jitter.flush():
                        for chunk in self._release(entry, now):
                            yield chunk
                    self.jitter = JitterBuffer(max_delay=self.jitter.max_delay, max_hold=self.jitter.max_hold)
                    self.depacketizer = RtpDepacketizer(rate=self.depacketizer.rate,
                                                        max_fill=self.depacketizer.max_fill)
                self._ssrc = packet.ssrc
                released = self.jitter.push(packet, arrival)
            for entry in released:
                for chunk in self._release(entry, now):
                    yield chunk

    async def _next(self) -> tuple[RtpPacket, float] | None:
        """The next packet, or None when held packets are due for release (or the feed ended)."""
        if self._closed:
            return None
        if not self.jitter.waiting:
            item = await self._packets.get()
        else:
            oldest = self.jitter.oldest_arrival or self._clock.monotonic()
            delay = max(0.0, oldest + self.jitter.max_hold - self._clock.monotonic())
            get = asyncio.ensure_future(self._packets.get())
            timer = asyncio.ensure_future(self._clock.sleep(delay))
            try:
                await asyncio.wait({get, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
                if not get.done():
                    get.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            if get.cancelled() or not get.done():
                return None
            item = get.result()
        if item is None:
            self._closed = True
        return item

    def _release(self, entry: RtpPacket | Lost, now: float) -> list[AudioChunk]:
        if isinstance(entry, Lost):
            return []  # the timestamp gap of the next packet becomes silence
        return self.depacketizer.push(entry, now)


# --- audio -> UDP out ---------------------------------------------------------------------


@dataclass
class RtpPacketizer:
    """Numbers Opus payloads: 16-bit sequence, 48 kHz timestamp, marker on talkspurt start."""

    ssrc: int
    payload_type: int = 111
    sequence_number: int = field(default_factory=lambda: random.randrange(1 << 16))
    timestamp: int = field(default_factory=lambda: random.randrange(1 << 32))

    def packetize(self, payload: bytes, samples: int, *, marker: bool = False) -> RtpPacket:
        packet = RtpPacket(payload_type=self.payload_type, sequence_number=self.sequence_number,
                           timestamp=self.timestamp, ssrc=self.ssrc, payload=payload, marker=marker)
        self.sequence_number = (self.sequence_number + 1) & 0xFFFF
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        return packet

    def skip(self, samples: int) -> None:
        """Advance the timestamp over a silent pause (no packets sent, time still passed)."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF


class RtpOpusSender:
    """Sends audio as paced Opus RTP (one 20 ms frame every 20 ms) to one UDP address.

    `send` waits until the audio is out, so callers naturally queue utterances one after
    another; pacing follows the injected clock.
    """

    def __init__(self, host: str, port: int, *, clock: Clock, ssrc: int, payload_type: int = 111,
                 bitrate: int = 32_000, frame_ms: int = 20) -> None:
        self._addr = (host, port)
        self._clock = clock
        self._frame_s = frame_ms / 1000
        self._encoder = OpusEncoder(bitrate=bitrate, frame_ms=frame_ms)
        self.packetizer = RtpPacketizer(ssrc=ssrc, payload_type=payload_type)
        self._transport: asyncio.DatagramTransport | None = None
        self._resamplers: dict[int, Resampler] = {}
        self._last_sent: float | None = None
        self._lock = asyncio.Lock()
        self.packets_sent = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=self._addr)
        self._transport = transport

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def send(self, samples: Samples, sample_rate: int) -> int:
        """Encode and send one utterance; returns the number of packets sent."""
        if self._transport is None:
            raise RuntimeError("sender not started")
        async with self._lock:
            r = self._resamplers.setdefault(sample_rate, Resampler(sample_rate, OPUS_RATE))
            pcm = np.concatenate([r.process(samples), r.flush()])
            payloads = self._encoder.encode(pcm) + self._encoder.flush()
            frame_samples = self._encoder.frame_size
            now = self._clock.monotonic()
            if self._last_sent is not None:
                idle = now - self._last_sent - self._frame_s
                if idle > 0:
                    self.packetizer.skip(int(idle * OPUS_RATE) // frame_samples * frame_samples)
            start = now
            for i, payload in enumerate(payloads):
                due = start + i * self._frame_s
                wait = due - self._clock.monotonic()
                if wait > 0:
                    await self._clock.sleep(wait)
                packet = self.packetizer.packetize(payload, frame_samples, marker=(i == 0))
                if self._transport is None:
                    break
                self._transport.sendto(packet.serialize())
                self.packets_sent += 1
                self._last_sent = self._clock.monotonic()
            return len(payloads)
