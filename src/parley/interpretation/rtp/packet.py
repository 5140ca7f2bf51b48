"""One RTP packet (RFC 3550): parsed from a datagram, built for sending, and the
wrap-around arithmetic of its 16-bit sequence numbers and 32-bit timestamps.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

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


def unwrap(value: int, reference: int, bits: int) -> int:
    """Extend a wrapping counter to the value nearest ``reference`` (which is already extended)."""
    modulus = 1 << bits
    diff = (value - reference) % modulus
    if diff >= modulus // 2:
        diff -= modulus
    return reference + diff
