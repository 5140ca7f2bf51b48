"""The values the survey hands around: the loaded version, answers as typed and as
validated, the receipt of a submission and a consented free-text answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from parley.consultation.questionnaire import Codebook, Definition
from parley.consultation.regions import UNKNOWN_COUNTRY
from parley.reference import UNSTATED
from parley.storage.stores.survey import TextInfo

Status = Literal["counted", "declined", "withdrawn"]


@dataclass(frozen=True)
class LoadedSurvey:
    """The current version of a survey, as the handler caches it."""

    id: int
    slug: str
    version_id: int
    version_number: int
    definition: Definition
    codebook: Codebook


@dataclass(frozen=True)
class Submission:
    """Validated answers. Choice answers are option keys; texts are already cleaned."""

    version_id: int
    language: str
    consent_analysis: bool
    consent_quotes: bool = False
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    others: Mapping[str, str] = field(default_factory=dict)
    country: str = UNKNOWN_COUNTRY
    age_group: str = UNSTATED
    gender: str = UNSTATED
    education: str = UNSTATED
    channel: str = "web"

    def fingerprint(self) -> str:
        data = {
            "language": self.language, "consent": [self.consent_analysis, self.consent_quotes],
            "choices": {k: sorted(v) for k, v in sorted(self.choices.items())},
            "texts": dict(sorted(self.texts.items())), "others": dict(sorted(self.others.items())),
            "demographics": [self.country, self.age_group, self.gender, self.education],
        }
        if not self.consent_analysis:
            data = {"consent": [False]}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Receipt:
    status: Status
    withdrawal_code: str | None
    replayed: bool = False
    # The same key came back with different answers: the first ones stand.
    mismatch: bool = False


# A consented free-text answer, for theme coding: the store's value as it is.
TextAnswer = TextInfo


@dataclass
class RawSubmission:
    """Answers as typed, from a form or JSON; validated by `Surveys.validate`."""

    language: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    age_group: str | None = None
    gender: str | None = None
    country: str | None = None
    education: str | None = None
    consent_analysis: Any = None
    consent_quotes: Any = None
    channel: str | None = None
