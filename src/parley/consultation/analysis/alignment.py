"""Taking the language out of an embedding, so a theme's share does not depend on it.

A multilingual embedding of a sentence is roughly "what it says" plus "which language it is
in". Parallel text (the same sentences in every language, e.g. FLORES) shows the second part
alone: the mean embedding of the same sentences in Portuguese minus their mean in English is
the Portuguese direction. `LanguageAlignment` centres each text on its language's mean over
parallel text, so the same answer in any covered language lands near the same point, and the
theme thresholds mean the same in every language.

The fitted means belong to one embedding model: a packaged file is keyed by the model's name,
and a different model (an operator's bigger one) simply gets no alignment until it is fitted
with ``bench/themes_heldout.py fit``. Languages without a mean are centred on the mean of all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parley.consultation.analysis.embeddings import FloatArray, normalise
from parley.consultation.analysis.packaged import file_name as packaged_name
from parley.consultation.analysis.packaged import load_packaged

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatingPoint:
    """Threshold, margin and per-theme thresholds fitted on aligned, scaled scores."""

    threshold: float
    margin: float
    thresholds: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LanguageAlignment:
    model: str  # the embedder's name the means were fitted with
    means: Mapping[str, FloatArray]  # language code -> mean embedding of the parallel text
    shared: FloatArray  # mean of the language means
    sentences: int = 0  # parallel sentences per language it was fitted on
    # Per language, what its theme scores are multiplied by so they spread as widely as
    # English ones on the same parallel sentences (the small model squeezes Portuguese: 1.46).
    scales: Mapping[str, float] = field(default_factory=dict)
    # The cut that fits scores on this alignment (fitted with it); None: the coder's own.
    cut: OperatingPoint | None = None

    @classmethod
    def fit(cls, model: str, parallel: Mapping[str, FloatArray]) -> LanguageAlignment:
        """Fit from unit vectors of the same sentences in each language (a language may hold
        several versions of them, e.g. Chinese in both scripts)."""
        if len(parallel) < 2:
            raise ValueError("an alignment needs parallel text in at least two languages")
        if any(len(v) == 0 for v in parallel.values()):
            raise ValueError("every language needs some parallel sentences")
        means = {lang: np.asarray(v, np.float32).mean(axis=0).astype(np.float32) for lang, v in parallel.items()}
        shared = np.stack(list(means.values())).mean(axis=0).astype(np.float32)
        return cls(model=model, means=means, shared=shared, sentences=min(len(v) for v in parallel.values()))

    @property
    def fingerprint(self) -> str:
        """Changes when the fitted means change (a coder version includes it)."""
        digest = hashlib.sha256(self.model.encode())
        for lang in self.languages:
            digest.update(lang.encode() + np.asarray(self.means[lang], np.float32).tobytes())
        digest.update(json.dumps([sorted(self.scales.items()), dataclasses.asdict(self.cut) if self.cut else None],
                                 sort_keys=True).encode())
        return digest.hexdigest()[:12]

    def scale(self, scores: FloatArray, languages: Sequence[str]) -> FloatArray:
        """Theme scores (one row per text) spread as English ones would be."""
        if not self.scales:
            return scores
        out: FloatArray = (scores * self.scale_factors(languages)[:, None]).astype(np.float32)
        return out

    def scale_factors(self, languages: Sequence[str]) -> FloatArray:
        """Each text's language scale (1 where none is fitted)."""
        out: FloatArray = np.array([self.scales.get(lang, 1.0) for lang in languages], np.float32)
        return out

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.means))

    def apply(self, vectors: FloatArray, languages: Sequence[str]) -> FloatArray:
        """Each row centred on its language's mean and re-normalised; a language without a
        mean is centred on the mean of all languages.

        Centring (rather than moving each row to the shared mean) also evens out the scale: a
        language the model places far from the others keeps less of its length for what the
        sentence says, and re-normalising the centred row gives that back.
        """
        if len(vectors) != len(languages):
            raise ValueError("one language per vector")
        if not len(vectors):
            return vectors
        centres = np.stack([self.means.get(lang, self.shared) for lang in languages])
        return normalise(vectors - centres)

    def save(self, path: Path) -> None:
        langs = self.languages
        np.savez_compressed(path, meta=json.dumps({"model": self.model, "languages": langs,
                                                   "sentences": self.sentences, "scales": dict(self.scales),
                                                   "cut": dataclasses.asdict(self.cut) if self.cut else None}),
                            means=np.stack([self.means[lang] for lang in langs]).astype(np.float32),
                            shared=self.shared.astype(np.float32))

    @classmethod
    def load(cls, path: Path) -> LanguageAlignment:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            means = {lang: data["means"][i].astype(np.float32) for i, lang in enumerate(meta["languages"])}
            cut = meta.get("cut")
            return cls(model=meta["model"], means=means, shared=data["shared"].astype(np.float32),
                       sentences=int(meta.get("sentences", 0)),
                       scales={str(k): float(v) for k, v in (meta.get("scales") or {}).items()},
                       cut=OperatingPoint(float(cut["threshold"]), float(cut["margin"]),
                                          {str(k): float(v) for k, v in cut["thresholds"].items()}) if cut else None)

    @classmethod
    def packaged(cls, model: str) -> LanguageAlignment | None:
        """The alignment shipped for this embedding model, None when there is none."""
        alignment = load_packaged(file_name(model), cls.load)
        if alignment is None:
            log.info("no language alignment packaged for %s: languages stay as embedded", model)
            return None
        return alignment if alignment.model == model else None


def file_name(model: str) -> str:
    """The packaged file of a model's alignment."""
    return packaged_name("alignment", model, ".npz")
