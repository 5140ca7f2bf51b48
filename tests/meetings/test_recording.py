"""Janus .mjr recordings to Ogg Opus: file formats round-trip, gaps become silence, every
speaker's file starts at the recording start, and the converter process prints a manifest."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest

from parley.media.janus.recording import (
    SILENCE,
    MjrError,
    OggOpusWriter,
    convert,
    ogg_crc,
    opus_samples,
    parse_rtp,
    read_mjr,
    write_mjr,
)

pytestmark = pytest.mark.unit

FEED_SHIFT = 20


def rtp(seq: int, ts: int, payload: bytes = SILENCE, ssrc: int = 1234) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def ogg_pages(data: bytes) -> list[dict[str, int | bytes]]:
    pages = []
    at = 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS"
        _, flags, granule, serial, seq, crc, count = struct.unpack_from("<BBqIIIB", data, at + 4)
        lacing = data[at + 27:at + 27 + count]
        size = 27 + count + sum(lacing)
        page = bytearray(data[at:at + size])
        struct.pack_into("<I", page, 22, 0)
        assert ogg_crc(bytes(page)) == crc
        pages.append({"flags": flags, "granule": granule, "seq": seq, "body": bytes(data[at + 27 + count:at + size])})
        at += size
    return pages


def test_mjr_round_trip_and_truncated_tail(tmp_path: Path) -> None:
    path = tmp_path / "a.mjr"
    packets = [rtp(i, i * 960) for i in range(5)]
    write_mjr(path, packets, created_us=10, first_us=20)
    mjr = read_mjr(path)
    assert (mjr.kind, mjr.codec, mjr.created_us, mjr.first_us, mjr.packets) == ("a", "opus", 10, 20, packets)

    path.write_bytes(path.read_bytes()[:-3])  # Janus killed mid-write
    assert read_mjr(path).packets == packets[:4]
    (tmp_path / "b.mjr").write_bytes(b"not a recording")
    with pytest.raises(MjrError):
        read_mjr(tmp_path / "b.mjr")


def test_rtp_parsing_skips_csrc_extension_and_padding() -> None:
    header = bytes([0xB1, 111]) + struct.pack("!HII", 7, 960, 99) + struct.pack("!I", 5)  # P, X, 1 CSRC
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x10\x01\x00\x00"
    packet = header + extension + SILENCE + b"\x00\x02"
    parsed = parse_rtp(packet)
    assert parsed is not None and (parsed.sequence, parsed.timestamp, parsed.ssrc, parsed.payload) == (
        7, 960, 99, SILENCE)
    assert parse_rtp(b"\x00" * 12) is None


def test_opus_toc_durations() -> None:
    assert opus_samples(SILENCE) == 960  # CELT 20 ms, one frame
    assert opus_samples(bytes([0x78 | 0x01])) == 2 * 960  # two 20 ms frames (SILK WB 20 ms, code 1)
    assert opus_samples(bytes([0x03 | (16 << 3), 0x05])) == 5 * 120  # code 3: frame count byte


def test_ogg_writer_pages_have_valid_crcs_and_granules() -> None:
    out = BytesIO()
    writer = OggOpusWriter(out)
    for _ in range(120):
        writer.write(SILENCE, 960)
    writer.close()
    pages = ogg_pages(out.getvalue())
    assert pages[0]["body"][:8] == b"OpusHead" and pages[0]["flags"] == 2  # type: ignore[index]
    assert pages[1]["body"][:8] == b"OpusTags"  # type: ignore[index]
    assert pages[-1]["flags"] == 4 and pages[-1]["granule"] == 120 * 960
    assert [p["seq"] for p in pages] == list(range(len(pages)))


def test_speakers_are_aligned_on_the_recording_start_with_silence_in_gaps(tmp_path: Path) -> None:
    start_us = 1_000_000_000
    amina, bruno = 7, 9
    feed_a1, feed_a2, feed_b = (amina << FEED_SHIFT) | 1, (amina << FEED_SHIFT) | 2, (bruno << FEED_SHIFT) | 3
    # Amina: 1 s of audio starting 0.5 s in, a 0.4 s hole (DTX), then a reconnect 3 s in.
    first = [rtp(i, 5000 + i * 960) for i in range(50)] + [rtp(50 + i, 5000 + (70 + i) * 960) for i in range(10)]
    write_mjr(tmp_path / f"videoroom-1-user-{feed_a1}-1-audio-0.mjr", first, first_us=start_us + 500_000)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_a2}-2-audio-0.mjr", [rtp(i, i * 960) for i in range(25)],
              first_us=start_us + 3_000_000)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_b}-3-audio-0.mjr", [rtp(i, i * 960) for i in range(10)],
              first_us=start_us)
    write_mjr(tmp_path / f"videoroom-1-user-{feed_b}-3-video-1.mjr", [rtp(0, 0, b"vp8")], kind="v", codec="vp8")

    manifest = convert(tmp_path, start_us)

    assert [(m["participant_id"], m["file"]) for m in manifest] == [(amina, "speaker-7.opus"),
                                                                   (bruno, "speaker-9.opus")]
    assert manifest[0]["seconds"] == pytest.approx(3.5, abs=0.02)  # 3 s offset + 0.5 s second segment
    assert manifest[1]["seconds"] == pytest.approx(0.2, abs=0.02)
    av = pytest.importorskip("av")
    with av.open(str(tmp_path / "speaker-7.opus")) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples == pytest.approx(3.5 * 48_000, abs=960)


def test_the_converter_runs_as_its_own_process(tmp_path: Path) -> None:
    feed = (3 << FEED_SHIFT) | 1
    write_mjr(tmp_path / f"videoroom-1-user-{feed}-1-audio-0.mjr", [rtp(i, i * 960) for i in range(50)],
              first_us=5_000_000)
    done = subprocess.run([sys.executable, "-m", "parley.media.janus.recording", str(tmp_path), "5000000"],
                          capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == [{"participant_id": 3, "file": "speaker-3.opus",
                                        "bytes": (tmp_path / "speaker-3.opus").stat().st_size, "seconds": 1.0}]
    assert not list(tmp_path.glob("*.mjr"))
