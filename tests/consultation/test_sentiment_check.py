"""Sentiment is shown only where it beats always answering the most common label: checked by
cross-validation on the answers analysts labelled."""

from __future__ import annotations

import numpy as np

from parley.consultation.analysis import SENTIMENTS, SentimentClassifier
from tests.fakes.embedder import FakeEmbedder


def labelled(classifier: SentimentClassifier, n: int, *, separable: bool, seed: int = 5) -> None:
    """``n`` analyst labels; separable ones sit near their label's prototype."""
    centre, prototypes = classifier._state()
    rng = np.random.default_rng(seed)
    for i in range(n):
        label = i % 3
        noise = np.asarray(rng.normal(size=prototypes.shape[1]), dtype=np.float32) * 0.02
        direction = prototypes[label] if separable else prototypes[int(rng.integers(3))]
        classifier.learn(f"k{i}", centre + direction + noise, SENTIMENTS[label])


def test_too_few_labels_keep_sentiment_hidden() -> None:
    classifier = SentimentClassifier(FakeEmbedder())
    check = classifier.check()
    assert not check.shown and check.examples == 0 and "needs 30" in check.reason
    labelled(classifier, 12, separable=True)
    assert not classifier.check().shown


def test_labels_the_classifier_reproduces_show_it_and_labels_it_cannot_hide_it() -> None:
    good = SentimentClassifier(FakeEmbedder())
    labelled(good, 60, separable=True)
    check = good.check()
    assert check.shown and check.accuracy is not None and check.majority is not None
    assert check.accuracy >= check.majority + 0.15

    noisy = SentimentClassifier(FakeEmbedder())
    labelled(noisy, 60, separable=False)
    check = noisy.check()
    assert not check.shown and "shown from 15% above it" in check.reason
