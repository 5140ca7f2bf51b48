"""One speaker's audio as an async iterator: the receiver's queue -> jitter buffer ->
depacketizer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from parley.clock import Clock
from parley.interpretation.frames import AudioChunk
from parley.interpretation.rtp.depacketizer import RtpDepacketizer
from parley.interpretation.rtp.jitterbuffer import JitterBuffer, Lost
from parley.interpretation.rtp.packet import RtpPacket


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
