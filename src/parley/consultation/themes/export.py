"""The codings as rows for a CSV: identifiers, themes, scores and sentiment; never the text
or anything personal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from parley.consultation.themes.access import check_analyst
from parley.storage.database import Database
from parley.storage.stores import analysis as store
from parley.storage.stores.accounts import Account

EXPORT_COLUMNS = ("coding_id", "source_type", "source_id", "survey_response_id", "report_id", "report_section",
                  "transcript_segment_id", "dialogue_id", "country", "language", "themes", "scores", "confidence",
                  "sentiment", "sentiment_confidence", "coded_by", "coder_version", "date")


async def export_rows(db: Database, actor: Account, *, page: int = 2000) -> AsyncIterator[dict[str, Any]]:
    """Codings without text or personal data: source ids, themes, scores, sentiment."""
    check_analyst(actor)
    after = 0
    while True:
        async with db.session() as s:
            rows = list(await store.export_page(s, after, page))
            responses = await store.survey_response_ids(
                s, [r.survey_text_id for r in rows if r.survey_text_id is not None])
        if not rows:
            return
        for r in rows:
            yield {
                "coding_id": r.id,
                "source_type": r.source_type.value,
                "source_id": r.source_key,
                "survey_response_id": responses.get(r.survey_text_id or -1, ""),
                "report_id": r.report_id or "",
                "report_section": r.report_section or "",
                "transcript_segment_id": r.segment_id or "",
                "dialogue_id": r.dialogue_id or "",
                "country": r.country or "",
                "language": r.language,
                "themes": ";".join(r.themes),
                "scores": ";".join(f"{t}={float(sc):.4f}" for t, sc in r.scores),
                "confidence": f"{r.confidence:.4f}",
                "sentiment": r.sentiment,
                "sentiment_confidence": f"{r.sentiment_confidence:.4f}",
                "coded_by": r.origin,
                "coder_version": r.coder_version,
                "date": r.source_created_at.date().isoformat(),
            }
        after = rows[-1].id
        if len(rows) < page:
            return
