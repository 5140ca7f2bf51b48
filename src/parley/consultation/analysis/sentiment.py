"""Sentiment (negative / neutral / positive) in any language the embedder covers.

No per-language model: each label has a prototype, the mean embedding of short anchor
statements written in seven languages (``seeds.SENTIMENT_ANCHORS``), and an answer takes the
label whose prototype is closest. Because the embedder maps languages into one space, an
Arabic complaint lands near the English and Chinese complaints. Analyst-labelled answers are
added as examples and vote for their label among an answer's nearest neighbours.

Measured on 251 hand-labelled Pol.is statements (en/de/zh; see bench/themes.py) this is
far from perfect; read the benchmark's numbers before trusting it on single answers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np

from parley.consultation.analysis.embeddings import Embedder, FloatArray, normalise
from parley.consultation.analysis.neighbours import neighbour_vote
from parley.consultation.analysis.seeds import SENTIMENT_ANCHORS
from parley.errors import InvalidInput

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")


def parse_sentiment(value: str) -> Sentiment:
    if value not in SENTIMENTS:
        raise InvalidInput(f"unknown sentiment {value!r}; expected one of {', '.join(SENTIMENTS)}",
                           fields={"sentiment": "unknown"})
    return value


@dataclass(frozen=True)
class SentimentResult:
    label: Sentiment
    confidence: float  # share of the softmax over the three labels, 1/3 .. 1
    scores: Mapping[str, float]
    source: Literal["model", "correction"] = "model"


@dataclass(frozen=True)
class SentimentOptions:
    neighbours: int = 10
    neighbour_weight: float = 0.1  # how much analyst-labelled neighbours move the scores
    temperature: float = 0.05  # neighbour weighting sharpness (cosine units)
    reuse_similarity: float = 0.985  # an answer this close to a labelled one takes its label
    score_temperature: float = 0.02  # for the reported confidence only


@dataclass(frozen=True)
class SentimentCheck:
    """How sentiment did on the analysts' labelled answers, each classified without its own
    fold, against always answering their most common label. ``shown`` only when it beats
    that by ``min_gain``: on the benchmark (bench/themes.py) the anchors alone do not (Pol.is
    75 % against 68 % for "neutral"; FLORES at or below the majority in every language), and
    a label no better than a constant misleads more than it tells."""

    examples: int
    accuracy: float | None
    majority: float | None
    shown: bool
    reason: str


class SentimentClassifier:
    def __init__(
        self,
        embedder: Embedder,
        *,
        anchors: Mapping[str, Mapping[str, Sequence[str]]] = SENTIMENT_ANCHORS,
        options: SentimentOptions | None = None,
    ) -> None:
        for label in anchors:
            parse_sentiment(label)
        if set(anchors) != set(SENTIMENTS):
            raise ValueError("sentiment anchors need examples for negative, neutral and positive")
        self.embedder = embedder
        self.options = options or SentimentOptions()
        self._anchor_texts = {label: [t for texts in anchors[label].values() for t in texts] for label in SENTIMENTS}
        self._lock = threading.RLock()
        self._centre: FloatArray | None = None
        self._prototypes: FloatArray | None = None
        self._examples: dict[str, tuple[FloatArray, Sentiment]] = {}
        self._matrix: tuple[FloatArray, np.ndarray] | None = None

    def prepare(self) -> None:
        """Embed the anchors now (the first classification does it otherwise)."""
        self._state()

    def _state(self) -> tuple[FloatArray, FloatArray]:
        """(centre, prototypes), embedding the anchors on first use."""
        with self._lock:
            if self._centre is not None and self._prototypes is not None:
                return self._centre, self._prototypes
            texts = [t for label in SENTIMENTS for t in self._anchor_texts[label]]
        vectors = self.embedder.embed(texts)
        with self._lock:
            # The anchors are balanced across labels, so their mean is what all statements share;
            # removing it leaves the direction that separates the labels.
            centre = vectors.mean(axis=0)
            centred = normalise(vectors - centre)
            protos, start = [], 0
            for label in SENTIMENTS:
                n = len(self._anchor_texts[label])
                protos.append(centred[start : start + n].mean(axis=0))
                start += n
            self._centre = centre.astype(np.float32)
            self._prototypes = normalise(np.stack(protos))
            return self._centre, self._prototypes

    def classify(self, texts: Sequence[str]) -> list[SentimentResult]:
        return self.classify_vectors(self.embedder.embed(texts))

    async def aclassify(self, texts: Sequence[str]) -> list[SentimentResult]:
        return await asyncio.to_thread(self.classify, list(texts))

    def learn(self, key: str, vector: FloatArray, label: Sentiment) -> None:
        """Add (or replace) an analyst-labelled example; ``vector`` comes from ``self.embedder``."""
        parse_sentiment(label)
        with self._lock:
            self._examples[key] = (np.asarray(vector, dtype=np.float32), label)
            self._matrix = None

    def forget(self, key: str) -> None:
        with self._lock:
            if self._examples.pop(key, None) is not None:
                self._matrix = None

    @property
    def example_count(self) -> int:
        return len(self._examples)

    def classify_vectors(self, vectors: FloatArray) -> list[SentimentResult]:
        """Classify raw embeddings from ``self.embedder`` (lets the theme coder embed once)."""
        centre, prototypes = self._state()
        with self._lock:
            examples = self._example_matrix(centre)
        queries = normalise(np.asarray(vectors, dtype=np.float32) - centre)
        scores = queries @ prototypes.T
        opts = self.options
        reuse = np.zeros(len(queries), dtype=bool)
        nearest_label = np.zeros(len(queries), dtype=np.int64)
        if examples is not None:
            ex_vectors, ex_labels = examples
            onehot = np.eye(len(SENTIMENTS), dtype=np.float32)[ex_labels]
            vote = neighbour_vote(queries, ex_vectors, onehot, k=opts.neighbours, temperature=opts.temperature)
            scores = scores + opts.neighbour_weight * vote.labels
            reuse = vote.nearest >= opts.reuse_similarity
            nearest_label = np.where(vote.nearest_index >= 0, ex_labels[np.maximum(vote.nearest_index, 0)], 0)
        results = []
        for row, score in enumerate(scores):
            z = (score - score.max()) / opts.score_temperature
            probs = np.exp(z) / np.exp(z).sum()
            if reuse[row]:
                best, source = int(nearest_label[row]), "correction"
            else:
                best, source = int(np.argmax(score)), "model"
            results.append(SentimentResult(
                label=SENTIMENTS[best],
                confidence=round(float(probs[best]), 4),
                scores={label: round(float(s), 4) for label, s in zip(SENTIMENTS, score, strict=True)},
                source=cast(Literal["model", "correction"], source),
            ))
        return results

    def check(self, *, folds: int = 5, min_examples: int = 30, min_gain: float = 0.15) -> SentimentCheck:
        """Cross-validate on the analyst-labelled examples (see `SentimentCheck`)."""
        centre, prototypes = self._state()
        with self._lock:
            items = list(self._examples.values())
        n = len(items)
        if n < min_examples:
            return SentimentCheck(n, None, None, False,
                                  f"needs {min_examples} answers with a sentiment set by analysts, has {n}")
        queries = normalise(np.stack([v for v, _ in items]) - centre)
        labels = np.array([SENTIMENTS.index(lab) for _, lab in items], dtype=np.int64)
        fold = np.arange(n) % folds
        predicted = np.zeros(n, dtype=np.int64)
        opts = self.options
        for f in range(folds):
            held, rest = fold == f, fold != f
            onehot = np.eye(len(SENTIMENTS), dtype=np.float32)[labels[rest]]
            vote = neighbour_vote(queries[held], queries[rest], onehot, k=opts.neighbours,
                                  temperature=opts.temperature)
            predicted[held] = np.argmax(queries[held] @ prototypes.T + opts.neighbour_weight * vote.labels, axis=1)
        accuracy = float((predicted == labels).mean())
        majority = float(np.bincount(labels, minlength=len(SENTIMENTS)).max() / n)
        shown = accuracy >= majority + min_gain
        reason = (f"{accuracy:.0%} right on {n} analysts' labels against {majority:.0%} for the most common "
                  f"label" + ("" if shown else f"; shown from {min_gain:.0%} above it"))
        return SentimentCheck(n, round(accuracy, 4), round(majority, 4), shown, reason)

    def _example_matrix(self, centre: FloatArray) -> tuple[FloatArray, np.ndarray] | None:
        if not self._examples:
            return None
        if self._matrix is None:
            raw = np.stack([v for v, _ in self._examples.values()])
            labels = np.array([SENTIMENTS.index(lab) for _, lab in self._examples.values()], dtype=np.int64)
            self._matrix = (normalise(raw - centre), labels)
        return self._matrix
