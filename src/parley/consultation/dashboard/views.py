"""What the dashboard returns about the survey: counts per option and question, per
bucket of a breakdown, and per day or week of a trend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

Counts = dict[str, dict[Any, dict[str, int]]]  # question -> bucket -> option -> n


@dataclass(frozen=True)
class OptionCount:
    key: str
    label: str
    count: int
    share: float  # of those who answered the question


@dataclass(frozen=True)
class QuestionResult:
    key: str
    kind: str
    text: str
    answered: int
    options: list[OptionCount]


@dataclass(frozen=True)
class Bucket:
    value: str
    label: str
    responses: int
    answered: int = 0
    options: list[OptionCount] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    responses: int
    declined: int
    withdrawn: int
    questions: list[QuestionResult]
    plan: str


@dataclass(frozen=True)
class Breakdown:
    question: QuestionResult | None
    by: str
    buckets: list[Bucket]
    total: int
    plan: str


@dataclass(frozen=True)
class TrendPoint:
    start: date
    responses: int
    options: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Trend:
    interval: str
    points: list[TrendPoint]
    question: str | None
    plan: str
