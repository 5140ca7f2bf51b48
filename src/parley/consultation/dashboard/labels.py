"""Labels of breakdown values (regions, countries, demographics, languages) in the
reader's language, and the choices of the filter pickers.
"""

from __future__ import annotations

from typing import Any

from parley.consultation.dashboard.filters import DIMENSION_VALUES
from parley.consultation.regions import UNKNOWN_COUNTRY, country_name, region_name
from parley.i18n import language_name
from parley.reference import UNSTATED

LABEL_PREFIX = {"age": "age_group", "gender": "gender", "education": "education"}


def value_label(by: str, value: str, lang: str, definition: Any) -> str:
    if by == "region":
        return region_name(value, lang) if value != "unknown" else definition.label(UNSTATED, lang)
    if by == "country":
        return definition.label(UNSTATED, lang) if value == UNKNOWN_COUNTRY else country_name(value, lang)
    if by in LABEL_PREFIX:
        key = UNSTATED if value == UNSTATED else f"{LABEL_PREFIX[by]}.{value}"
        return str(definition.label(key, lang))
    if by == "language":
        return language_name(value, lang)
    return value


def dimension_choices(lang: str, definition: Any) -> dict[str, list[tuple[str, str]]]:
    """(value, label) lists for filter pickers."""
    from parley.consultation.regions import country_choices

    out: dict[str, list[tuple[str, str]]] = {
        dim: [(v, value_label(dim, v, lang, definition)) for v in values]
        for dim, values in DIMENSION_VALUES.items()
    }
    out["country"] = [(UNKNOWN_COUNTRY, definition.label(UNSTATED, lang)), *country_choices(lang)]
    return out
