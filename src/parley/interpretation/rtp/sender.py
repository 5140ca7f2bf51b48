"""Audio -> UDP out: Opus frames packetized (sequence, timestamp, SSRC, marker) and sent
paced at 20 ms.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import numpy as np

from parley.clock import Clock
from parley.interpretation.audio import OPUS_RATE, OpusEncoder, Resampler
from parley.interpretation.frames import Samples
from parley.interpretation.rtp.packet import RtpPacket


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
