"""RTP wire format (parse -> serialise -> same bytes) and the UDP receive/send path."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import pytest

from parley.clock import SystemClock
from parley.interpretation.rtp import (
    RtpAudioSource,
    RtpError,
    RtpOpusSender,
    RtpPacket,
    RtpPacketizer,
    RtpReceiver,
)
from tests.fakes.engines import tone

pytestmark = pytest.mark.unit


def _header(b0: int, b1: int, seq: int, ts: int, ssrc: int) -> bytes:
    return struct.pack("!BBHII", b0, b1, seq, ts, ssrc)


WIRE_SAMPLES = [
    # plain Opus packet, marker set
    _header(0x80, 0x80 | 111, 4321, 123456, 0xDEADBEEF) + b"\x78\x01\x02\x03",
    # two CSRCs
    _header(0x82, 96, 65535, 0xFFFFFFFF, 1) + struct.pack("!II", 7, 8) + b"payload",
    # header extension (one-byte profile 0xBEDE, one word)
    _header(0x90, 111, 1, 2, 3) + struct.pack("!HH", 0xBEDE, 1) + b"\x10\xff\x00\x00" + b"opus",
    # padding: 3 bytes, the last one says 3
    _header(0xA0, 111, 9, 10, 11) + b"abc" + b"\x00\x00\x03",
    # everything at once
    _header(0xB1, 0x80 | 100, 77, 88, 99) + struct.pack("!I", 5) + struct.pack("!HH", 0x1000, 2)
    + bytes(range(8)) + b"xyz" + b"\x00\x02",
    # empty payload
    _header(0x80, 0, 0, 0, 0),
]


@pytest.mark.parametrize("wire", WIRE_SAMPLES)
def test_parse_then_serialise_gives_the_same_bytes(wire: bytes) -> None:
    packet = RtpPacket.parse(wire)
    assert packet.serialize() == wire
    assert RtpPacket.parse(packet.serialize()) == packet


def test_parse_reads_every_field() -> None:
    p = RtpPacket.parse(WIRE_SAMPLES[4])
    assert (p.payload_type, p.sequence_number, p.timestamp, p.ssrc, p.marker) == (100, 77, 88, 99, True)
    assert p.csrc == (5,)
    assert p.extension_profile == 0x1000 and p.extension == bytes(range(8))
    assert p.payload == b"xyz" and p.padding == 2


@pytest.mark.parametrize("wire, why", [
    (b"\x80\x00\x00", "too short"),
    (_header(0x40, 0, 0, 0, 0), "version 1"),
    (_header(0x83, 0, 0, 0, 0) + b"\x00" * 4, "CSRC list cut short"),
    (_header(0x90, 0, 0, 0, 0) + b"\xbe\xde", "extension header cut short"),
    (_header(0x90, 0, 0, 0, 0) + b"\xbe\xde\x00\x02" + b"\x00" * 4, "extension body cut short"),
    (_header(0xA0, 0, 0, 0, 0) + b"ab\x00", "padding count of zero"),
    (_header(0xA0, 0, 0, 0, 0) + b"a\x09", "padding longer than payload"),
])
def test_malformed_packets_are_rejected(wire: bytes, why: str) -> None:
    with pytest.raises(RtpError):
        RtpPacket.parse(wire)


def test_packetizer_wraps_sequence_and_timestamp() -> None:
    p = RtpPacketizer(ssrc=1000, payload_type=111, sequence_number=65535, timestamp=0xFFFFFFFF - 479)
    first = p.packetize(b"a", 960, marker=True)
    second = p.packetize(b"b", 960)
    assert (first.sequence_number, second.sequence_number) == (65535, 0)
    assert second.timestamp == (first.timestamp + 960) & 0xFFFFFFFF == 480
    assert first.marker and not second.marker
    assert RtpPacket.parse(second.serialize()) == second


async def test_opus_over_loopback_udp_arrives_as_audio_chunks() -> None:
    clock = SystemClock()
    receiver = RtpReceiver(clock=clock)
    host, port = await receiver.start()
    source = RtpAudioSource(receiver.subscribe(ssrc=1010), clock=clock)
    other = receiver.subscribe(ssrc=None)  # catches every other SSRC
    sender = RtpOpusSender(host, port, clock=clock, ssrc=1010)
    stray = RtpOpusSender(host, port, clock=clock, ssrc=2020)
    await sender.start()
    await stray.start()
    sent = await sender.send(tone(0.2, freq=440.0), 16_000)
    await stray.send(tone(0.04), 16_000)

    chunks = []

    async def collect() -> None:
        async for chunk in source:
            chunks.append(chunk)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.2)
    receiver.unsubscribe(1010)
    await asyncio.wait_for(task, 5)
    await sender.stop()
    await stray.stop()
    await receiver.stop()

    assert sent == 10
    assert other.qsize() >= 2  # the stray sender's packets went to the catch-all route
    audio = np.concatenate([c.samples for c in chunks])
    assert chunks[0].start == 0.0 and chunks[0].sample_rate == 16_000
    assert abs(len(audio) / 16_000 - 0.2) < 0.03
    assert all(b.start >= a.start for a, b in zip(chunks, chunks[1:], strict=False))
    spectrum = np.abs(np.fft.rfft(audio[1600:]))
    peak_hz = np.argmax(spectrum) * 16_000 / len(audio[1600:])
    assert abs(peak_hz - 440) < 20
