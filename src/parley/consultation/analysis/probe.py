"""A theme probe trained on parallel text: scores that move less with the language.

The seed prototypes are a dozen points per theme; how close an answer comes to them depends on
its language nearly as much as on its topic. The probe is a linear classifier per seed theme
(one-vs-rest logistic regression) over the coder's aligned vectors, trained on labelled FLORES
lines in nine languages (every translation of a line carries the same labels, which teaches it
that the language does not matter) plus real consultation statements. It moves each seed
theme's score by ``blend * (p - 0.5)``, the shape in which analysts' corrections move it, so
corrections still steer coding and themes an analyst adds keep their prototype scores alone.

Like the alignment it is fitted for one embedding model (``bench/themes_heldout.py fit``) and
packaged as ``data/probe-<model>.npz``: numbers only, no text. A model without one codes as
before. Its own cut and confidence curve come with it, since they belong to its scores.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.alignment import OperatingPoint
from parley.consultation.analysis.confidence import ConfidenceCurve
from parley.consultation.analysis.embeddings import FloatArray, normalise
from parley.consultation.analysis.packaged import file_name as packaged_name
from parley.consultation.analysis.packaged import load_packaged

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThemeProbe:
    model: str  # the embedder's name it was trained with
    themes: tuple[str, ...]  # the seed theme ids, one row of ``weights`` each
    weights: FloatArray  # (themes, dim)
    bias: FloatArray  # (themes,)
    blend: float  # how far the probe moves a seed score: blend * (p - 0.5)
    # Read each vector times its language's score scale (`LanguageAlignment.scales`): the small
    # model squeezes what a Portuguese sentence says, as it squeezes its prototype scores.
    scaled: bool = False
    # Directions projected out of a vector before the probe reads it (may be none).
    directions: FloatArray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    cut: OperatingPoint | None = None  # the cut that fits the moved scores
    curve: ConfidenceCurve | None = None  # the confidence of the moved scores

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def features(self, queries: FloatArray, factors: FloatArray) -> FloatArray:
        """What the probe reads: the vectors without its directions, times their language's
        scale where it is ``scaled`` (``factors``: each row's scale)."""
        if len(self.directions):
            queries = normalise(queries - (queries @ self.directions.T) @ self.directions)
        if self.scaled:
            queries = (queries * factors[:, None]).astype(np.float32)
        return queries

    def probabilities(self, queries: FloatArray, factors: FloatArray) -> FloatArray:
        """Per row and probe theme, the chance the theme applies."""
        z = np.clip(self.features(queries, factors) @ self.weights.T + self.bias, -30, 30)
        out: FloatArray = (1 / (1 + np.exp(-z))).astype(np.float32)
        return out

    def move(self, scores: FloatArray, queries: FloatArray, theme_ids: Sequence[str], factors: FloatArray, *,
             vote: FloatArray | None = None, trust: FloatArray | None = None) -> FloatArray:
        """``scores`` (one column per theme in ``theme_ids``) moved by the probe, for the themes
        it knows; the others (an analyst's, a discovered one) are left as they are.

        ``vote`` (same shape as ``scores``) is what analysts' nearest corrections say (the share
        of them that chose the theme) and ``trust`` how far it replaces the probe's chance (the
        closeness of the nearest one): analysts outrank what the probe learnt."""
        columns = [(j, self.themes.index(t)) for j, t in enumerate(theme_ids) if t in self.themes]
        if not columns or not len(scores) or queries.shape[1] != self.dim:
            return scores
        mine, theirs = (np.array(x) for x in zip(*columns, strict=True))
        p = self.probabilities(queries, factors)[:, theirs]
        if vote is not None and trust is not None:
            p = (1 - trust[:, mine]) * p + trust[:, mine] * vote[:, mine]
        out = scores.copy()
        out[:, mine] += self.blend * (p - 0.5)
        return out.astype(np.float32)

    @property
    def fingerprint(self) -> str:
        """Changes when anything fitted changes (a coder version includes it)."""
        digest = hashlib.sha256(json.dumps([self.model, self.themes, self.blend, self.scaled,
                                            asdict(self.cut) if self.cut else None]).encode())
        for array in (self.weights, self.bias, self.directions):
            digest.update(np.asarray(array, np.float32).tobytes())
        return digest.hexdigest()[:12]

    def save(self, path: Path) -> None:
        meta = {"model": self.model, "themes": list(self.themes), "blend": self.blend, "scaled": self.scaled,
                "cut": asdict(self.cut) if self.cut else None,
                "curve": [self.curve.scores, self.curve.chances, self.curve.examples] if self.curve else None}
        np.savez_compressed(path, meta=json.dumps(meta), weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32), directions=self.directions.astype(np.float32))

    @classmethod
    def load(cls, path: Path) -> ThemeProbe:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            cut, curve = meta.get("cut"), meta.get("curve")
            return cls(
                model=str(meta["model"]), themes=tuple(map(str, meta["themes"])),
                weights=data["weights"].astype(np.float32), bias=data["bias"].astype(np.float32),
                blend=float(meta["blend"]), scaled=bool(meta.get("scaled", False)),
                directions=data["directions"].astype(np.float32),
                cut=OperatingPoint(float(cut["threshold"]), float(cut["margin"]),
                                   {str(k): float(v) for k, v in cut["thresholds"].items()}) if cut else None,
                curve=ConfidenceCurve(str(meta["model"]), tuple(map(float, curve[0])), tuple(map(float, curve[1])),
                                      int(curve[2])) if curve else None,
            )

    @classmethod
    def packaged(cls, model: str) -> ThemeProbe | None:
        """The probe shipped for this embedding model, None when there is none."""
        probe = load_packaged(file_name(model), cls.load)
        return probe if probe is not None and probe.model == model else None


def file_name(model: str) -> str:
    """The packaged file of a model's probe."""
    return packaged_name("probe", model, ".npz")


def fit_logistic(vectors: FloatArray, truth: npt.NDArray[np.bool_], weight: npt.NDArray[np.float64], l2: float,
                 *, iterations: int = 12) -> tuple[FloatArray, FloatArray]:
    """One-vs-rest logistic regression (L2 on the weights, not the bias) by Newton steps:
    exact for a few hundred dimensions and a few thousand examples, no solver needed.
    Returns (weights (labels, dim), bias (labels,))."""
    n, d = vectors.shape
    xa = np.hstack([vectors, np.ones((n, 1), np.float32)]).astype(np.float64)
    xf = xa.astype(np.float32)
    reg = np.full(d + 1, l2)
    reg[-1] = 1e-6
    out = np.zeros((truth.shape[1], d + 1))
    for j in range(truth.shape[1]):
        t = truth[:, j].astype(np.float64)
        w = np.zeros(d + 1)
        w[-1] = np.log((t @ weight + 1) / ((1 - t) @ weight + 1))
        for _ in range(iterations):
            p = 1 / (1 + np.exp(-np.clip(xa @ w, -30, 30)))
            grad = xa.T @ (weight * (p - t)) + reg * w
            hess = (xf * (weight * p * (1 - p)).astype(np.float32)[:, None]).T @ xf + np.diag(reg)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-3:
                break
        out[j] = w
    return out[:, :-1].astype(np.float32), out[:, -1].astype(np.float32)


def language_directions(parallel: Sequence[FloatArray], k: int) -> FloatArray:
    """The ``k`` main directions in which versions of the same sentences differ between
    languages (``parallel``: per version, the same lines in the same order)."""
    if k <= 0:
        return np.zeros((0, parallel[0].shape[1]), np.float32)
    stack = np.stack(parallel)
    diffs = (stack - stack.mean(axis=0, keepdims=True)).reshape(-1, stack.shape[2])
    _, _, vt = np.linalg.svd(diffs.astype(np.float64), full_matrices=False)
    out: FloatArray = vt[:k].astype(np.float32)
    return out
