from __future__ import annotations

import dataclasses

import pytest

from parley.consultation.analysis import CoderOptions, Correction, LanguageIdentifier, Theme, ThemeCoder, seed_themes
from parley.errors import Conflict, InvalidInput, NotFound
from tests.fakes.embedder import FakeEmbedder

pytestmark = pytest.mark.unit

SEED_IDS = {"climate", "health", "inequality", "peace", "education", "economy", "technology", "rights",
            "governance", "migration", "food_water", "gender"}


def test_seed_themes_cover_the_un_languages_german_portuguese_and_hindi() -> None:
    themes = seed_themes()
    assert {t.id for t in themes} == SEED_IDS
    for theme in themes:
        assert set(theme.names) == {"en", "fr", "es", "ar", "ru", "zh", "de", "pt", "hi"}
        assert len(theme.examples) == 9 * 4  # the name and three examples per language
        assert theme.origin == "seed"


def test_climate_in_five_languages_lands_on_climate(coder: ThemeCoder) -> None:
    texts = [
        "We must stop climate change now.",
        "Le réchauffement climatique menace nos enfants.",
        "تغير المناخ خطر على الجميع.",
        "Изменение климата угрожает всем нам.",
        "气候变化威胁着我们的未来。",
    ]
    codings = coder.code(texts)
    assert [c.themes for c in codings] == [("climate",)] * 5
    assert [c.language.code for c in codings] == ["en", "fr", "ar", "ru", "zh"]
    for coding in codings:
        assert coding.best is not None and coding.best.theme == "climate"
        assert [s.score for s in coding.scores] == sorted((s.score for s in coding.scores), reverse=True)
        assert {s.theme for s in coding.scores} == SEED_IDS


def test_nothing_fits_is_other(coder: ThemeCoder) -> None:
    (coding,) = coder.code(["Parking on both sides of the street should be banned near the stadium."])
    assert coding.other
    assert coding.themes == ()
    assert coding.source == "model"


def test_threshold_decides_between_theme_and_other(embedder: FakeEmbedder, languages: LanguageIdentifier) -> None:
    text = ["Hospitals need more doctors."]
    strict = ThemeCoder(embedder, options=CoderOptions(threshold=0.99), languages=languages)
    lenient = ThemeCoder(embedder, options=CoderOptions(threshold=0.2), languages=languages)
    assert strict.code(text)[0].other
    assert lenient.code(text)[0].themes == ("health",)


def test_several_themes_when_close_enough(coder: ThemeCoder) -> None:
    (both,) = coder.code(["Climate change harms our health and fills the hospitals."])
    assert set(both.themes) == {"climate", "health"}
    assert both.themes[0] == both.scores[0].theme  # best first


def test_margin_and_max_themes_limit_labels(coder: ThemeCoder) -> None:
    text = ["Climate change harms our health and fills the hospitals."]
    coder.options = dataclasses.replace(coder.options, margin=0.0)
    assert len(coder.code(text)[0].themes) == 1
    coder.options = dataclasses.replace(coder.options, margin=1.0, threshold=-1.0, max_themes=2)
    assert len(coder.code(text)[0].themes) == 2


def test_empty_inputs(coder: ThemeCoder) -> None:
    assert coder.code([]) == []
    with pytest.raises(InvalidInput) as info:
        coder.code(["fine", "   "])
    assert info.value.fields == {"texts[1]": "empty"}
    with pytest.raises(InvalidInput):
        coder.code("a single string is not a list")
    with pytest.raises(InvalidInput):
        coder.correct("", ["climate"])
    assert coder.discover([]) == []


def test_correction_is_reused_for_the_same_answer(coder: ThemeCoder) -> None:
    text = "Rents are too high and landlords keep raising them."
    assert coder.code([text])[0].themes != ("inequality",)
    correction = coder.correct(text, ["inequality"], sentiment="negative", analyst="ana")
    assert correction.considered == tuple(t.id for t in coder.themes)
    (again,) = coder.code(["Rents are too high and landlords keep  raising them."])  # spacing differs
    assert again.themes == ("inequality",)
    assert again.source == "correction"
    assert again.sentiment.label == "negative"
    assert again.sentiment.source == "correction"


def test_corrections_steer_similar_answers(coder: ThemeCoder) -> None:
    # the fake's neighbours are less alike than e5's, so let their vote count for more
    coder.options = dataclasses.replace(coder.options, neighbour_weight=1.0)
    similar = "Landlords raise rents every year and tenants cannot pay rents."
    before = coder.code([similar])[0]
    assert "inequality" not in before.themes
    for text in ["Rents are too high and landlords keep raising them.",
                 "Tenants pay rents that landlords raise without limits.",
                 "Landlords should not raise rents for poor tenants."]:
        coder.correct(text, ["inequality"])
    after = coder.code([similar])[0]
    assert after.source == "model"  # not a copy: the neighbours voted
    assert "inequality" in after.themes
    before_score = {s.theme: s.score for s in before.scores}["inequality"]
    after_score = {s.theme: s.score for s in after.scores}["inequality"]
    assert after_score > before_score


def test_correction_to_other_removes_a_theme(coder: ThemeCoder) -> None:
    text = "Climate of the meeting was friendly."
    assert coder.code([text])[0].themes == ("climate",)
    coder.correct(text, [])
    assert coder.code([text])[0].other


def test_second_correction_replaces_first(coder: ThemeCoder) -> None:
    text = "Schools and hospitals both need money."
    coder.correct(text, ["education"])
    second = coder.correct(text, ["education", "health"])
    assert [c.id for c in coder.corrections] == [second.id]
    assert set(coder.code([text])[0].themes) == {"education", "health"}
    coder.remove_correction(second.id)
    assert coder.corrections == ()
    with pytest.raises(NotFound):
        coder.remove_correction(second.id)


def test_correction_validation(coder: ThemeCoder) -> None:
    with pytest.raises(InvalidInput) as info:
        coder.correct("Something about trains.", ["trains"])
    assert info.value.fields == {"themes": "unknown"}
    with pytest.raises(InvalidInput):
        coder.correct("Something about trains.", ["climate"], sentiment="furious")


def test_corrections_round_trip_and_reload(embedder: FakeEmbedder, options: CoderOptions,
                                           languages: LanguageIdentifier) -> None:
    first = ThemeCoder(embedder, options=options, languages=languages)
    made = first.correct("Rents are too high and landlords keep raising them.", ["inequality"], sentiment="negative")
    stored = [c.to_dict() for c in first.corrections]
    second = ThemeCoder(FakeEmbedder(), options=options, languages=languages)
    second.add_corrections(Correction.from_dict(d) for d in stored)
    assert second.corrections == (made,)
    assert second.code([made.text])[0].themes == ("inequality",)
    with pytest.raises(InvalidInput):
        Correction.from_dict({"themes": []})


def test_recoding_reuses_cached_embeddings(coder: ThemeCoder, embedder: FakeEmbedder) -> None:
    texts = ["Climate first.", "Health second."]
    coder.code(texts)
    seen = embedder.texts_embedded
    coder.correct("Climate first.", ["climate", "health"])
    coder.code(texts)
    assert embedder.texts_embedded == seen
    assert set(embedder.kinds) == {"query"}


def test_calibration_fits_threshold_to_corrections(coder: ThemeCoder) -> None:
    with pytest.raises(InvalidInput) as info:
        coder.calibrate()
    assert info.value.code == "too_few_corrections"
    topics = {"climate": "climate change", "health": "hospital care", "peace": "war and weapons",
              "education": "school teachers", "migration": "refugees"}
    words = ["city", "village", "youth", "elders", "north", "south"]
    for theme, topic in topics.items():
        for word in words:
            coder.correct(f"{topic} matters for the {word}", [theme])
    for word in words:
        coder.correct(f"parking rules for the {word}", [])
    coder.options = dataclasses.replace(coder.options, threshold=0.9)  # far off
    result = coder.calibrate()
    assert result.examples == 36
    assert result.micro_f1 > 0.9
    assert coder.options.threshold == result.threshold < 0.9
    assert coder.code(["refugees matter for the town"])[0].themes == ("migration",)


def test_added_theme_is_used_and_old_corrections_do_not_vote_against_it(coder: ThemeCoder) -> None:
    text = "Rents and landlords and tenants."
    coder.correct(text + " Again.", [])  # made before the theme existed
    coder.add_theme(Theme(id="housing", name="Housing", origin="analyst",
                          examples=("Rents are too high.", "Landlords and tenants.", "Affordable rents for tenants.")))
    assert "housing" in coder.code([text])[0].themes
    with pytest.raises(Conflict):
        coder.add_theme(Theme(id="housing", name="Again", examples=("x",)))


def test_theme_validation() -> None:
    with pytest.raises(InvalidInput):
        Theme(id="Not An Id", name="x", examples=("x",))
    with pytest.raises(InvalidInput):
        Theme(id="ok", name="x", examples=("  ",))


async def test_async_variants(coder: ThemeCoder) -> None:
    await coder.aprepare()
    codings = await coder.acode(["Le réchauffement climatique menace nos enfants."])
    assert codings[0].themes == ("climate",)
    await coder.acorrect("Trains are late.", [])
    assert len(coder.corrections) == 1
