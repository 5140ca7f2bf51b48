"""Language offsets: a language whose seed examples score low against the other languages'
examples gets its answers' scores raised by the same amount (times ``language_offset``), so
"other" does not depend on the language an answer was written in; and per-theme thresholds."""

from __future__ import annotations

import numpy as np

from parley.consultation.analysis import CoderOptions
from parley.consultation.analysis.embeddings import normalise
from parley.consultation.analysis.scoring import _assign, _language_offsets, _predict


def test_a_language_whose_examples_sit_apart_gets_a_negative_offset() -> None:
    rng = np.random.default_rng(3)
    topics = normalise(rng.normal(size=(4, 32)))
    rows, languages, owners = [], [], []
    for lang, blur in (("en", 0.2), ("fr", 0.2), ("es", 0.2), ("pt", 1.5)):
        for j, topic in enumerate(topics):
            for _ in range(3):
                rows.append(topic + blur * rng.normal(size=32) / np.sqrt(32))
                languages.append(lang)
                owners.append(f"t{j}")
    offsets = _language_offsets(normalise(np.stack(rows)), languages, owners)
    assert set(offsets) == {"en", "fr", "es", "pt"}
    assert offsets["pt"] < -0.05 < 0 < min(offsets["en"], offsets["fr"], offsets["es"])
    assert abs(sum(offsets.values())) < 1e-3


def test_languages_with_examples_for_few_themes_get_no_offset() -> None:
    vectors = normalise(np.eye(8, dtype=np.float32))
    languages = ["en", "en", "en", "en", "fr", "fr", "fr", "xx"]
    owners = ["a", "b", "c", "d", "a", "b", "c", "a"]
    assert "xx" not in _language_offsets(vectors, languages, owners)


def test_each_theme_can_have_its_own_threshold_and_other_only_when_none_passes() -> None:
    ids = ["climate", "economy", "rights"]
    options = CoderOptions(threshold=0.1, margin=0.05, thresholds={"climate": 0.3})
    scores = np.array([0.25, 0.22, 0.0], np.float32)
    assert _assign(scores, ids, options) == ("economy",)  # climate misses its own, higher cut
    assert _assign(np.array([0.05, 0.09, 0.0], np.float32), ids, options) == ()
    many = np.stack([scores, np.array([0.35, 0.33, 0.31], np.float32)])
    cuts = np.array([0.3, 0.1, 0.1], np.float32)
    assert _predict(many, cuts, 0.05, 2).tolist() == [[False, True, False], [True, True, False]]
