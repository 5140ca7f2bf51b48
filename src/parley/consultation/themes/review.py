"""The analysts' review: coded items page by page (in the reader's language where a
translation can be had), and corrections, which the coder learns at once and every process
takes on its next pass."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from parley.clock import Clock
from parley.consultation.themes.access import N_, check_analyst
from parley.consultation.themes.model import CoderModel
from parley.consultation.themes.translation import Translations
from parley.consultation.themes.views import CodingView, ReviewPage, source_link
from parley.errors import InvalidInput, NotFound
from parley.storage.analysis_models import AnalysisCorrection
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.analysis import OTHER, CodingFilter, CodingInfo, SourceItem
from parley.vocabulary import SourceType

log = logging.getLogger(__name__)

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")  # as analysis.SENTIMENTS
Announce = Callable[[Mapping[str, Any]], Awaitable[None]]  # tells every process the coder changed


class Review:
    def __init__(self, db: Database, clock: Clock, model: CoderModel, translations: Translations,
                 announce: Announce) -> None:
        self.db = db
        self.clock = clock
        self.model = model
        self.translations = translations
        self.announce = announce

    async def review(self, actor: Account, f: CodingFilter, *, page: int = 1, per_page: int = 25,
                     reader_language: str = "en") -> ReviewPage:
        check_analyst(actor)
        page = max(1, min(page, 100_000))
        per_page = max(1, min(per_page, 200))
        async with self.db.session() as s:
            rows, total = await store.codings_page(s, f, offset=(page - 1) * per_page, limit=per_page)
            found = await store.sources(s, [(r.source_type, r.source_key) for r in rows])
        items = await self._views(list(rows), found, reader_language)
        return ReviewPage(items=items, total=total, page=page, per_page=per_page)

    async def item(self, actor: Account, coding_id: int, *, reader_language: str = "en") -> CodingView:
        check_analyst(actor)
        if not 0 < coding_id <= store.ID_MAX:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        async with self.db.session() as s:
            row = await store.coding(s, coding_id)
            if row is None:
                raise NotFound(N_("No such coded item."), code="coding_not_found")
            found = await store.sources(s, [(row.source_type, row.source_key)])
        views = await self._views([row], found, reader_language)
        if not views:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        return views[0]

    async def source(self, actor: Account, ref: str, *, reader_language: str = "en") -> CodingView:
        """An item by its source reference (``survey:12``), for links to survey answers."""
        check_analyst(actor)
        parsed = store.parse_ref(ref)
        if parsed is None:
            raise NotFound(N_("No such source."), code="source_not_found")
        async with self.db.session() as s:
            row = await store.coding_for_source(s, *parsed)
        if row is None:
            raise NotFound(N_("No such source, or it is not coded yet."), code="source_not_found")
        return await self.item(actor, row.id, reader_language=reader_language)

    async def _views(self, rows: list[CodingInfo], found: Mapping[tuple[SourceType, str], SourceItem],
                     reader_language: str) -> list[CodingView]:
        pairs = [(r, found[(r.source_type, r.source_key)]) for r in rows if (r.source_type, r.source_key) in found]
        translations = await self.translations.of_items(pairs, reader_language)
        views = []
        for row, item in pairs:
            views.append(CodingView(
                id=row.id, source=source_link(item), text=item.text, language=row.language,
                language_reliable=row.language_reliable, quotable=item.quotable,
                translation=translations.get(row.id), themes=tuple(row.themes),
                scores=tuple((str(t), float(sc)) for t, sc in row.scores), confidence=row.confidence,
                sentiment=row.sentiment, sentiment_confidence=row.sentiment_confidence, origin=row.origin,
                country=row.country, coder_version=row.coder_version, coded_at=row.coded_at,
                created_at=row.source_created_at,
            ))
        return views

    async def correct(self, actor: Account, coding_id: int, *, themes: Sequence[str],
                      sentiment: str | None = None) -> CodingView:
        """An analyst's coding of one item: persisted, taught to the coder at once, and every
        other item is re-coded by the next pass (which this starts)."""
        check_analyst(actor)
        coder = await self.model.ensure_coder()
        chosen = list(dict.fromkeys(t.strip() for t in themes if t.strip()))
        if not 0 < coding_id <= store.ID_MAX:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        known = {t.id for t in coder.themes}
        unknown = [t for t in chosen if t not in known and t != OTHER]
        if unknown or (OTHER in chosen and len(chosen) > 1):
            raise InvalidInput(N_("Choose themes from the list (or only “Other”)."), fields={"themes": "unknown"})
        chosen = [t for t in chosen if t != OTHER]
        if sentiment is not None and sentiment not in SENTIMENT_LABELS:
            raise InvalidInput(N_("Choose a sentiment from the list."), fields={"sentiment": "unknown"})
        async with self.db.session() as s:
            row = await store.coding(s, coding_id)
            if row is None:
                raise NotFound(N_("No such coded item."), code="coding_not_found")
            found = await store.sources(s, [(row.source_type, row.source_key)])
            existing = await store.correction_for(s, row.source_type, row.source_key)
        item = found.get((row.source_type, row.source_key))
        if item is None:
            raise NotFound(N_("No such coded item."), code="coding_not_found")
        async with self.model.write_lock:
            correction = await coder.acorrect(
                item.text, chosen, sentiment=sentiment, analyst=f"user:{actor.id}", language=row.language,
                id=existing.id if existing else None)
            self.model.refresh_version(coder)
            score_of = {str(t): float(sc) for t, sc in row.scores}
            values: dict[str, Any] = {
                "themes": list(correction.themes), "origin": "analyst", "correction_id": correction.id,
                "coder_version": self.model.version, "coded_at": self.clock.now(),
            }
            if sentiment is not None:
                values["sentiment"] = sentiment
                values["sentiment_confidence"] = 1.0
            async with self.db.session() as s:
                await store.save_correction(s, AnalysisCorrection(
                    id=correction.id, data=correction.to_dict(), analyst_id=actor.id, created_at=self.clock.now(),
                    **_correction_columns(item)))
                await store.update_coding(s, row.id, values, [(t, score_of.get(t, 0.0)) for t in correction.themes])
        log.info("coding %d corrected by user %d", coding_id, actor.id)
        await self.announce({"type": "analysis.model", "correction": correction.id})
        return await self.item(actor, coding_id)


def _correction_columns(item: SourceItem) -> dict[str, Any]:
    return {
        "source_type": item.type, "source_key": item.key, "survey_text_id": item.survey_text_id,
        "report_id": item.report_id, "segment_id": item.segment_id,
    }
