"""The audio of the current utterance and its pre-roll, kept by stream sample index."""

from __future__ import annotations

import numpy as np

from parley.interpretation.frames import Samples


class SampleBuffer:
    """Growable sample buffer; slices stay valid after later appends (never overwritten)."""

    def __init__(self, start_index: int = 0) -> None:
        self.start = start_index
        self._data = np.zeros(16_000, np.float32)
        self._len = 0

    @property
    def end(self) -> int:
        return self.start + self._len

    def append(self, samples: Samples) -> None:
        need = self._len + len(samples)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), np.float32)
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len : need] = samples
        self._len = need

    def view(self, start: int, end: int) -> Samples:
        a = max(start, self.start) - self.start
        b = min(end, self.end) - self.start
        return self._data[a:b]

    def keep_from(self, index: int) -> None:
        index = min(max(index, self.start), self.end)
        kept = self._data[index - self.start : self._len].copy()
        self._data = np.zeros(max(16_000, 2 * len(kept)), np.float32)
        self._data[: len(kept)] = kept
        self._len = len(kept)
        self.start = index
