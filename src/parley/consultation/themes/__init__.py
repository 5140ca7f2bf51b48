"""The consultation's theme analysis (see `service` for the data flow)."""

from __future__ import annotations

from parley.consultation.themes.service import (
    ANALYSIS_TOPIC,
    ANALYSTS,
    EXPORT_COLUMNS,
    SENTIMENT_LABELS,
    Analysis,
    AnalysisOptions,
    CodingView,
    EngineStatus,
    Example,
    RegistryTranslator,
    ReviewPage,
    RunResult,
    SourceCounts,
    SourceLink,
    Suggestion,
    TextTranslator,
    ThemeCount,
    ThemeInfo,
    TranslationView,
    check_analyst,
)

__all__ = [
    "ANALYSIS_TOPIC",
    "ANALYSTS",
    "EXPORT_COLUMNS",
    "SENTIMENT_LABELS",
    "Analysis",
    "AnalysisOptions",
    "CodingView",
    "EngineStatus",
    "Example",
    "RegistryTranslator",
    "ReviewPage",
    "RunResult",
    "SourceCounts",
    "SourceLink",
    "Suggestion",
    "TextTranslator",
    "ThemeCount",
    "ThemeInfo",
    "TranslationView",
    "check_analyst",
]
