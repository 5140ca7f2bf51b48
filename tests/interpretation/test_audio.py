"""Opus, resampling, WAV, and turning RTP timestamps into media time."""

from __future__ import annotations

import numpy as np
import pytest

from parley.interpretation.audio import (
    OpusDecoder,
    OpusEncoder,
    Resampler,
    normalize_peak,
    parse_wav,
    resample,
    write_wav,
)
from parley.interpretation.rtp import RtpDepacketizer, RtpPacket, RtpPacketizer
from tests.fakes.engines import tone

pytestmark = pytest.mark.unit


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / len(x))


def test_opus_round_trip_keeps_a_tone() -> None:
    enc, dec = OpusEncoder(), OpusDecoder()
    payloads = enc.encode(tone(0.5, freq=440.0, rate=48_000)) + enc.flush()
    assert len(payloads) == 25
    out = np.concatenate([dec.decode(p) for p in payloads])
    assert len(out) == 25 * 960
    assert abs(peak_hz(out[4800:], 48_000) - 440) < 10


def test_encoder_keeps_partial_frames_for_the_next_call() -> None:
    enc = OpusEncoder()
    assert enc.encode(np.zeros(500, np.float32)) == []
    assert len(enc.encode(np.zeros(500, np.float32))) == 1
    assert len(enc.flush()) == 1


def test_resampler_streams_without_losing_samples() -> None:
    r = Resampler(48_000, 16_000)
    x = tone(1.0, freq=300.0, rate=48_000)
    parts = [r.process(x[i:i + 960]) for i in range(0, len(x), 960)] + [r.flush()]
    y = np.concatenate(parts)
    assert abs(len(y) - 16_000) <= 2
    assert abs(peak_hz(y, 16_000) - 300) < 5
    assert len(resample(x, 48_000, 48_000)) == len(x)


def test_wav_round_trip_and_streaming_header() -> None:
    x = tone(0.1, rate=22_050)
    data = write_wav(x, 22_050)
    y, rate = parse_wav(data)
    assert rate == 22_050 and np.max(np.abs(y - x)) < 1e-3
    # espeak-ng writes 0x7ffff000-ish sizes when streaming to a pipe
    streamed = data[:4] + b"\x24\xf0\xff\x7f" + data[8:40] + b"\x00\xf0\xff\x7f" + data[44:]
    z, _ = parse_wav(streamed)
    assert len(z) == len(x)
    with pytest.raises(ValueError):
        parse_wav(b"not a wav file at all")


def test_normalize_peak() -> None:
    y = normalize_peak(tone(0.1, amplitude=0.01), -6.0)
    assert abs(np.max(np.abs(y)) - 10 ** (-6 / 20)) < 1e-3
    assert not normalize_peak(np.zeros(10, np.float32)).any()


def _opus_packets(seconds: float) -> list[RtpPacket]:
    enc = OpusEncoder()
    pk = RtpPacketizer(ssrc=5, sequence_number=100, timestamp=1000)
    return [pk.packetize(p, 960) for p in enc.encode(tone(seconds, rate=48_000)) + enc.flush()]


def test_depacketizer_stamps_media_time_from_rtp_timestamps() -> None:
    d = RtpDepacketizer()
    chunks = [c for p in _opus_packets(0.2) for c in d.push(p, arrival=5.0)]
    assert chunks[0].start == 0.0
    total = sum(len(c.samples) for c in chunks)
    assert abs(total / 16_000 - 0.2) < 0.01
    assert all(c.captured_at == 5.0 for c in chunks)


def test_a_lost_packet_becomes_silence_of_the_same_length() -> None:
    packets = _opus_packets(0.2)
    d = RtpDepacketizer()
    kept = [p for i, p in enumerate(packets) if i not in (3, 4)]
    chunks = [c for p in kept for c in d.push(p, arrival=0.0)] + d.flush(0.0)
    total = sum(len(c.samples) for c in chunks)
    assert abs(total / 16_000 - 0.2) < 0.01  # the timeline did not shrink
    assert d.filled_seconds == pytest.approx(0.04)


def test_a_long_gap_restarts_the_timeline_at_the_new_position() -> None:
    packets = _opus_packets(0.1)
    d = RtpDepacketizer(max_fill=1.0)
    first = [c for p in packets[:2] for c in d.push(p, 0.0)]
    late = packets[2]
    jumped = type(late)(payload_type=late.payload_type, sequence_number=late.sequence_number,
                        timestamp=late.timestamp + 48_000 * 5, ssrc=late.ssrc, payload=late.payload)
    after = d.push(jumped, 0.0)
    assert first and after
    assert after[-1].start == pytest.approx(5.0 + 0.04, abs=0.01)
    assert d.filled_seconds == 0
