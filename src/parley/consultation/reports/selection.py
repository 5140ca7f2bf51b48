"""Choosing a pre-draft's lines: the dialogue's phases by time, and each one's most
representative lines (by embedding, or by shared words without one)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from parley.storage.stores.transcripts import ConsentedLine

if TYPE_CHECKING:
    from parley.consultation.analysis.embeddings import FloatArray

PHASES: tuple[str, ...] = ("future", "on_track", "actions")
REDUNDANT = 0.92  # a second pick this similar to a first says nothing new


def _phases(segments: Sequence[ConsentedLine], started: datetime | None, ended: datetime | None
            ) -> list[list[int]]:
    """Segment indices per phase: the dialogue's time split in three equal parts (by count
    when the times are unusable)."""
    n = len(segments)
    start = started or segments[0].started_at
    end = ended or segments[-1].ended_at
    span = (end - start).total_seconds()
    out: list[list[int]] = [[] for _ in PHASES]
    for i, seg in enumerate(segments):
        position = (seg.started_at - start).total_seconds() / span if span > 0 else i / n
        out[min(len(PHASES) - 1, max(0, int(position * len(PHASES))))].append(i)
    return out


def _central(members: Sequence[int], texts: Sequence[str], vectors: FloatArray | None, k: int) -> list[int]:
    """Up to ``k`` of ``members``, most representative first, skipping near-repeats."""
    if not members or k <= 0:
        return []
    idx = list(members)
    if vectors is not None:
        import numpy as np

        from parley.consultation.analysis.embeddings import normalise

        sub = vectors[idx]
        centre = normalise(sub.mean(axis=0, keepdims=True))[0]
        scores = sub @ centre
        order = [idx[j] for j in np.argsort(-scores, kind="stable")]
        chosen: list[int] = []
        for i in order:
            if all(float(vectors[i] @ vectors[j]) < REDUNDANT for j in chosen):
                chosen.append(i)
            if len(chosen) >= k:
                break
        return chosen
    # Without embeddings: the lines sharing most words with the rest of their phase.
    bags = {i: _terms(texts[i]) for i in idx}
    def overlap(i: int) -> float:
        if not bags[i]:
            return 0.0
        return sum(len(bags[i] & bags[j]) / len(bags[i] | bags[j]) for j in idx if j != i and bags[j])
    ranked = sorted(idx, key=lambda i: (-overlap(i), i))
    seen: set[str] = set()
    out = []
    for i in ranked:
        key = " ".join(texts[i].split()).casefold()
        if key not in seen:
            seen.add(key)
            out.append(i)
        if len(out) >= k:
            break
    return out


_WORD = re.compile(r"[^\W\d_]{3,}")


def _terms(text: str) -> set[str]:
    """Lower-cased words of 3+ letters (no numpy needed, unlike the analysis package)."""
    return set(_WORD.findall(text.casefold()))
