"""Reordering: packets held briefly in sequence order, a gap declared lost once later
packets have waited long enough, so the decoder sees each packet once, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.interpretation.rtp.packet import RtpPacket, unwrap


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
        ext = unwrap(packet.sequence_number, ref, 16)
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
