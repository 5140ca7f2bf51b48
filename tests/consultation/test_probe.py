"""The theme probe: a linear classifier over aligned vectors that moves seed theme scores,
packaged per embedding model, while analysts' corrections keep steering coding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parley.consultation.analysis import CoderOptions, LanguageIdentifier, ThemeCoder, seed_themes
from parley.consultation.analysis.alignment import LanguageAlignment, OperatingPoint
from parley.consultation.analysis.confidence import ConfidenceCurve
from parley.consultation.analysis.embeddings import normalise
from parley.consultation.analysis.language import LanguageGuess
from parley.consultation.analysis.probe import ThemeProbe, fit_logistic, language_directions
from parley.consultation.analysis.themes import Theme
from tests.fakes.embedder import FakeEmbedder, _unit

pytestmark = pytest.mark.unit

HEALTH = "We need more hospitals and better health care for everyone."
SCHOOLS = "Every child deserves a good school and well paid teachers."


class English(LanguageIdentifier):
    def identify(self, text: str) -> LanguageGuess:
        return LanguageGuess("en", 1.0, True)


def identity_alignment(embedder: FakeEmbedder) -> LanguageAlignment:
    """An alignment whose only language mean is zero: vectors stay as embedded."""
    zero = np.zeros((1, embedder.dim), np.float32)
    return LanguageAlignment(model=embedder.info.name, means={"en": zero[0], "fr": zero[0]}, shared=zero[0])


def probe_towards(theme: str, direction: np.ndarray, embedder: FakeEmbedder, **kwargs: object) -> ThemeProbe:
    """A probe sure of ``theme`` for vectors along ``direction`` and of nothing else."""
    themes = tuple(t.id for t in seed_themes())
    weights = np.zeros((len(themes), embedder.dim), np.float32)
    weights[themes.index(theme)] = 40 * direction
    return ThemeProbe(model=embedder.info.name, themes=themes, weights=weights,
                      bias=np.full(len(themes), -8.0, np.float32), blend=0.8, **kwargs)  # type: ignore[arg-type]


def test_logistic_regression_learns_labels_and_directions_find_the_language() -> None:
    rng = np.random.default_rng(3)
    topics = normalise(rng.normal(size=(300, 32)))
    truth = np.stack([topics[:, 0] > 0.1, topics[:, 1] < -0.1], axis=1)
    weights, bias = fit_logistic(topics, truth, np.ones(300), l2=0.01)
    predicted = (topics @ weights.T + bias) > 0
    assert (predicted == truth).mean() > 0.95

    accent = normalise(rng.normal(size=32))
    versions = [normalise(topics[:50] + 0.1 * rng.normal(size=(50, 32)) * 0.1 + s * accent) for s in (-1, 0, 1)]
    (found,) = language_directions(versions, 1)
    assert abs(float(found @ accent)) > 0.9
    assert language_directions(versions, 0).shape == (0, 32)


def test_a_probe_survives_saving_and_is_only_used_with_its_model(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    probe = probe_towards("health", embedder.embed([HEALTH])[0], embedder, scaled=True,
                          directions=normalise(np.ones((1, embedder.dim), np.float32)),
                          cut=OperatingPoint(0.05, 1.0, {"peace": 0.1}),
                          curve=ConfidenceCurve(embedder.info.name, (0.0, 0.5), (0.1, 0.9), 40))
    probe.save(tmp_path / "p.npz")
    loaded = ThemeProbe.load(tmp_path / "p.npz")
    assert loaded.themes == probe.themes and loaded.blend == 0.8 and loaded.scaled and loaded.cut == probe.cut
    assert loaded.curve == probe.curve and loaded.fingerprint == probe.fingerprint
    assert np.allclose(loaded.weights, probe.weights) and np.allclose(loaded.directions, probe.directions)
    assert ThemeProbe.packaged("some-other-model") is None


def test_the_probe_moves_seed_scores_and_leaves_other_themes_alone() -> None:
    embedder = FakeEmbedder()
    options = CoderOptions(threshold=0.2, margin=0.25)
    alignment = identity_alignment(embedder)
    towards_schools = probe_towards("education", embedder.embed([SCHOOLS])[0], embedder)
    plain = ThemeCoder(embedder, options=options, languages=English(), alignment=alignment, probe=None)
    probed = ThemeCoder(embedder, options=options, languages=English(), alignment=alignment, probe=towards_schools)
    own = Theme(id="hospitals", name="Hospitals", examples=("hospital beds",), origin="analyst")
    for coder in (plain, probed):
        coder.add_theme(own)
    before = {s.theme: s.score for s in plain.code([SCHOOLS])[0].scores}
    after = {s.theme: s.score for s in probed.code([SCHOOLS])[0].scores}
    assert after["education"] == pytest.approx(before["education"] + 0.8 * 0.5, abs=0.02)
    assert after["health"] == pytest.approx(before["health"] - 0.8 * 0.5, abs=0.02)  # p ~ 0 pulls down
    assert after["hospitals"] == pytest.approx(before["hospitals"], abs=1e-4)  # not a theme the probe knows
    # without the alignment the probe has nothing to read and is not used
    unaligned = ThemeCoder(embedder, options=options, languages=English(), alignment=None, probe=towards_schools)
    assert unaligned.probe is None


def test_corrections_still_steer_a_probed_coder() -> None:
    embedder = FakeEmbedder()
    towards_health = probe_towards("health", embedder.embed([HEALTH])[0], embedder)
    coder = ThemeCoder(embedder, options=CoderOptions(threshold=0.2, margin=0.25), languages=English(),
                       alignment=identity_alignment(embedder), probe=towards_health)
    (coding,) = coder.code([HEALTH])
    assert coding.themes[:1] == ("health",)
    coder.correct(HEALTH, ["inequality"])  # the analyst disagrees: the same answer takes their themes
    (again,) = coder.code([HEALTH])
    assert again.themes == ("inequality",) and again.source == "correction"
    # and a close answer is pulled toward the analyst's coding by the neighbour vote
    near = "We need more hospitals and better health care for everyone, now."
    scores = {s.theme: s.score for s in coder.code([near])[0].scores}
    unsteered = ThemeCoder(embedder, options=CoderOptions(threshold=0.2, margin=0.25), languages=English(),
                           alignment=identity_alignment(embedder), probe=towards_health)
    base = {s.theme: s.score for s in unsteered.code([near])[0].scores}
    assert scores["inequality"] > base["inequality"] + 0.05 and scores["health"] < base["health"]
    # near the analyst's answer their vote stands in for the probe's guess, so it is followed
    assert coder.code([near])[0].themes[:1] == ("inequality",)
    assert unsteered.code([near])[0].themes[:1] == ("health",)


def test_a_probe_brings_its_own_cut_and_confidence_curve() -> None:
    embedder = FakeEmbedder()
    probe = probe_towards("health", _unit("x", embedder.dim), embedder, cut=OperatingPoint(0.07, 0.5, {"peace": 0.2}),
                          curve=ConfidenceCurve(embedder.info.name, (0.0, 1.0), (0.3, 0.6), 40))
    coder = ThemeCoder(embedder, languages=English(), alignment=identity_alignment(embedder), probe=probe)
    assert coder.options.threshold == 0.07 and coder.options.margin == 0.5
    assert dict(coder.options.thresholds) == {"peace": 0.2}
    assert coder.confidence == probe.curve
    assert ThemeCoder(embedder, languages=English(), alignment=None, probe=probe).options == CoderOptions()
