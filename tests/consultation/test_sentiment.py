from __future__ import annotations

import pytest

from parley.consultation.analysis import SENTIMENTS, SentimentClassifier
from parley.errors import InvalidInput
from tests.fakes.embedder import FakeEmbedder

pytestmark = pytest.mark.unit


def test_anchor_prototypes_across_languages() -> None:
    classifier = SentimentClassifier(FakeEmbedder())
    results = classifier.classify([
        "What a great idea, I love it and support it.",
        "C'est injuste, je suis en colère.",
        "Это ужасная идея.",
        "The committee meets on Tuesday.",
    ])
    assert [r.label for r in results] == ["positive", "negative", "negative", "neutral"]
    for r in results:
        assert set(r.scores) == set(SENTIMENTS)
        assert 1 / 3 <= r.confidence <= 1.0
        assert r.source == "model"


def test_learned_examples_vote_and_exact_matches_are_reused() -> None:
    embedder = FakeEmbedder()
    classifier = SentimentClassifier(embedder)
    text = "The committee meets on Tuesday again."
    assert classifier.classify([text])[0].label == "neutral"
    classifier.learn("c1", embedder.embed([text])[0], "negative")
    result = classifier.classify([text])[0]
    assert (result.label, result.source) == ("negative", "correction")
    classifier.forget("c1")
    assert classifier.example_count == 0
    assert classifier.classify([text])[0].label == "neutral"


def test_unknown_label_is_rejected() -> None:
    embedder = FakeEmbedder()
    with pytest.raises(InvalidInput):
        SentimentClassifier(embedder).learn("x", embedder.embed(["x"])[0], "meh")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SentimentClassifier(embedder, anchors={"positive": {"en": ("good",)}})
