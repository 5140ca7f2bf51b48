"""Discovery an analyst can use: clusters at several granularities, representatives and
keywords per language, and a preview of what adopting a theme would change, with its own
calibrated threshold and a guard against a theme that swallows the corpus."""

from __future__ import annotations

import numpy as np
import pytest

from parley.consultation.analysis import AdoptionPreview, Theme, ThemeCoder, check_share
from parley.consultation.analysis.adoption import calibrated_threshold
from parley.consultation.analysis.discovery import (
    LEVELS,
    central_by_language,
    granular,
    keywords_by_language,
    min_size_for,
)
from parley.consultation.analysis.embeddings import normalise
from parley.errors import Conflict, InvalidInput

pytestmark = pytest.mark.unit


def blobs(centres: int, per: int, dim: int = 32, spread: float = 0.1, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    groups = [normalise(rng.standard_normal(dim)) + spread * rng.standard_normal((per, dim)) / np.sqrt(dim)
              for _ in range(centres)]
    return normalise(np.concatenate(groups))


# --- granularities ------------------------------------------------------------------------


def test_each_granularity_gives_its_own_number_of_groups() -> None:
    x = blobs(24, 10)  # 240 rows: 24 tight groups
    sizes = {level: granular(x, level, min_size=3) for level in LEVELS}
    assert 3 <= sizes["coarse"].k <= 6
    assert 8 <= sizes["medium"].k <= 14
    assert 18 <= sizes["fine"].k <= 30
    assert len(sizes["coarse"].clusters) < len(sizes["medium"].clusters) < len(sizes["fine"].clusters)
    # at the fine level no cluster mixes two true groups, and it separates them best
    assert all(len({m // 10 for m in c.members}) == 1 for c in sizes["fine"].clusters)
    assert sizes["fine"].silhouette > sizes["medium"].silhouette > sizes["coarse"].silhouette


def test_small_groups_are_not_grouped_rather_than_forced_into_a_neighbour() -> None:
    x = np.concatenate([blobs(3, 20, seed=1), blobs(1, 2, seed=99)])
    result = granular(x, "coarse", min_size=5)
    grouped = {m for c in result.clusters for m in c.members}
    assert all(len(c.members) >= 5 for c in result.clusters)
    assert result.assignment[[i for i in range(len(x)) if i not in grouped]].tolist() == \
        [-1] * (len(x) - len(grouped))


def test_granular_is_deterministic_and_rejects_unknown_levels() -> None:
    x = blobs(6, 8)
    assert [c.members for c in granular(x, "coarse", seed=2).clusters] == \
        [c.members for c in granular(x, "coarse", seed=2).clusters]
    with pytest.raises(ValueError):
        granular(x, "tiny")
    assert granular(x[:4], "fine", min_size=3).clusters == ()
    assert min_size_for(1805) == 9 and min_size_for(100) == 3


def test_representatives_cover_every_language_most_central_first() -> None:
    members = [4, 0, 3, 1, 2, 5]  # most central first
    languages = ["de", "en", "zh", "de", "de", "en"]
    assert central_by_language(members, languages, 2) == {"de": (4, 0), "en": (1, 5), "zh": (2,)}


def test_keywords_are_drawn_from_answers_in_each_language() -> None:
    texts = ["Rents are too high for tenants", "Tenants pay high rents", "Mieten sind zu hoch für Mieter",
             "Mieter zahlen hohe Mieten", "Parks need trees", "Bäume im Park", "房租太高", "租金太高"]
    languages = ["en", "en", "de", "de", "en", "de", "zh", "zh"]
    words = keywords_by_language([0, 1, 2, 3, 6], texts, languages)
    assert "rents" in words["en"] and "tenants" in words["en"]
    assert "mieten" in words["de"] or "mieter" in words["de"]
    assert "zh" not in words  # one answer in Chinese is too few to draw keywords from


# --- calibration, preview, guard ----------------------------------------------------------


def test_threshold_is_calibrated_on_the_members_not_a_global_cut() -> None:
    scores = [0.30, 0.40, 0.50, 0.60, 0.70]
    assert calibrated_threshold(scores, floor=0.1) == pytest.approx(0.40)
    assert calibrated_threshold(scores, floor=0.45) == pytest.approx(0.45)  # never below the coder's
    assert calibrated_threshold([], floor=0.1) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        calibrated_threshold(scores, floor=0.1, quantile=1.0)


def test_preview_says_where_the_answers_come_from() -> None:
    before = (("climate",), (), ("economy", "climate"), ("health",), ("climate",))
    after = (("energy",), ("energy",), ("economy", "climate", "energy"), ("health",), ("climate",))
    p = AdoptionPreview(theme="energy", threshold=0.4, before=before, after=after, members=(0, 1, 4))
    assert p.taken == (0, 1, 2) and p.share == pytest.approx(0.6)
    assert p.from_other == (1,) and p.alongside == (2,) and p.moved == (0,)
    assert p.from_themes == {"climate": 1}
    assert p.members_taken == 2 and p.outside == 1
    assert p.counts()["energy"] == (0, 3) and p.counts()[""] == (1, 0)
    assert p.other_changes == ()


def test_guard_refuses_a_broad_theme_unless_confirmed() -> None:
    wide = AdoptionPreview(theme="t", threshold=0.1, before=((),) * 10, after=(("t",),) * 8 + ((),) * 2)
    with pytest.raises(Conflict) as refused:
        check_share(wide, max_share=0.25)
    assert refused.value.code == "adoption_too_broad" and refused.value.fields == {"confirm": "required"}
    check_share(wide, max_share=0.25, confirmed=True)
    narrow = AdoptionPreview(theme="t", threshold=0.1, before=((),) * 10, after=(("t",),) * 2 + ((),) * 8)
    check_share(narrow, max_share=0.25)


# --- the coder ----------------------------------------------------------------------------

HOUSING = ["Rents are too high and landlords raise rents.", "Landlords raise rents for tenants again.",
           "Tenants cannot pay rents to landlords.", "Rents and landlords are the problem for tenants.",
           "Landlords and rents, tenants suffer."]
PARKING = ["Parking spaces downtown are always full.", "More parking spaces near the stadium please.",
           "Parking downtown costs too much, more spaces.", "The stadium parking spaces are too few.",
           "Parking spaces, parking spaces everywhere."]
CLIMATE = ["We must stop climate change now.", "Climate change and warming must stop.",
           "Stop the climate crisis and carbon emissions.", "Climate warming is the biggest problem."]


def test_explore_gives_groups_with_languages_and_current_themes(coder: ThemeCoder) -> None:
    texts = HOUSING + PARKING + CLIMATE
    found = coder.explore(texts, granularity="coarse", min_size=3)
    assert found.granularity == "coarse" and found.clustered == tuple(range(len(texts)))
    groups = [set(d.members) for d in found.clusters]
    assert set(range(0, 5)) in groups and set(range(5, 10)) in groups
    housing = next(d for d in found.clusters if 0 in d.members)
    assert housing.examples_by_language == {"en": housing.members[:2]}
    assert {"rents", "landlords"} <= set(housing.keywords_by_language["en"])
    climate = next(d for d in found.clusters if 10 in d.members)
    assert "climate" in climate.current
    with pytest.raises(InvalidInput):
        coder.explore(texts, granularity="huge")


def test_preview_then_adopt_takes_the_group_and_leaves_the_rest(coder: ThemeCoder) -> None:
    texts = HOUSING + PARKING + CLIMATE
    found = coder.explore(texts, granularity="coarse", min_size=3)
    housing = next(d for d in found.clusters if 0 in d.members)
    theme = Theme(id="housing", name="Housing", examples=housing.examples,
                  origin="discovered")
    before = coder.code(texts)

    p = coder.preview(theme, texts, members=housing.members)

    assert set(p.taken) <= set(range(5)) and len(p.taken) >= 3  # its own group, nothing else
    assert p.threshold >= coder.options.threshold
    assert p.before == tuple(c.themes for c in before)
    assert "housing" not in {t.id for t in coder.themes}  # a preview adds nothing
    for i in range(10, 14):
        assert p.after[i] == p.before[i]  # the climate answers keep their coding

    coder.adopt(housing, theme_id="housing", name="Housing", threshold=p.threshold)
    after = coder.code(texts)
    assert tuple(c.themes for c in after) == p.after  # the preview said exactly what happens
    with pytest.raises(Conflict):
        coder.preview(theme, texts, members=housing.members)


def test_preview_rejects_members_outside_the_texts(coder: ThemeCoder) -> None:
    theme = Theme(id="housing", name="Housing", examples=tuple(HOUSING), origin="discovered")
    with pytest.raises(InvalidInput):
        coder.preview(theme, HOUSING, members=[7])


def test_an_adopted_theme_is_given_alongside_not_instead() -> None:
    from parley.consultation.analysis import CoderOptions
    from parley.consultation.analysis.scoring import _assign, _predict

    ids = ["climate", "economy", "energy"]
    options = CoderOptions(threshold=0.1, thresholds={"energy": 0.5}, margin=0.04)
    alone = np.array([False, False, True])
    scores = np.array([[0.30, 0.05, 0.60],    # energy passes its own cut: added to climate
                       [0.30, 0.05, 0.40],    # below its cut: climate only
                       [0.02, 0.05, 0.55]],   # nothing else fits: energy alone
                      dtype=np.float32)
    assert [_assign(row, ids, options, independent=alone) for row in scores] == \
        [("energy", "climate"), ("climate",), ("energy",)]
    # without independence the higher-scaled theme would crowd climate out (the margin rule)
    assert _assign(scores[0], ids, options) == ("energy",)
    thresholds = np.array([0.1, 0.1, 0.5], dtype=np.float32)
    assert _predict(scores, thresholds, 0.04, 3, independent=alone).tolist() == \
        [[True, False, True], [True, False, False], [False, False, True]]
