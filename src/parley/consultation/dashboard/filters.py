"""The slice a dashboard view shows: the dimensions it may be filtered and broken down
by, their fixed values, and `Filters` as read from (and written back to) the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from parley.consultation.questionnaire import GENDERS
from parley.consultation.regions import COUNTRIES, REGIONS
from parley.consultation.survey import N_
from parley.errors import InvalidInput
from parley.reference import AGE_GROUPS, EDUCATION, UNSTATED

DIMENSIONS = ("region", "country", "age", "gender", "education")  # filters, and breakdowns
BY_DIMENSIONS = (*DIMENSIONS, "language")  # breakdowns
BREAKDOWNS = (*BY_DIMENSIONS, "day", "week")
DIMENSION_VALUES: dict[str, tuple[str, ...]] = {
    "region": REGIONS,
    "age": (*AGE_GROUPS, UNSTATED),
    "gender": (*GENDERS, UNSTATED),
    "education": (*EDUCATION, UNSTATED),
}


@dataclass(frozen=True)
class Filters:
    """What slice of the responses a view shows; parsed from (and written back to) the URL."""

    region: str | None = None
    country: str | None = None
    age: str | None = None
    gender: str | None = None
    education: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        fields: dict[str, str] = {}
        values: dict[str, Any] = {}
        for dim in DIMENSIONS:
            raw = (params.get(dim) or "").strip()
            if not raw:
                continue
            value = raw.upper() if dim == "country" else raw.lower()
            allowed = COUNTRIES if dim == "country" else DIMENSION_VALUES[dim]
            if value not in allowed:
                fields[dim] = N_("Not a known value.")
            else:
                values[dim] = value
        for name, attr in (("from", "date_from"), ("to", "date_to")):
            raw = (params.get(name) or "").strip()
            if raw:
                try:
                    values[attr] = date.fromisoformat(raw)
                except ValueError:
                    fields[name] = N_("Use a date like 2025-01-31.")
        if fields:
            raise InvalidInput(N_("Some filters are not valid."), fields=fields, code="invalid_filter")
        return cls(**values)

    def query(self, **changes: Any) -> dict[str, str]:
        """URL parameters for these filters (with ``changes`` applied), for shareable links."""
        f = replace(self, **changes) if changes else self
        out = {dim: getattr(f, dim) for dim in DIMENSIONS if getattr(f, dim)}
        if f.date_from:
            out["from"] = f.date_from.isoformat()
        if f.date_to:
            out["to"] = f.date_to.isoformat()
        return out

    @property
    def active(self) -> bool:
        return bool(self.query())
