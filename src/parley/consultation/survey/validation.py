"""Checking answers as typed against the current version: every bad field named at
once, texts cleaned, an own "other" answer counted as choosing "other".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from parley.consultation.questionnaire import DEMOGRAPHICS, OTHER, Question
from parley.consultation.regions import COUNTRIES, UNKNOWN_COUNTRY
from parley.consultation.survey.loading import Loader
from parley.consultation.survey.views import LoadedSurvey, RawSubmission, Submission
from parley.errors import InvalidInput
from parley.reference import N_, UNSTATED

CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")


def clean_text(value: str, limit: int) -> str:
    """Trim, normalise and drop control characters (keeping new lines)."""
    text = unicodedata.normalize("NFC", value)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())[: limit + 1]


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"yes", "true", "1", "on"}:
            return True
        if v in {"no", "false", "0", "off"}:
            return False
    return None


class Validator:
    """Answers as typed -> a `Submission`, against the current version."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    async def validate(self, raw: RawSubmission, *, trusted_channel: bool = False,
                       survey: LoadedSurvey | None = None) -> Submission:
        """Check answers against the current version (or ``survey``, for batches); `InvalidInput`
        names every bad field."""
        survey = survey or await self.loader.current()
        d = survey.definition
        fields: dict[str, str] = {}
        language = d.language(raw.language)
        if raw.language and raw.language.split("-")[0].lower() not in d.languages and raw.language not in d.languages:
            fields["language"] = N_("This survey is not available in that language.")
        consent = _as_bool(raw.consent_analysis)
        if consent is None:
            fields["consent_analysis"] = N_("Tell us whether we may use your answers.")
        quotes = bool(_as_bool(raw.consent_quotes))
        channel = "web"
        if trusted_channel and raw.channel:
            if not CHANNEL_RE.match(raw.channel):
                fields["channel"] = N_("Use up to 16 lowercase letters, digits, - or _.")
            channel = raw.channel
        elif trusted_channel:
            channel = "api"
        if consent is False:
            # Nothing they answered is kept, so nothing else needs checking.
            if fields:
                raise InvalidInput(N_("Some answers need another look."), fields=fields)
            return Submission(version_id=survey.version_id, language=language, consent_analysis=False,
                              channel=channel)

        choices: dict[str, tuple[str, ...]] = {}
        texts: dict[str, str] = {}
        others: dict[str, str] = {}
        known = {q.key for q in d.questions}
        for key in raw.answers:
            if key not in known:
                fields[f"answers.{key}"] = N_("This survey has no such question.")
        for q in d.questions:
            self._check_answer(q, raw, fields, choices, texts, others)
        demographics: dict[str, str] = {}
        for name, allowed in DEMOGRAPHICS.items():
            value = getattr(raw, name)
            value = (value or "").strip() if isinstance(value, str) else value
            if value in (None, "", UNSTATED):
                demographics[name] = UNSTATED
            elif value in allowed:
                demographics[name] = value
            else:
                fields[name] = N_("Choose one of the listed answers.")
        country = (raw.country or "").strip().upper() if isinstance(raw.country, str) else ""
        if country in ("", UNKNOWN_COUNTRY, UNSTATED.upper()):
            country = UNKNOWN_COUNTRY
        elif country not in COUNTRIES:
            fields["country"] = N_("Choose a country from the list.")
        if fields:
            raise InvalidInput(N_("Some answers need another look."), fields=fields)
        return Submission(
            version_id=survey.version_id, language=language, consent_analysis=True, consent_quotes=quotes,
            choices=choices, texts=texts, others=others, country=country, channel=channel, **demographics,
        )

    @staticmethod
    def _check_answer(q: Question, raw: RawSubmission, fields: dict[str, str],
                      choices: dict[str, tuple[str, ...]], texts: dict[str, str], others: dict[str, str]) -> None:
        name = f"answers.{q.key}"
        value = raw.answers.get(q.key)
        if q.kind == "text":
            if value is not None and not isinstance(value, str):
                fields[name] = N_("Write your answer as text.")
                return
            text = clean_text(value or "", q.max_length)
            if len(text) > q.max_length:
                fields[name] = N_("Your answer is too long; please shorten it.")
            elif text:
                texts[q.key] = text
            elif q.required:
                fields[name] = N_("Please answer this question.")
            return
        if value is None or value == "":
            picked: list[str] = []
        elif isinstance(value, str):
            picked = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            picked = [v for v in value if v]
        else:
            fields[name] = N_("Choose from the listed answers.")
            return
        other_raw = raw.other.get(q.key)
        other_text = clean_text(other_raw, 500) if isinstance(other_raw, str) and q.allow_other else ""
        if other_text and OTHER not in picked:
            # Typing an own answer is choosing "other".
            picked.append(OTHER)
        picked = list(dict.fromkeys(picked))
        keys = set(q.option_keys)
        if any(p not in keys for p in picked):
            fields[name] = N_("Choose from the listed answers.")
            return
        limit = q.max_choices if q.kind == "multi" else 1
        if len(picked) > limit:
            fields[name] = N_("Choose one answer.") if limit == 1 else N_("You chose too many answers.")
            return
        if not picked:
            if q.required:
                fields[name] = N_("Please answer this question.")
            return
        if len(other_text) > 500:
            fields[f"other.{q.key}"] = N_("Your answer is too long; please shorten it.")
            return
        choices[q.key] = tuple(picked)
        if other_text:
            others[q.key] = other_text
