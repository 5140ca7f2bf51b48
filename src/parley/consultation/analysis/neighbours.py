"""Nearest labelled examples: how analysts' corrections steer later coding.

A corrected answer becomes a labelled example. New answers look at their ``k`` most similar
labelled examples and take a similarity-weighted vote over their labels; very close examples
dominate the vote (softmax with a small temperature), distant ones barely count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.embeddings import FloatArray


@dataclass(frozen=True)
class Vote:
    """Per query row: label weights in [0, 1] (rows sum to <= 1 per exclusive label) and closeness."""

    labels: FloatArray  # (n_queries, n_labels)
    nearest: FloatArray  # (n_queries,) similarity of the closest example
    nearest_index: npt.NDArray[np.int64]  # (n_queries,) row of the closest example


def neighbour_vote(
    queries: FloatArray,
    examples: FloatArray,
    labels: npt.NDArray[np.float32],
    *,
    k: int,
    temperature: float,
) -> Vote:
    """Weighted vote of the ``k`` nearest ``examples`` (unit rows) over their ``labels`` rows."""
    n = queries.shape[0]
    if examples.shape[0] == 0 or n == 0:
        return Vote(
            labels=np.zeros((n, labels.shape[1] if labels.ndim == 2 else 0), dtype=np.float32),
            nearest=np.full(n, -1.0, dtype=np.float32),
            nearest_index=np.full(n, -1, dtype=np.int64),
        )
    sims = queries @ examples.T
    k = min(k, examples.shape[0])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    order = np.argsort(-top_sims, axis=1)
    top = np.take_along_axis(top, order, axis=1)
    top_sims = np.take_along_axis(top_sims, order, axis=1)
    weights = np.exp((top_sims - top_sims[:, :1]) / temperature)
    weights /= weights.sum(axis=1, keepdims=True)
    votes = np.einsum("nk,nkl->nl", weights, labels[top]).astype(np.float32)
    return Vote(labels=votes, nearest=top_sims[:, 0].astype(np.float32), nearest_index=top[:, 0].astype(np.int64))
