"""RTP Opus -> audio chunks: decode, conceal lost packets, resample to the recogniser's
rate and stamp each chunk with its media time.
"""

from __future__ import annotations

import numpy as np

from parley.interpretation.audio import ASR_RATE, OPUS_RATE, OpusDecoder, Resampler
from parley.interpretation.frames import AudioChunk, Samples
from parley.interpretation.rtp.packet import RtpPacket, unwrap


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
        ts = unwrap(packet.timestamp, ref, 32)
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
