"""Opus decode/encode and resampling through PyAV (FFmpeg's libopus and swresample).

Everything here is synchronous and cheap (~45 us per 20 ms Opus packet); callers keep one
instance per stream because decoders and resamplers carry state between calls.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np

from parley.errors import EngineError
from parley.interpretation.frames import Samples

try:
    import av
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("parley.interpretation needs PyAV: pip install 'parley[interpretation]'") from exc

OPUS_RATE = 48_000
ASR_RATE = 16_000


def _frame(samples: Samples, rate: int) -> Any:
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32)[None, :],
                                       format="flt", layout="mono")
    frame.sample_rate = rate
    return frame


def _mono(frame: Any) -> Samples:
    data: np.ndarray[Any, Any] = np.asarray(frame.to_ndarray())
    mono: np.ndarray[Any, Any]
    if frame.format.is_planar:
        mono = data.mean(axis=0) if data.shape[0] > 1 else data[0]
    else:
        channels = len(frame.layout.channels)
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
    out: Samples = mono.astype(np.float32)
    if data.dtype == np.int16:
        out = (out / 32768.0).astype(np.float32)
    return out


class Resampler:
    """Stateful mono float32 resampler; `flush` returns what the filter still holds."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._r = None if src_rate == dst_rate else av.AudioResampler(format="flt", layout="mono", rate=dst_rate)

    def process(self, samples: Samples) -> Samples:
        if self._r is None or len(samples) == 0:
            return samples.astype(np.float32, copy=False)
        return _join([_mono(f) for f in self._r.resample(_frame(samples, self.src_rate))])

    def flush(self) -> Samples:
        if self._r is None:
            return np.zeros(0, np.float32)
        out = _join([_mono(f) for f in self._r.resample(None)])
        self._r = av.AudioResampler(format="flt", layout="mono", rate=self.dst_rate)
        return out


def resample(samples: Samples, src_rate: int, dst_rate: int) -> Samples:
    r = Resampler(src_rate, dst_rate)
    return _join([r.process(samples), r.flush()])


class OpusDecoder:
    """One RTP Opus payload in, 48 kHz mono float32 out (stereo is down-mixed)."""

    def __init__(self) -> None:
        self._ctx = av.CodecContext.create("opus", "r")
        self._ctx.sample_rate = OPUS_RATE
        self._ctx.layout = "stereo"

    def decode(self, payload: bytes) -> Samples:
        try:
            frames = self._ctx.decode(av.Packet(payload))
        except av.error.FFmpegError as exc:
            raise EngineError(f"opus decode failed: {exc.__class__.__name__}", retryable=False,
                              engine="opus") from exc
        return _join([_mono(f) for f in frames])


class OpusEncoder:
    """48 kHz mono float32 in, one Opus payload per ``frame_ms`` frame out.

    Leftover samples shorter than a frame wait for the next call; `flush` pads them with
    silence so the end of an utterance is not lost.
    """

    def __init__(self, *, bitrate: int = 32_000, frame_ms: int = 20) -> None:
        self.frame_size = OPUS_RATE * frame_ms // 1000
        ctx = av.CodecContext.create("libopus", "w")
        ctx.sample_rate = OPUS_RATE
        ctx.layout = "mono"
        ctx.format = "flt"
        ctx.bit_rate = bitrate
        ctx.options = {"application": "voip", "frame_duration": str(frame_ms)}
        ctx.open()
        self._ctx = ctx
        self._pending = np.zeros(0, np.float32)
        self._pts = 0

    def encode(self, samples: Samples) -> list[bytes]:
        data = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        out: list[bytes] = []
        n = len(data) // self.frame_size * self.frame_size
        for i in range(0, n, self.frame_size):
            frame = _frame(data[i : i + self.frame_size], OPUS_RATE)
            frame.pts = self._pts
            self._pts += self.frame_size
            out.extend(bytes(p) for p in self._ctx.encode(frame))
        self._pending = data[n:]
        return out

    def flush(self) -> list[bytes]:
        """Encode what is pending, padded to a whole frame (the encoder stays usable)."""
        if len(self._pending) == 0:
            return []
        pad = np.zeros(self.frame_size - len(self._pending), np.float32)
        return self.encode(pad)


def load_audio(path: str | Path, rate: int = ASR_RATE) -> Samples:
    """Decode any file FFmpeg reads to mono float32 at ``rate`` (benchmarks, tests, tools)."""
    r = av.AudioResampler(format="flt", layout="mono", rate=rate)
    parts: list[Samples] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts.extend(_mono(f) for f in r.resample(frame))
    parts.extend(_mono(f) for f in r.resample(None))
    return _join(parts)


def parse_wav(data: bytes) -> tuple[Samples, int]:
    """16-bit PCM WAV bytes -> (mono float32, rate).

    Tolerates the placeholder sizes that espeak-ng and festival write when streaming to a pipe.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos = 12
    rate = channels = bits = 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            if fmt != 1 or bits != 16:
                raise ValueError(f"unsupported WAV encoding (format {fmt}, {bits} bits)")
        elif chunk_id == b"data":
            if not rate:
                raise ValueError("WAV data before fmt chunk")
            end = min(len(data), body + size) if size not in (0, 0xFFFFFFFF) else len(data)
            end -= (end - body) % (2 * channels)
            pcm = np.frombuffer(data[body:end], dtype="<i2").astype(np.float32) / 32768.0
            if channels > 1:
                pcm = pcm.reshape(-1, channels).mean(axis=1)
            return pcm.astype(np.float32), rate
        pos = body + size + (size & 1)
    raise ValueError("WAV has no data chunk")


def write_wav(samples: Samples, rate: int) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    buf.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE")
    buf.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16))
    buf.write(b"data" + struct.pack("<I", len(pcm)) + pcm)
    return buf.getvalue()


def normalize_peak(samples: Samples, peak_dbfs: float = -3.0) -> Samples:
    """Scale so the loudest sample sits at ``peak_dbfs`` (what a browser's AGC roughly does)."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak < 1e-6:
        return samples
    return (samples * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def _join(parts: list[Samples]) -> Samples:
    if not parts:
        return np.zeros(0, np.float32)
    if len(parts) == 1:
        return parts[0].astype(np.float32, copy=False)
    return np.concatenate(parts).astype(np.float32, copy=False)
