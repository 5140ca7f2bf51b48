"""What coding takes and gives: the coder's options, an answer's coding, an analyst's correction."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from parley.consultation.analysis.language import LanguageGuess
from parley.consultation.analysis.sentiment import Sentiment, SentimentResult, parse_sentiment
from parley.errors import InvalidInput


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    score: float


@dataclass(frozen=True)
class Coding:
    """One answer's coding. ``themes`` is empty when nothing fits ("other")."""

    themes: tuple[str, ...]
    scores: tuple[ThemeScore, ...]  # every theme, best first
    language: LanguageGuess
    sentiment: SentimentResult
    source: Literal["model", "correction"] = "model"
    # The chance the first theme is right, where a curve is fitted for the model (see
    # `ConfidenceCurve`); else the best score. An analyst's own coding: 1.
    confidence: float = 0.0

    @property
    def other(self) -> bool:
        return not self.themes

    @property
    def best(self) -> ThemeScore | None:
        return self.scores[0] if self.scores else None


@dataclass(frozen=True)
class Correction:
    """An analyst's coding of one answer: the complete set of its themes (empty: "other").

    ``considered`` lists the themes that existed when the analyst decided, so the correction
    counts as evidence against those it left out, but says nothing about themes added later.
    """

    text: str
    themes: tuple[str, ...]
    considered: tuple[str, ...]
    sentiment: Sentiment | None = None
    language: str | None = None
    analyst: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Correction:
        try:
            sentiment = data.get("sentiment")
            return cls(
                text=str(data["text"]),
                themes=tuple(str(t) for t in data["themes"]),
                considered=tuple(str(t) for t in data.get("considered", data["themes"])),
                sentiment=parse_sentiment(str(sentiment)) if sentiment is not None else None,
                language=data.get("language"),
                analyst=data.get("analyst"),
                id=str(data.get("id") or uuid.uuid4().hex),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"not a correction: missing or wrong field ({exc})") from exc


@dataclass(frozen=True)
class CoderOptions:
    """Defaults for embedders without a fitted alignment were chosen on half of the labelled
    Pol.is sample; with one, `ThemeCoder` starts from the cut fitted with it (bench/data/README.md)."""

    threshold: float = 0.1  # minimum relative score for a theme
    # Per theme, where calibration found one that fits better than ``threshold``.
    thresholds: Mapping[str, float] = field(default_factory=dict)
    margin: float = 0.04  # a further theme must score within this of the best one
    # Without an alignment for the embedder: how much of each language's score offset to take
    # out (0: none). The offset is how much
    # higher or lower a language's seed examples score against the other languages' examples:
    # the same answer in Portuguese scored ~0.06 below its English original, which made
    # "other" depend on the language written in. See `_language_offsets`.
    language_offset: float = 0.5
    # Centre each text on its language's mean and scale its scores, where an alignment is
    # fitted for the embedder (see `LanguageAlignment`); its fitted cut is then the default.
    align_languages: bool = True
    max_themes: int = 3
    neighbours: int = 10  # corrected examples consulted per answer
    neighbour_weight: float = 0.2  # how far their vote moves a score
    temperature: float = 0.05  # how strongly the closest of them dominate the vote
    reuse_similarity: float = 0.97  # this close to a corrected answer: take the analyst's themes
    coverage: float = 0.2  # discovery clusters answers whose best score is below this (coded or not)
    cache_size: int = 20_000  # embeddings kept per text, so re-coding after a correction is cheap

    def __post_init__(self) -> None:
        if self.max_themes < 1 or self.neighbours < 1 or self.temperature <= 0 or self.margin < 0:
            raise ValueError(f"invalid coder options: {self}")

    def threshold_for(self, theme: str) -> float:
        return self.thresholds.get(theme, self.threshold)


def _check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise InvalidInput(f"{what} must be a list of strings, not one string", fields={what: "not_a_list"})
    items = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidInput(f"{what}[{i}] is not a string", fields={f"{what}[{i}]": "not_a_string"})
        if not text.strip():
            raise InvalidInput(f"{what}[{i}] is empty", fields={f"{what}[{i}]": "empty"})
    return items


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()

