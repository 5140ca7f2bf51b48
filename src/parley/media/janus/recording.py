"""Janus recordings (.mjr) to Ogg Opus, one file per speaker, all aligned on the recording start,
plus one file of the whole meeting mixed from them (`parley.media.janus.mixdown`).

Janus's VideoRoom writes each publisher's audio as an .mjr file: ``MJR00002``, a 2-byte
length and a JSON header (``t`` a|v|d, ``c`` codec, ``s`` created and ``u`` first packet,
both in microseconds since the epoch), then frames of ``MEET`` + 4-byte time + 2-byte length
+ one RTP packet. Here the Opus payloads are copied (never decoded) into an Ogg Opus file;
gaps (silence suppression, reconnects, time before the speaker's first packet) are filled
with 20 ms Opus silence frames so every file starts at the recording start.

Files are named after the person (``03-amina-diallo.opus``: their place in the meeting, then
an ASCII form of their display name), so a folder of downloads reads without the manifest; the
manifest keeps the name as typed for the download's ``filename*``.

Runs as a small separate process (``python -m parley.media.janus.recording DIR START_US [-]``,
with ``-`` reading ``{"participant id": "display name"}`` as JSON on stdin, printing a JSON
manifest) so no media work ever happens in the Parley web process.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from parley.media.janus.mixdown import MixError, mix_meeting

MJR_MAGIC = b"MJR00002"
FRAME_MAGIC = b"MEET"
SAMPLE_RATE = 48_000
SILENCE = b"\xf8\xff\xfe"  # one 20 ms CELT frame of silence (mono; valid in any Opus stream)
SILENCE_SAMPLES = 960
# A gap longer than this between two RTP timestamps is a discontinuity, not silence.
MAX_GAP_SAMPLES = SAMPLE_RATE * 3600
FEED_IN_NAME = re.compile(r"-user-(\d+)-")
# What a recording's files may be called: new names (``03-amina-diallo.opus``, ``00-meeting.opus``)
# and the ``speaker-7.opus`` of recordings made before files were named after people.
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,58}\.opus$")
NAME_CHARS = 40


class MjrError(ValueError):
    """Not an .mjr file Parley can read."""


@dataclass(frozen=True)
class MjrFile:
    kind: str  # "a" audio, "v" video, "d" data
    codec: str
    created_us: int
    first_us: int
    packets: list[bytes]


def read_mjr(path: Path) -> MjrFile:
    data = path.read_bytes()
    if not data.startswith(MJR_MAGIC) or len(data) < 10:
        raise MjrError(f"{path.name}: not an MJR00002 file")
    (length,) = struct.unpack_from("!H", data, 8)
    try:
        info = json.loads(data[10:10 + length])
    except ValueError as exc:
        raise MjrError(f"{path.name}: unreadable header") from exc
    if not isinstance(info, dict):
        raise MjrError(f"{path.name}: unreadable header")
    offset = 10 + length
    packets: list[bytes] = []
    while offset + 10 <= len(data):
        if data[offset:offset + 4] != FRAME_MAGIC:
            break  # a truncated tail (Janus was killed while writing)
        (size,) = struct.unpack_from("!H", data, offset + 8)
        start = offset + 10
        if start + size > len(data):
            break
        packets.append(data[start:start + size])
        offset = start + size
    return MjrFile(
        kind=str(info.get("t", "")),
        codec=str(info.get("c", "")),
        created_us=int(info.get("s") or 0),
        first_us=int(info.get("u") or info.get("s") or 0),
        packets=packets,
    )


def write_mjr(path: Path, packets: Sequence[bytes], *, kind: str = "a", codec: str = "opus",
              created_us: int = 0, first_us: int = 0) -> None:
    """The inverse of `read_mjr` (for tests and tools)."""
    header = json.dumps({"t": kind, "c": codec, "s": created_us, "u": first_us}).encode()
    with path.open("wb") as fh:
        fh.write(MJR_MAGIC + struct.pack("!H", len(header)) + header)
        for i, packet in enumerate(packets):
            fh.write(FRAME_MAGIC + struct.pack("!IH", i * 20, len(packet)) + packet)


@dataclass(frozen=True)
class RtpPacket:
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(packet: bytes) -> RtpPacket | None:
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    padding = packet[0] & 0x20
    extension = packet[0] & 0x10
    csrcs = packet[0] & 0x0F
    offset = 12 + 4 * csrcs
    if extension:
        if len(packet) < offset + 4:
            return None
        (words,) = struct.unpack_from("!H", packet, offset + 2)
        offset += 4 + 4 * words
    end = len(packet)
    if padding and end > offset:
        end -= packet[-1]
    if offset > end:
        return None
    sequence, timestamp, ssrc = struct.unpack_from("!HII", packet, 2)
    return RtpPacket(sequence, timestamp, ssrc, packet[offset:end])


def opus_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 section 3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        size = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:
        size = (480, 960)[config % 2]
    else:
        size = (120, 240, 480, 960)[config % 4]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 0
    return size * frames


# --- Ogg ------------------------------------------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) ^ _CRC[((crc >> 24) & 0xFF) ^ byte]) & 0xFFFFFFFF
    return crc


class OggOpusWriter:
    """Opus packets into an Ogg stream (RFC 7845), about one page per second of audio."""

    def __init__(self, out: IO[bytes], *, channels: int = 1, serial: int = 0x50617231) -> None:
        self._out = out
        self._serial = serial
        self._sequence = 0
        self._granule = 0
        self._pending: list[bytes] = []
        self.samples = 0
        head = b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 0, SAMPLE_RATE, 0, 0)
        vendor = b"parley"
        tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
        self._page([head], granule=0, flags=0x02)
        self._page([tags], granule=0)

    def _page(self, packets: list[bytes], *, granule: int, flags: int = 0) -> None:
        lacing = bytearray()
        for packet in packets:
            n = len(packet)
            lacing.extend([255] * (n // 255))
            lacing.append(n % 255)
        header = struct.pack("<4sBBqIII", b"OggS", 0, flags, granule, self._serial, self._sequence, 0)
        page = bytearray(header + bytes([len(lacing)]) + bytes(lacing) + b"".join(packets))
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        self._out.write(page)
        self._sequence += 1

    def write(self, packet: bytes, samples: int) -> None:
        if len(packet) > 255 * 100 or samples <= 0:
            return
        self._pending.append(packet)
        self.samples += samples
        if len(self._pending) >= 50:
            self._flush()

    def _flush(self, *, last: bool = False) -> None:
        if self._pending or last:
            self._page(self._pending, granule=self.samples, flags=0x04 if last else 0)
            self._pending = []

    def close(self) -> None:
        self._flush(last=True)


# --- conversion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    path: Path
    feed_id: int
    first_us: int
    packets: list[RtpPacket]


def audio_segments(folder: Path) -> list[Segment]:
    out: list[Segment] = []
    for path in sorted(folder.glob("*.mjr")):
        try:
            mjr = read_mjr(path)
        except MjrError:
            continue
        match = FEED_IN_NAME.search(path.name)
        if mjr.kind != "a" or mjr.codec != "opus" or match is None:
            continue
        packets = [p for p in (parse_rtp(raw) for raw in mjr.packets) if p is not None and p.payload]
        if packets:
            out.append(Segment(path, int(match.group(1)), mjr.first_us, packets))
    return out


def _ordered(packets: list[RtpPacket]) -> Iterator[tuple[int, bytes]]:
    """(samples since the first packet, payload), duplicates and stale packets dropped."""
    first = packets[0].timestamp
    last_end = -1
    for p in packets:
        offset = (p.timestamp - first) & 0xFFFFFFFF
        if offset >= MAX_GAP_SAMPLES or offset < last_end:
            continue
        yield offset, p.payload
        last_end = offset + max(1, opus_samples(p.payload))


def write_speaker(segments: Sequence[Segment], start_us: int, out: IO[bytes]) -> float:
    """One speaker's segments as one Ogg Opus stream starting at ``start_us``; returns seconds."""
    first_payload = segments[0].packets[0].payload
    channels = 2 if first_payload and first_payload[0] & 0x04 else 1
    writer = OggOpusWriter(out, channels=channels)

    def pad_to(position: int) -> None:
        while writer.samples + SILENCE_SAMPLES <= position:
            writer.write(SILENCE, SILENCE_SAMPLES)

    for segment in sorted(segments, key=lambda s: s.first_us):
        base = max(0, (segment.first_us - start_us) * SAMPLE_RATE // 1_000_000)
        base = max(base, writer.samples)
        for offset, payload in _ordered(segment.packets):
            pad_to(base + offset)
            writer.write(payload, opus_samples(payload))
    writer.close()
    return writer.samples / SAMPLE_RATE


def ascii_name(display_name: str) -> str:
    """``Amina Diallo`` -> ``amina-diallo``: accents dropped, anything else a hyphen ('' for a
    name with no Latin letters or digits)."""
    folded = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:NAME_CHARS].rstrip("-")


def readable_name(display_name: str) -> str:
    """The display name as a file name in any script: no controls, separators or quotes."""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" or c in '/\\:*?"<>|' else c for c in display_name)
    return " ".join(kept.split())[:NAME_CHARS * 2].strip(" .")


def speaker_file(place: int, display_name: str) -> tuple[str, str]:
    """(file name on disk, name offered to the browser) of the ``place``-th speaker: the place
    makes it unique in the meeting even when two people share a name."""
    stem = ascii_name(display_name) or "speaker"
    readable = readable_name(display_name) or stem
    return f"{place:02d}-{stem}.opus", f"{place:02d} {readable}.opus"


def convert(folder: Path, start_us: int, feed_shift: int = 20,
            names: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
    """Write one file per speaker, named after them (`speaker_file`); returns the manifest."""
    names = names or {}
    by_speaker: dict[int, list[Segment]] = {}
    for segment in audio_segments(folder):
        by_speaker.setdefault(segment.feed_id >> feed_shift, []).append(segment)
    manifest: list[dict[str, Any]] = []
    for place, (participant_id, segments) in enumerate(sorted(by_speaker.items()), start=1):
        display_name = names.get(participant_id, "")
        name, download = speaker_file(place, display_name)
        target = folder / name
        with target.open("wb") as fh:
            seconds = write_speaker(segments, start_us, fh)
        first = min(s.first_us for s in segments)
        manifest.append({"participant_id": participant_id, "display_name": display_name, "kind": "speaker",
                         "file": target.name, "download": download, "bytes": target.stat().st_size,
                         "seconds": round(seconds, 2), "starts_at": round(max(0, first - start_us) / 1e6, 2)})
    return manifest


def main(argv: Sequence[str]) -> int:
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "-"):
        print("usage: python -m parley.media.janus.recording FOLDER START_US [-]", file=sys.stderr)
        return 2
    folder, start_us = Path(argv[0]), int(argv[1])
    names = {int(k): str(v) for k, v in json.load(sys.stdin).items()} if len(argv) == 3 else {}
    manifest = convert(folder, start_us, names=names)
    try:
        mixed = mix_meeting(folder, manifest)
    except MixError as exc:  # the speakers' files are still there: the recording is usable
        print(f"recording: no whole-meeting mix: {exc}", file=sys.stderr)
    else:
        if mixed is not None:
            manifest.insert(0, mixed)
    for path in folder.glob("*.mjr"):
        path.unlink()
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
