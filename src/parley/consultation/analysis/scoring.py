"""Scoring: pure functions over centred unit vectors, shared by coding and calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.coding import CoderOptions
from parley.consultation.analysis.embeddings import FloatArray, normalise
from parley.consultation.analysis.neighbours import neighbour_vote
from parley.consultation.analysis.themes import Theme


def _language_offsets(vectors: FloatArray, languages: Sequence[str], owners: Sequence[str]) -> dict[str, float]:
    """Per language, how much higher its seed examples score for their own theme than the
    average language does, against prototypes built from the *other* languages' examples.

    The seed examples say the same things in every language, so a language whose examples
    score low against the others (the small multilingual model places Portuguese and Chinese
    further from the rest) will score low on every answer too, and cross fewer thresholds.
    Only languages with examples for most themes get an offset; the others get none.
    """
    theme_ids = list(dict.fromkeys(owners))
    owner_index = np.array([theme_ids.index(o) for o in owners])
    own: dict[str, float] = {}
    for lang in sorted(set(languages)):
        mine = np.array([code == lang for code in languages])
        if len({o for o, m in zip(owners, mine, strict=True) if m}) * 4 < len(theme_ids) * 3:
            continue
        prototypes = []
        for j in range(len(theme_ids)):
            rows = (owner_index == j) & ~mine
            if not rows.any():
                break
            prototypes.append(vectors[rows].mean(axis=0))
        else:
            sims = vectors[mine] @ normalise(np.stack(prototypes)).T
            relative = sims - sims.mean(axis=1, keepdims=True)
            own[lang] = float(relative[np.arange(len(relative)), owner_index[mine]].mean())
    if len(own) < 2:
        return {}
    mean = sum(own.values()) / len(own)
    return {lang: round(value - mean, 4) for lang, value in own.items()}


def _language_centres(vectors: FloatArray, languages: list[str], themes: list[Theme]) -> dict[str, FloatArray]:
    """Mean example embedding per language, for languages whose examples cover most themes."""
    owners = [theme.id for theme in themes for e in theme.examples if e.strip()]
    centres = {}
    for lang in set(languages):
        rows = [i for i, code in enumerate(languages) if code == lang]
        if len({owners[i] for i in rows}) * 4 >= len(themes) * 3:  # topic-balanced enough
            centres[lang] = vectors[rows].mean(axis=0).astype(np.float32)
    return centres


def _reference(themes: Sequence[Theme]) -> npt.NDArray[np.bool_]:
    """The themes scores are relative to: those without their own threshold. A theme adopted
    with its own (calibrated) threshold is left out, so adopting it moves no other theme's
    score: from a corpus that shares one topic its prototype is close to every answer, and
    in the mean it pushed other themes' scores down, and answers out of them."""
    mask = np.array([t.threshold is None for t in themes], dtype=np.bool_)
    return mask if mask.any() else np.ones(len(themes), dtype=np.bool_)


class CorrectionVote(NamedTuple):
    """What the nearest corrected answers say about each theme, per query row."""

    share: FloatArray  # (n, themes) share of the neighbours that knew a theme who chose it; 0.5: none knew it
    trust: FloatArray  # (n, themes) closeness of the nearest correction where some neighbour knew the theme, else 0


def _score(
    queries: FloatArray,
    prototypes: FloatArray,
    evidence: tuple[FloatArray, npt.NDArray[np.float32], npt.NDArray[np.float32]] | None,
    options: CoderOptions,
    *,
    reference: npt.NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64], CorrectionVote | None]:
    """Relative theme scores (similarity minus the mean similarity to the ``reference``
    themes, default all), similarity and index of the nearest correction (-1: none), and the
    corrections' vote (None without corrections)."""
    sims = queries @ prototypes.T
    base = sims if reference is None or not reference.any() else sims[:, reference]
    scores = sims - base.mean(axis=1, keepdims=True)
    n = len(queries)
    if evidence is None or len(evidence[0]) == 0:
        return scores.astype(np.float32), np.full(n, -1.0, np.float32), np.full(n, -1, np.int64), None
    vectors, labels, known = evidence
    k, temp = options.neighbours, options.temperature
    positive = neighbour_vote(queries, vectors, labels * known, k=k, temperature=temp)
    weight = neighbour_vote(queries, vectors, known, k=k, temperature=temp)
    # share of the neighbours (that knew the theme) who chose it; 0.5 where none knew it
    knew = weight.labels > 1e-6
    share = np.where(knew, positive.labels / np.maximum(weight.labels, 1e-6), 0.5).astype(np.float32)
    closeness = np.clip(positive.nearest, 0.0, 1.0)[:, None]
    scores = scores + options.neighbour_weight * (share - 0.5) * closeness
    vote = CorrectionVote(share=share, trust=(closeness * knew).astype(np.float32))
    return scores.astype(np.float32), positive.nearest, positive.nearest_index, vote


def _assign(scores: npt.NDArray[np.float32], theme_ids: list[str], options: CoderOptions, *,
            independent: npt.NDArray[np.bool_] | None = None) -> tuple[str, ...]:
    """Themes over their own threshold, best first, within ``margin`` of the best one that
    passed; none ("other") only when no theme reaches its threshold.

    ``independent`` themes (adopted with their own calibrated threshold, on their own scale)
    are given whenever they pass it, alongside the others, and take no part in the margin:
    a discovered sub-theme ("energy") is added to an answer's "climate", not swapped for it."""
    order = np.argsort(-scores, kind="stable")
    passed = [j for j in order if float(scores[j]) >= options.threshold_for(theme_ids[j])]
    if not passed:
        return ()
    alone = independent if independent is not None else np.zeros(len(theme_ids), dtype=np.bool_)
    ranked = [j for j in passed if not alone[j]]
    top = float(scores[ranked[0]]) if ranked else 0.0
    chosen = [j for j in passed if alone[j] or float(scores[j]) >= top - options.margin]
    return tuple(theme_ids[j] for j in chosen[: options.max_themes])


def _predict(scores: npt.NDArray[np.float32], thresholds: npt.NDArray[np.float32], margin: float,
             max_themes: int, *, independent: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
    """`_assign` for all rows at once: per-theme thresholds, margin below the best passing
    theme (independent themes aside), at most ``max_themes``."""
    alone = independent if independent is not None else np.zeros(scores.shape[1], dtype=np.bool_)
    passed = scores >= thresholds[None, :]
    top = np.where(passed & ~alone[None, :], scores, -np.inf).max(axis=1, keepdims=True)
    keep = passed & ((scores >= top - margin) | alone[None, :])
    masked = np.where(keep, scores, -np.inf)
    rank = np.argsort(np.argsort(-masked, axis=1, kind="stable"), axis=1, kind="stable")
    out: npt.NDArray[np.bool_] = keep & (rank < max_themes)
    return out


def _micro_f1(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> float:
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
