"""A confidence that means what it says: the chance that a coding's first theme is right.

A theme score is a difference of cosine similarities; 0.15 means nothing to a reader. The
curve maps the best score to how often the best theme was right on labelled text (isotonic:
a higher score never means a lower chance), so "0.7" reads as "right about 7 times in 10".
It is fitted for one embedding model (and its alignment) by ``bench/themes_heldout.py fit`` on
the tuning lines only, and packaged as ``data/confidence-<model>.json``; a model without a
curve keeps the raw score. A packaged theme probe brings its own curve (it moves the scores).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.packaged import file_name as packaged_name
from parley.consultation.analysis.packaged import load_packaged


@dataclass(frozen=True)
class ConfidenceCurve:
    model: str
    scores: tuple[float, ...]  # increasing
    chances: tuple[float, ...]  # non-decreasing, in [0, 1]
    examples: int = 0

    @classmethod
    def fit(cls, model: str, scores: Sequence[float], right: Sequence[bool], *, bins: int = 12) -> ConfidenceCurve:
        """Pool-adjacent-violators over equal-count bins of the score (so each point rests on
        several examples), then the bins' mean scores as the curve's knots."""
        if len(scores) != len(right) or len(scores) < bins:
            raise ValueError(f"a confidence curve needs at least {bins} scored examples")
        order = np.argsort(np.asarray(scores, np.float64), kind="stable")
        s = np.asarray(scores, np.float64)[order]
        r = np.asarray(right, np.float64)[order]
        blocks = [[float(p.mean()), float(q.sum()), len(p)]
                  for p, q in zip(np.array_split(s, bins), np.array_split(r, bins), strict=True) if len(p)]
        merged: list[list[float]] = []
        for block in blocks:  # [mean score, right, n]
            merged.append(block)
            while len(merged) > 1 and merged[-2][1] / merged[-2][2] > merged[-1][1] / merged[-1][2]:
                b = merged.pop()
                a = merged.pop()
                n = a[2] + b[2]
                merged.append([(a[0] * a[2] + b[0] * b[2]) / n, a[1] + b[1], n])
        return cls(model=model, scores=tuple(round(b[0], 4) for b in merged),
                   chances=tuple(round(b[1] / b[2], 4) for b in merged), examples=len(scores))

    def __call__(self, scores: npt.ArrayLike) -> npt.NDArray[np.float32]:
        out: npt.NDArray[np.float32] = np.interp(np.asarray(scores, np.float64), self.scores,
                                                 self.chances).astype(np.float32)
        return out

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"model": self.model, "scores": self.scores, "chances": self.chances,
                                    "examples": self.examples}, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> ConfidenceCurve:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(model=str(data["model"]), scores=tuple(map(float, data["scores"])),
                   chances=tuple(map(float, data["chances"])), examples=int(data.get("examples", 0)))

    @classmethod
    def packaged(cls, model: str) -> ConfidenceCurve | None:
        curve = load_packaged(file_name(model), cls.load)
        return curve if curve is not None and curve.model == model else None


def file_name(model: str) -> str:
    return packaged_name("confidence", model, ".json")
