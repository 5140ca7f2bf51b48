"""What an organiser submits for a dialogue, and the checks that turn it into clean values.

The checks are pure (no database): `validate` reports every problem at once, keyed by field
name, so a form can mark them all; staff accounts are checked against the database by
`staff.Staff`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from parley.errors import InvalidInput, NotFound
from parley.handlers.patch import merged
from parley.reference import COUNTRY_CODES, N_, is_time_zone, normalise_language
from parley.storage.stores.dialogues import DialogueDetails
from parley.vocabulary import Visibility

DEFAULT_QUESTIONS: tuple[str, ...] = (
    N_("What future do we want to create?"),
    N_("Are we on track to get there?"),
    N_("What action is needed to close the gap?"),
)

TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 5000
QUESTION_MIN, QUESTION_MAX, QUESTIONS_MAX = 3, 500, 12
LANGUAGES_MAX = 12
INTERPRETERS_MAX = 24
CAPACITY_MIN, CAPACITY_MAX = 2, 500
DURATION_MIN, DURATION_MAX = 15, 480
ID_MAX = 2**31 - 1


@dataclass(frozen=True)
class DialogueInput:
    """What an organiser submits (form or API). ``starts_at`` is either a local date and
    time in ``time_zone`` (naive datetime or ``YYYY-MM-DDTHH:MM`` text) or an instant with
    an offset."""

    title: str = ""
    description: str = ""
    questions: Sequence[str] = DEFAULT_QUESTIONS
    starts_at: datetime | str | None = None
    time_zone: str = "UTC"
    # Numbers may arrive as form text; `validate` reads them.
    duration_minutes: int | str = 90
    capacity: int | str = 12
    languages: Sequence[str] = ("en",)
    country: str | None = None
    facilitator_id: int | str | None = None
    interpreters: Sequence[tuple[int | str, str]] = ()
    visibility: str = Visibility.PUBLIC.value

    def merged(self, changes: Mapping[str, Any]) -> DialogueInput:
        return merged(self, changes)


@dataclass(frozen=True)
class CleanDialogue(DialogueDetails):
    """The validated form: what the store sets on the dialogue, and its interpreters."""

    interpreters: list[tuple[int, str]]


def clean_text(value: object, *, multiline: bool = False) -> str | None:
    """Trimmed text, or None when it is not text or carries control characters."""
    if not isinstance(value, str):
        return None
    allowed = "\n\t" if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value.replace("\r\n", "\n")):
        return None
    text = value.replace("\r\n", "\n").strip()
    return text if multiline else " ".join(text.split())


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    return None


def parse_starts_at(value: datetime | str | None, zone: str | None) -> tuple[datetime | None, str | None]:
    """(UTC instant, error code). A local time that does not exist in the zone (a DST gap)
    is refused rather than silently moved; an ambiguous one takes its first occurrence."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            return None, "invalid"
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None, "invalid"
    if not isinstance(value, datetime):
        return None, "invalid"
    if not 2000 <= value.year <= 2200:
        return None, "out_of_range"
    # Dialogues start on a minute; dropping seconds keeps form round trips exact.
    value = value.replace(second=0, microsecond=0)
    if value.tzinfo is not None:
        return value.astimezone(UTC), None
    if zone is None:
        return None, None
    tz = ZoneInfo(zone)
    instant = value.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != value:
        return None, "nonexistent_time"
    return instant, None


def validate(data: DialogueInput) -> CleanDialogue:
    """Check every field and report all problems at once, keyed by field name."""
    errors: dict[str, str] = {}

    title = clean_text(data.title)
    if title is None:
        errors["title"] = "invalid"
    elif not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = "length"

    description = clean_text(data.description, multiline=True)
    if description is None:
        errors["description"] = "invalid"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = "length"

    questions: list[str] = []
    raw_questions = list(data.questions) if not isinstance(data.questions, str) else None
    if raw_questions is None:
        errors["questions"] = "invalid"
    else:
        for raw in raw_questions:
            q = clean_text(raw)
            if q is None:
                errors["questions"] = "invalid"
            elif q:
                if not QUESTION_MIN <= len(q) <= QUESTION_MAX:
                    errors["questions"] = "length"
                questions.append(q)
        if "questions" not in errors and not 1 <= len(questions) <= QUESTIONS_MAX:
            errors["questions"] = "count"

    zone = clean_text(data.time_zone) or ""
    if not is_time_zone(zone):
        errors["time_zone"] = "unknown_time_zone"
    starts_at, problem = parse_starts_at(data.starts_at, zone if "time_zone" not in errors else None)
    if problem:
        errors["starts_at"] = problem

    duration = _int(data.duration_minutes)
    if duration is None:
        errors["duration_minutes"] = "invalid"
    elif not DURATION_MIN <= duration <= DURATION_MAX:
        errors["duration_minutes"] = "range"

    capacity = _int(data.capacity)
    if capacity is None:
        errors["capacity"] = "invalid"
    elif not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        errors["capacity"] = "range"

    languages: list[str] = []
    if isinstance(data.languages, str):
        errors["languages"] = "invalid"
    else:
        for raw in data.languages:
            code = normalise_language(raw) if isinstance(raw, str) else None
            if code is None:
                errors["languages"] = "unknown_language"
            elif code not in languages:
                languages.append(code)
        if "languages" not in errors and not 1 <= len(languages) <= LANGUAGES_MAX:
            errors["languages"] = "count"

    country: str | None = None
    if data.country not in (None, ""):
        country = (clean_text(data.country) or "").upper()
        if country not in COUNTRY_CODES:
            errors["country"] = "unknown_country"

    facilitator_id: int | None = None
    if data.facilitator_id is not None and data.facilitator_id != "":
        facilitator_id = _int(data.facilitator_id)
        if facilitator_id is None or not 0 < facilitator_id <= ID_MAX:
            errors["facilitator_id"] = "invalid"

    interpreters: list[tuple[int, str]] = []
    for pair in data.interpreters:
        try:
            raw_user, raw_lang = pair
        except (TypeError, ValueError):
            errors["interpreters"] = "invalid"
            continue
        user_id = _int(raw_user)
        lang = normalise_language(raw_lang) if isinstance(raw_lang, str) else None
        if user_id is None or not 0 < user_id <= ID_MAX or lang is None:
            errors["interpreters"] = "invalid"
        elif lang not in languages:
            if "languages" not in errors:
                errors.setdefault("interpreters", "language_not_in_dialogue")
        elif (user_id, lang) not in interpreters:
            interpreters.append((user_id, lang))
    if len(interpreters) > INTERPRETERS_MAX:
        errors["interpreters"] = "count"

    try:
        visibility = Visibility(data.visibility)
    except ValueError:
        errors["visibility"] = "invalid"
        visibility = Visibility.PUBLIC

    if errors:
        raise InvalidInput("Some fields need attention.", fields=errors)
    assert title is not None and description is not None and duration is not None and capacity is not None
    return CleanDialogue(
        title=title,
        description=description,
        questions=questions,
        starts_at=starts_at,
        time_zone=zone,
        duration_minutes=duration,
        capacity=capacity,
        languages=languages,
        country=country,
        facilitator_id=facilitator_id,
        interpreters=interpreters,
        visibility=visibility,
    )


def check_id(dialogue_id: int) -> int:
    if not 0 < dialogue_id <= ID_MAX:
        raise NotFound("No such dialogue.", code="dialogue_not_found")
    return dialogue_id
