"""The public listing: upcoming public dialogues matching the visitor's filters, and how many
dialogues each country has held.

Filters arrive as URL text and are checked all at once; a date range is read in the
viewer's time zone. The per-country counts ignore the text search so they never reveal the
titles of invite-only dialogues.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from parley.errors import InvalidInput
from parley.handlers.dialogues.reading import summarise
from parley.handlers.dialogues.states import HELD_STATES, OPEN_STATES
from parley.handlers.dialogues.validation import clean_text
from parley.handlers.dialogues.views import DialogueSummary
from parley.reference import COUNTRY_CODES, is_time_zone, normalise_language
from parley.storage.database import Database
from parley.storage.stores import dialogues as store

PER_PAGE_MAX = 100
PAGE_MAX = 10_000


@dataclass(frozen=True)
class CountryCount:
    country: str
    dialogues: int


@dataclass(frozen=True)
class ListingQuery:
    """The public listing's filters, exactly as they arrive in the URL."""

    q: str = ""
    language: str = ""
    country: str = ""
    date_from: str = ""
    date_to: str = ""
    page: int = 1
    per_page: int = 20
    # The zone the date range is read in (the viewer's).
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    items: list[DialogueSummary]
    total: int
    page: int
    per_page: int
    countries: list[CountryCount]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


class Listings:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def listing(self, query: ListingQuery) -> Listing:
        """Upcoming public dialogues matching the filters, and dialogues held per country."""
        q, where_all, where_counts, page, per_page = self._filters(query)
        async with self.db.session() as s:
            rows, total = await store.search(
                s, where_all, states=OPEN_STATES, public_only=True, offset=(page - 1) * per_page, limit=per_page
            )
            counts = await store.country_counts(s, where_counts, states=HELD_STATES)
            items = await summarise(s, rows)
        return Listing(
            query=q,
            items=items,
            total=total,
            page=page,
            per_page=per_page,
            countries=[CountryCount(c, n) for c, n in counts],
        )

    def _filters(
        self, query: ListingQuery
    ) -> tuple[ListingQuery, store.Filters, store.Filters, int, int]:
        errors: dict[str, str] = {}
        text = clean_text(query.q)
        if text is None or len(text) > 200:
            errors["q"] = "invalid"
            text = ""
        language = ""
        if query.language:
            language = normalise_language(query.language) or ""
            if not language:
                errors["language"] = "unknown_language"
        country = (query.country or "").strip().upper()
        if country and country not in COUNTRY_CODES:
            errors["country"] = "unknown_country"
        zone = query.time_zone if is_time_zone(query.time_zone) else "UTC"
        day_from = _parse_date(query.date_from)
        if day_from is False:
            errors["date_from"] = "invalid_date"
        day_to = _parse_date(query.date_to)
        if day_to is False:
            errors["date_to"] = "invalid_date"
        if isinstance(day_from, date) and isinstance(day_to, date) and day_to < day_from:
            errors["date_to"] = "before_start"
        if not 1 <= query.page <= PAGE_MAX:
            errors["page"] = "range"
        if not 1 <= query.per_page <= PER_PAGE_MAX:
            errors["per_page"] = "range"
        if errors:
            raise InvalidInput("Some filters are not valid.", fields=errors, code="invalid_filter")
        tz = ZoneInfo(zone)
        starts_from = (
            datetime.combine(day_from, datetime.min.time(), tz).astimezone(UTC) if isinstance(day_from, date) else None
        )
        starts_before = (
            datetime.combine(day_to + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
            if isinstance(day_to, date)
            else None
        )
        cleaned = dataclasses.replace(query, q=text, language=language, country=country, time_zone=zone)
        # The text search finds dialogues to join; the per-country counts ignore it so they
        # never reveal the titles of invite-only dialogues.
        where_all = store.Filters(
            q=text, language=language, country=country, starts_from=starts_from, starts_before=starts_before
        )
        where_counts = store.Filters(
            language=language, country=country, starts_from=starts_from, starts_before=starts_before
        )
        return cleaned, where_all, where_counts, query.page, query.per_page


def _parse_date(value: str) -> date | None | bool:
    """A ``YYYY-MM-DD`` date, None when empty, False when unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) != 10:
        return False
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False
