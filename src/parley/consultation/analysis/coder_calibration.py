"""Calibration: fitting the coder's threshold and margin to the analysts' corrections."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from parley.consultation.analysis.coder_base import CoderBase
from parley.consultation.analysis.scoring import _micro_f1, _predict, _reference, _score
from parley.errors import InvalidInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    threshold: float
    margin: float
    micro_f1: float  # on the corrections, each scored without its own fold
    examples: int
    thresholds: Mapping[str, float] = field(default_factory=dict)  # themes whose own cut differs


class CoderCalibration(CoderBase):
    """``calibrate()``: re-fits threshold and margin on the corrections, scoring each against
    the others."""

    def calibrate(self, *, folds: int = 5, min_examples: int = 20, min_theme_examples: int = 15,
                  max_shift: float = 0.1) -> Calibration:
        """Fit threshold and margin to the corrections, then a threshold per theme that has at
        least ``min_theme_examples`` (within ``max_shift`` of the global one), and use them.

        Each correction is scored by the seed prototypes and the corrections outside its fold,
        so the fit reflects how well coding generalises to answers nobody has corrected yet.
        """
        self.prepare()
        with self._lock:
            theme_ids = list(self._themes)
            prototypes = np.stack([self._prototypes[t] for t in theme_ids])
            evidence = self._evidence_matrix(theme_ids)
            corrections = [c for c, _ in self._corrections.values()]  # the evidence's row order
            options = self._options
            reference = _reference(list(self._themes.values()))
        if evidence is None or len(evidence[0]) < min_examples:
            raise InvalidInput(f"calibration needs at least {min_examples} corrections",
                               code="too_few_corrections")
        vectors, labels, known = evidence
        n = len(vectors)
        fold = np.arange(n) % folds
        scores = np.zeros((n, len(theme_ids)), dtype=np.float32)
        languages = np.array([c.language or "" for c in corrections], dtype=object)
        for f in range(folds):
            held = fold == f
            rest = (vectors[~held], labels[~held], known[~held])
            raw, _, _, vote = _score(vectors[held], prototypes, rest, options, reference=reference)
            langs = list(languages[held])
            scores[held] = self._probed(self._shifted(raw, langs, options), vectors[held], langs, theme_ids, options,
                                        vote)
        truth = (labels > 0) & (known > 0)
        mask = known > 0
        grid = np.arange(-0.05, 0.4001, 0.005)
        n_themes = len(theme_ids)

        def f1_of(thresholds: npt.NDArray[np.float32], margin: float) -> float:
            return _micro_f1(_predict(scores, thresholds, margin, options.max_themes, independent=~reference) & mask,
                             truth)

        best = (-1.0, options.threshold, options.margin)
        for margin in (0.02, 0.05, 0.08, 0.1, 0.15, 1.0):
            for threshold in grid:
                f1 = f1_of(np.full(n_themes, threshold, np.float32), margin)
                if f1 > best[0] + 1e-9:
                    best = (f1, float(threshold), margin)
        f1, threshold, margin = best
        # Then each theme with enough examples gets its own threshold (one pass, each theme
        # against the others' current ones), kept only where it helps: prototypes sit at
        # different distances, so one global cut over-assigns some themes and misses others.
        per_theme = np.full(n_themes, threshold, np.float32)
        for j in range(n_themes):
            if int(truth[:, j].sum()) < min_theme_examples:
                continue
            for candidate in grid[np.abs(grid - threshold) <= max_shift + 1e-9]:
                trial = per_theme.copy()
                trial[j] = candidate
                trial_f1 = f1_of(trial, margin)
                if trial_f1 > f1 + 1e-3:
                    f1, per_theme = trial_f1, trial
        thresholds = {t: round(float(per_theme[j]), 4) for j, t in enumerate(theme_ids)
                      if abs(float(per_theme[j]) - threshold) > 1e-9}
        with self._lock:
            self._options = dataclasses.replace(self._options, threshold=round(threshold, 4), margin=margin,
                                                thresholds=thresholds)
        log.info("calibrated on %d corrections: threshold %.3f margin %.2f, %d per-theme thresholds", n,
                 threshold, margin, len(thresholds))
        return Calibration(threshold=round(threshold, 4), margin=margin, micro_f1=round(f1, 4), examples=n,
                           thresholds=thresholds)
