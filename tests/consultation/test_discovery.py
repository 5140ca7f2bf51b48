from __future__ import annotations

import numpy as np
import pytest

from parley.consultation.analysis import ThemeCoder
from parley.consultation.analysis.discovery import cluster, keywords, silhouette, spherical_kmeans, terms
from parley.consultation.analysis.embeddings import normalise

pytestmark = pytest.mark.unit


def blobs(centres: int, per: int, dim: int = 16, spread: float = 0.15, seed: int = 1) -> np.ndarray:
    """``centres`` tight groups of ``per`` unit vectors around random directions."""
    rng = np.random.default_rng(seed)
    groups = [normalise(rng.standard_normal(dim)) + spread * rng.standard_normal((per, dim)) / np.sqrt(dim)
              for _ in range(centres)]
    return normalise(np.concatenate(groups))


def test_kmeans_recovers_separated_groups() -> None:
    x = blobs(3, 10)
    assign, centres = spherical_kmeans(x, 3, seed=0)
    groups = [set(assign[i * 10:(i + 1) * 10]) for i in range(3)]
    assert all(len(g) == 1 for g in groups)
    assert len(set.union(*groups)) == 3
    assert np.allclose(np.linalg.norm(centres, axis=1), 1.0, atol=1e-5)


def test_silhouette_prefers_the_true_number_of_groups() -> None:
    x = blobs(4, 8)
    result = cluster(x, max_k=7, min_size=3)
    assert result.k == 4
    assert len(result.clusters) == 4
    assert result.silhouette > 0.5
    assert sorted(len(c.members) for c in result.clusters) == [8, 8, 8, 8]
    assert silhouette(x, np.zeros(len(x), dtype=np.int64)) == 0.0


def test_cluster_is_deterministic_and_orders_members_by_centrality() -> None:
    x = blobs(3, 9)
    first, second = cluster(x, seed=3), cluster(x, seed=3)
    assert [c.members for c in first.clusters] == [c.members for c in second.clusters]
    for c in first.clusters:
        closeness = x[list(c.members)] @ c.centroid
        assert list(closeness) == sorted(closeness, reverse=True)


def test_too_few_rows_give_no_clusters() -> None:
    assert cluster(blobs(1, 5), min_size=3).clusters == ()


def test_terms_handle_scripts() -> None:
    assert terms("The landlords RAISE rents!") == {"landlords", "raise", "rents"}
    assert terms("我覺得計程車") == {"計程", "程車", "得計"}
    assert "мигранты" in terms("Мигранты нужны.")


def test_keywords_favour_what_is_frequent_inside() -> None:
    inside = ["rents are too high", "landlords raise rents", "rents for tenants"]
    background = inside + ["climate is changing", "the climate matters", "too high taxes"]
    assert keywords(inside, background)[0] == "rents"


def test_discover_finds_an_uncovered_theme(coder: ThemeCoder) -> None:
    housing = ["Rents are too high and landlords raise rents.", "Landlords raise rents for tenants again.",
               "Tenants cannot pay rents to landlords.", "Rents and landlords are the problem for tenants."]
    traffic = ["Parking spaces downtown are always full.", "More parking spaces near the stadium please.",
               "Parking downtown costs too much, more spaces.", "The stadium parking spaces are too few."]
    covered = ["We must stop climate change now.", "Hospitals need more doctors."]
    texts = covered + housing + traffic
    found = coder.discover(texts, min_size=3)
    assert len(found) == 2
    groups = [set(d.members) for d in found]
    assert set(range(2, 6)) in groups
    assert set(range(6, 10)) in groups
    names = {d.id: d for d in found}
    assert set(names) == {"discovered-1", "discovered-2"}
    for d in found:
        assert d.keywords and d.name
        assert len(d.examples) == 3
        assert d.examples[0] == texts[d.members[0]]
        assert d.languages == {"en": 4}
    housing_theme = next(d for d in found if 2 in d.members)
    assert {"rents", "landlords"} <= set(housing_theme.keywords)

    theme = coder.adopt(housing_theme, theme_id="housing", name="Housing")
    assert theme.origin == "discovered"
    assert coder.code(["Landlords raise rents again."])[0].themes == ("housing",)


def test_discover_with_few_uncovered_returns_nothing(coder: ThemeCoder) -> None:
    assert coder.discover(["We must stop climate change now.", "Rents are high."]) == []
