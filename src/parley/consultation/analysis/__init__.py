"""Multilingual analysis of consultation answers: themes, sentiment, language.

    answers (any language) --Embedder--> unit vectors (one shared multilingual space)
         |                                 |
         +--LanguageIdentifier--> ISO code |
                                           v
    seed themes (9 languages) ---> prototypes --+--> ThemeCoder.code() -> [Coding]
    analysts' corrections -----> labelled examples (neighbour vote, exact reuse)
    sentiment anchors ---------> SentimentClassifier ---------+
    uncovered answers ---------> discover() -> [DiscoveredTheme] -> adopt() -> new Theme

Everything is blocking CPU work; the ``a``-prefixed methods run it in a worker thread.
"""

from __future__ import annotations

from parley.consultation.analysis.embeddings import E5Embedder, Embedder, EmbedderInfo
from parley.consultation.analysis.language import LanguageGuess, LanguageIdentifier, detect_language
from parley.consultation.analysis.sentiment import (
    SENTIMENTS,
    Sentiment,
    SentimentCheck,
    SentimentClassifier,
    SentimentOptions,
    SentimentResult,
)
from parley.consultation.analysis.themes import (
    Calibration,
    CoderOptions,
    Coding,
    Correction,
    DiscoveredTheme,
    Theme,
    ThemeCoder,
    ThemeScore,
    seed_themes,
)

__all__ = [
    "SENTIMENTS",
    "Calibration",
    "CoderOptions",
    "Coding",
    "Correction",
    "DiscoveredTheme",
    "E5Embedder",
    "Embedder",
    "EmbedderInfo",
    "LanguageGuess",
    "LanguageIdentifier",
    "Sentiment",
    "SentimentCheck",
    "SentimentClassifier",
    "SentimentOptions",
    "SentimentResult",
    "Theme",
    "ThemeCoder",
    "ThemeScore",
    "detect_language",
    "seed_themes",
]
