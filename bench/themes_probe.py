"""A linear probe over the coder's vectors, trained on the tuning part (session 10, issue 12).

The labelled FLORES tuning lines exist in nine languages with one set of labels, so a classifier
trained on all nine versions is told, 131 times over, that a sentence's language does not change
its themes. This module trains one-vs-rest logistic regression (numpy, Newton steps) on the
coder's query vectors (centred per language, then on the seed mean), optionally after projecting
out the main directions in which translations of one sentence differ (fitted on unlabelled
FLORES lines), and chooses its settings on out-of-fold predictions over the tuning part and the
Pol.is dev half only. `bench/themes_heldout.py` codes the held-out part with what it returns.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.consultation.analysis.alignment import OperatingPoint
from parley.consultation.analysis.probe import ThemeProbe, fit_logistic, language_directions


def train(queries: np.ndarray, truth: np.ndarray, weight: np.ndarray, l2: float, directions: np.ndarray,
          factors: np.ndarray | None = None, model: str = "", themes: Sequence[str] = ()) -> ThemeProbe:
    """A probe trained on ``queries`` (after the directions are taken out, times ``factors``
    where given); its blend, cut and curve are set by the caller."""
    blank = ThemeProbe(model=model, themes=tuple(themes), weights=np.zeros((truth.shape[1], queries.shape[1]),
                       np.float32), bias=np.zeros(truth.shape[1], np.float32), blend=0.0, directions=directions,
                       scaled=factors is not None)
    x = blank.features(queries, factors if factors is not None else np.ones(len(queries), np.float32))
    w, b = fit_logistic(x, truth, weight, l2)
    return dataclasses.replace(blank, weights=w, bias=b)


@dataclass
class Tuning:
    """The labelled tuning examples: FLORES tuning lines in nine languages, the Pol.is dev half."""

    queries: np.ndarray  # the coder's query vectors
    seed_scores: np.ndarray  # the shipped coder's theme scores (scaled per language)
    truth: np.ndarray  # (n, themes) bool
    fold: np.ndarray  # 0..4; every translation of a line in the same fold
    polis: np.ndarray  # bool: a Pol.is statement
    language: list[str]
    factors: np.ndarray  # each example's language score scale (the alignment's)


def folds_of(flores_lines: Sequence[int], polis_folds: Sequence[int]) -> np.ndarray:
    flores = [zlib.crc32(f"parley-probe-fold/{line}".encode()) % 5 for line in flores_lines]
    return np.array(flores + list(polis_folds))


def out_of_fold(data: Tuning, l2: float, polis_weight: float, directions: np.ndarray, scaled: bool) -> np.ndarray:
    """Each tuning example's probabilities from a probe trained without its fold."""
    weight = np.where(data.polis, polis_weight, 1.0)
    out = np.zeros(data.truth.shape, np.float32)
    for f in range(5):
        held = data.fold == f
        probe = train(data.queries[~held], data.truth[~held], weight[~held], l2, directions,
                      data.factors[~held] if scaled else None)
        out[held] = probe.probabilities(data.queries[held], data.factors[held])
    return out


def combined(probabilities: np.ndarray, seed_scores: np.ndarray, blend: float | None) -> np.ndarray:
    """Probe alone (``blend`` None): the probability; else the seed score moved by the probe,
    ``blend * (p - 0.5)``, the shape in which analysts' corrections move it."""
    if blend is None:
        return probabilities.astype(np.float32)
    return (seed_scores + blend * (probabilities - 0.5)).astype(np.float32)


PROBE_GRID = np.arange(0.05, 0.9501, 0.01)


def fit_cut(scores: np.ndarray, truth: np.ndarray, weight: np.ndarray, theme_ids: list[str], blend: float | None,
            fit_thresholds: Any, max_themes: int, per_theme: bool = True
            ) -> tuple[float, float, dict[str, float], float]:
    """Threshold, margin and per-theme cuts on the (out-of-fold) scores; rows repeated by their
    integer weight, as the shipped cut's fit repeats the Pol.is dev half."""
    rows = np.repeat(np.arange(len(scores)), weight.astype(int))
    if blend is None:
        return fit_thresholds(scores[rows], truth[rows], theme_ids, max_themes, grid=PROBE_GRID, max_shift=0.3,
                              margins=(0.05, 0.1, 0.2, 0.3, 1.0), per_theme=per_theme)
    grid = np.arange(-0.1, 0.6001, 0.005)
    return fit_thresholds(scores[rows], truth[rows], theme_ids, max_themes, grid=grid, max_shift=0.15,
                          per_theme=per_theme)


# --- the experiment: settings chosen out of fold on the tuning part, then coders ------------

# A first pass (same day) also tried l2 0.03, Pol.is weight 1, 64 directions and blends 0.1 and
# 0.2: each was below its neighbours out of fold (see bench/README.md, session 10).
L2 = (0.1, 0.3, 1.0)
POLIS_WEIGHTS = (9,)  # the Pol.is dev half weighs as much as the nine FLORES versions
DIRECTIONS = (0, 16)
BLENDS: tuple[float | None, ...] = (None, 0.4, 0.8, 1.2)
SCALED = (False, True)  # the probe reads vectors times their language's score scale


def view(coder: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coder's query vectors, (scaled) seed scores and language score scales for ``texts``,
    each coded alone."""
    coder.prepare()
    items = list(texts)
    raw = coder._embed(items)
    languages = [coder.languages.identify(t).code for t in items]
    snap = coder._snapshot()
    factors = np.array([coder.alignment.scales.get(lang, 1.0) for lang in languages], np.float32)
    return coder._centred(coder._aligned(raw, languages)), coder._scores(raw, languages, snap)[0], factors


@dataclass
class Variant:
    name: str
    probe: ThemeProbe
    blend: float | None
    threshold: float
    margin: float
    thresholds: dict[str, float]
    settings: dict[str, Any]
    curve: Any


def select(data: Tuning, parallel: Sequence[np.ndarray], theme_ids: list[str], fit_thresholds: Any,
           max_themes: int, fit_curve: Any, model: str, log: Any = print) -> tuple[list[Variant], list[dict[str, Any]]]:
    """For each variant (probe alone / blended, with or without the language directions taken
    out), the settings with the best out-of-fold micro-F1 on the tuning examples (Pol.is dev
    repeated ``9``x as in the shipped cut's fit); then the probe re-trained on all of them."""
    cut_weight = np.where(data.polis, 9, 1)
    trials: list[dict[str, Any]] = []
    directions = {k: language_directions(parallel, k) for k in DIRECTIONS}
    oof: dict[tuple[float, int, int, bool], np.ndarray] = {}
    for l2 in L2:
        for pw in POLIS_WEIGHTS:
            for k in DIRECTIONS:
                for scaled in SCALED:
                    p = oof[(l2, pw, k, scaled)] = out_of_fold(data, l2, pw, directions[k], scaled)
                    for blend in BLENDS:
                        s = combined(p, data.seed_scores, blend)
                        t, m, _, f1 = fit_cut(s, data.truth, cut_weight, theme_ids, blend, fit_thresholds,
                                              max_themes, per_theme=False)
                        trials.append({"l2": l2, "polis_weight": pw, "directions": k, "scaled": scaled,
                                       "blend": blend, "threshold": t, "margin": m, "oof_micro_f1": round(f1, 4)})
                        log(f"  probe l2 {l2} polis x{pw} directions {k} scaled {scaled} blend {blend}: "
                            f"out-of-fold micro-F1 {f1:.3f}")
    variants = []
    for name, alone, projected, scaled in (
            ("probe alone", True, False, False), ("probe alone, language directions out", True, True, False),
            ("seeds + probe", False, False, False), ("seeds + probe, language directions out", False, True, False),
            ("seeds + probe on scaled vectors", False, False, True),
            ("seeds + probe on scaled vectors, language directions out", False, True, True)):
        pool = [t for t in trials if (t["blend"] is None) == alone and (t["directions"] > 0) == projected
                and t["scaled"] == scaled]
        best = max(pool, key=lambda t: t["oof_micro_f1"])
        p = oof[(best["l2"], best["polis_weight"], best["directions"], best["scaled"])]
        s = combined(p, data.seed_scores, best["blend"])
        threshold, margin, thresholds, f1 = fit_cut(s, data.truth, cut_weight, theme_ids, best["blend"],
                                                    fit_thresholds, max_themes)
        top = s.argmax(axis=1)
        curve = fit_curve(s.max(axis=1).tolist(), data.truth[np.arange(len(s)), top].tolist())
        weight = np.where(data.polis, best["polis_weight"], 1.0)
        probe = train(data.queries, data.truth, weight, best["l2"], directions[best["directions"]],
                      data.factors if scaled else None, model, theme_ids)
        if best["blend"] is not None:
            probe = dataclasses.replace(probe, blend=best["blend"], cut=OperatingPoint(threshold, margin, thresholds),
                                        curve=curve)
        settings = {**best, "oof_micro_f1_per_theme_cuts": round(f1, 4)}
        log(f"{name}: {settings}; cuts {threshold} margin {margin} {thresholds}")
        variants.append(Variant(name, probe, best["blend"], threshold, margin, thresholds, settings, curve))
    return variants, trials


def coder_of(coder: Any, variant: Variant, theme_ids: list[str], max_themes: int) -> Any:
    """A bench coder (texts, languages) -> (themes, confidence, best theme) for one variant."""
    from parley.consultation.analysis.scoring import _predict

    cuts = np.array([variant.thresholds.get(t, variant.threshold) for t in theme_ids], np.float32)

    def run(texts: Sequence[str], languages: Sequence[str]) -> tuple[list[list[str]], list[float], list[str]]:
        queries, seeds, factors = view(coder, texts)
        scores = combined(variant.probe.probabilities(queries, factors), seeds, variant.blend)
        chosen = _predict(scores, cuts, variant.margin, max_themes)
        themes = [[theme_ids[j] for j in np.argsort(-row, kind="stable") if keep[j]]
                  for row, keep in zip(scores, chosen, strict=True)]
        best = scores.max(axis=1)
        return themes, [float(c) for c in variant.curve(best)], [theme_ids[j] for j in scores.argmax(axis=1)]

    return run
