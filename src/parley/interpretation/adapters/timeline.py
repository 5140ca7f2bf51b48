"""Stream sample indices to media time (anchored where the audio jumps) and to arrival time."""

from __future__ import annotations

import bisect
from collections import deque

from parley.clock import Clock


class Timeline:
    """Word times are media times, latencies count from arrival: both by stream sample index."""

    def __init__(self, rate: int, clock: Clock) -> None:
        self._rate = rate
        self._clock = clock
        self._anchors: list[tuple[int, float]] = []  # (sample index, media time) at discontinuities
        self._arrivals: deque[tuple[int, float]] = deque()  # (end sample index, captured_at)

    @property
    def anchored(self) -> bool:
        return bool(self._anchors)

    def anchor(self, index: int, start: float) -> None:
        """Media time ``start`` begins at sample ``index`` (the first audio, or a jump)."""
        self._anchors.append((index, start))

    def arrived(self, end: int, captured_at: float) -> None:
        self._arrivals.append((end, captured_at))

    def forget_before(self, index: int) -> None:
        """Arrivals of audio the buffer no longer keeps."""
        while self._arrivals and self._arrivals[0][0] < index:
            self._arrivals.popleft()

    def media_time(self, index: int) -> float:
        if not self._anchors:
            return index / self._rate
        i = bisect.bisect_right(self._anchors, (index, float("inf"))) - 1
        base_index, base_time = self._anchors[max(i, 0)]
        return base_time + (index - base_index) / self._rate

    def arrival_time(self, index: int) -> float:
        for end, at in self._arrivals:
            if end >= index:
                return at
        return self._arrivals[-1][1] if self._arrivals else self._clock.monotonic()
