"""The VAD's recent frame probabilities: where to cut a line the speaker did not pause in."""

from __future__ import annotations

from collections import deque

import numpy as np

from parley.interpretation.vad import Segmenter


class VadHistory:
    """Speech probabilities of the last ``maxlen`` frames, by stream sample index."""

    def __init__(self, segmenter: Segmenter, *, frame: int, maxlen: int) -> None:
        self._segmenter = segmenter
        self._frame = frame
        self._probs: deque[float] = deque(maxlen=maxlen)

    def extend(self, probs: list[float]) -> None:
        self._probs.extend(probs)

    def quietest(self, lo: int, hi: int) -> int | None:
        """Start (sample index) of the frame least likely to be speech in [lo, hi), among the
        frames whose probabilities are still kept; None if there are none."""
        seen = self._segmenter.frames_seen
        first = seen - len(self._probs)
        a, b = max(first, lo // self._frame), min(seen, -(-hi // self._frame))
        if a >= b:
            return None
        probs = list(self._probs)[a - first:b - first]
        return (a + int(np.argmin(probs))) * self._frame

    def probability(self, index: int) -> float:
        """The VAD's speech probability of the frame starting at sample ``index`` (kept frames only)."""
        first = self._segmenter.frames_seen - len(self._probs)
        at = index // self._frame - first
        return self._probs[at] if 0 <= at < len(self._probs) else 1.0
