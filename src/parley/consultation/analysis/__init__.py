"""Multilingual analysis of consultation answers: themes, sentiment, language.

    answers (any language) --Embedder--> unit vectors (one shared multilingual space)
         |                                 |
         +--LanguageIdentifier--> ISO code |
                                           v
    seed themes (9 languages) ---> prototypes --+--> ThemeCoder.code() -> [Coding]
    analysts' corrections -----> labelled examples (neighbour vote, exact reuse)
    sentiment anchors ---------> SentimentClassifier ---------+
    answers ---explore(granularity)--> Discovery [DiscoveredTheme] --preview()--> AdoptionPreview
                                                      --adopt()--> new Theme (own threshold)

Everything is blocking CPU work; the ``a``-prefixed methods run it in a worker thread.

The theme coder in parts (``coder.ThemeCoder`` composes them):

    themes             the Theme type, the seed themes
    coding             options, Coding, Correction
    scoring            pure functions over centred unit vectors
    alignment, probe   what is fitted per embedding model: language means, a theme probe
    coder_base         state, coding, corrections
    coder_calibration  fitting threshold and margin to the corrections
    coder_discovery    clusters of answers, preview and adoption of one
"""

from __future__ import annotations

from parley.consultation.analysis.adoption import MAX_SHARE, AdoptionPreview, check_share
from parley.consultation.analysis.coder import ThemeCoder
from parley.consultation.analysis.coder_calibration import Calibration
from parley.consultation.analysis.coder_discovery import DiscoveredTheme, Discovery
from parley.consultation.analysis.coding import CoderOptions, Coding, Correction, ThemeScore
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
from parley.consultation.analysis.themes import Theme, seed_themes

__all__ = [
    "MAX_SHARE",
    "SENTIMENTS",
    "AdoptionPreview",
    "Calibration",
    "CoderOptions",
    "Coding",
    "Correction",
    "DiscoveredTheme",
    "Discovery",
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
    "check_share",
    "detect_language",
    "seed_themes",
]
