"""Codings: inserted, updated or replaced (their themes and counts with them), read one
at a time, by staleness or for export, and purged when consent no longer covers them.
They are read as values (`CodingInfo`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import (
    AnalysisCoding,
    AnalysisCodingTheme,
    AnalysisCorrection,
    SourceType,
    TranscriptSegment,
)
from parley.storage.consultation_models import SurveyText
from parley.storage.stores.analysis.speaker_counts import counts_kept, recount_speakers, source_of
from parley.storage.stores.analysis.visibility import insert_for, visible, visible_for


@dataclass(frozen=True)
class CodingInfo:
    """The coding of one source item (`AnalysisCoding` says what each column holds)."""

    id: int
    source_type: SourceType
    source_key: str
    survey_text_id: int | None
    report_id: int | None
    report_section: str | None
    segment_id: int | None
    dialogue_id: int | None
    country: str | None
    language: str
    language_reliable: bool
    themes: list[str]
    # The best few themes with their scores, best first: [[theme, score], ...].
    scores: list[Any]
    confidence: float
    sentiment: str
    sentiment_confidence: float
    # model | correction | analyst
    origin: str
    correction_id: str | None
    coder_version: str
    vector: bytes | None
    # language -> {"text": ..., "engine": ...}
    translations: dict[str, Any]
    source_created_at: datetime
    coded_at: datetime

    @classmethod
    def of(cls, row: AnalysisCoding) -> CodingInfo:
        return cls(
            id=row.id, source_type=row.source_type, source_key=row.source_key, survey_text_id=row.survey_text_id,
            report_id=row.report_id, report_section=row.report_section, segment_id=row.segment_id,
            dialogue_id=row.dialogue_id, country=row.country, language=row.language,
            language_reliable=row.language_reliable, themes=list(row.themes), scores=list(row.scores),
            confidence=row.confidence, sentiment=row.sentiment, sentiment_confidence=row.sentiment_confidence,
            origin=row.origin, correction_id=row.correction_id, coder_version=row.coder_version, vector=row.vector,
            translations=dict(row.translations or {}), source_created_at=row.source_created_at,
            coded_at=row.coded_at,
        )


async def insert_codings(s: AsyncSession, rows: Sequence[Mapping[str, Any]],
                         themes: Mapping[str, Sequence[tuple[str, float]]]) -> int:
    """Insert new codings (a source already coded, e.g. by another process, is skipped) and
    their theme rows; ``themes`` is keyed by ``source_key``. Returns how many were new."""
    if not rows:
        return 0
    table = AnalysisCoding.__table__
    stmt = insert_for(s)(table).on_conflict_do_nothing(index_elements=["source_type", "source_key"])
    async with counts_kept(s, [r.get("survey_text_id") for r in rows], [r.get("segment_id") for r in rows]):
        result = await s.execute(stmt.returning(table.c.id, table.c.source_key), list(rows))
        created = result.all()
        theme_rows = [
            {"coding_id": cid, "theme": theme, "rank": rank, "score": score}
            for cid, key in created
            for rank, (theme, score) in enumerate(themes.get(key, ()))
        ]
        if theme_rows:
            await s.execute(insert(AnalysisCodingTheme), theme_rows)
    return len(created)


async def update_coding(s: AsyncSession, coding_id: int, values: Mapping[str, Any],
                        themes: Sequence[tuple[str, float]]) -> None:
    async with counts_kept(s, *await source_of(s, coding_id)):
        await s.execute(update(AnalysisCoding).where(AnalysisCoding.id == coding_id).values(**values)
                        .execution_options(synchronize_session=False))
        await _set_themes(s, coding_id, themes)


async def replace_coding(s: AsyncSession, coding_id: int, old_version: str, values: Mapping[str, Any],
                         themes: Sequence[tuple[str, float]]) -> bool:
    """Re-code: overwrite a model-made coding only if it is still the version that was read
    (an analyst's correction or another process's re-code in between wins)."""
    async with counts_kept(s, *await source_of(s, coding_id)):
        result = await s.execute(
            update(AnalysisCoding)
            .where(AnalysisCoding.id == coding_id, AnalysisCoding.coder_version == old_version,
                   AnalysisCoding.origin != "analyst")
            .values(**values)
            .execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        await _set_themes(s, coding_id, themes)
    return True


async def _set_themes(s: AsyncSession, coding_id: int, themes: Sequence[tuple[str, float]]) -> None:
    await s.execute(delete(AnalysisCodingTheme).where(AnalysisCodingTheme.coding_id == coding_id))
    if themes:
        await s.execute(insert(AnalysisCodingTheme), [
            {"coding_id": coding_id, "theme": t, "rank": i, "score": sc} for i, (t, sc) in enumerate(themes)])


async def coding_for_source(s: AsyncSession, source_type: SourceType, source_key: str) -> CodingInfo | None:
    q = select(AnalysisCoding).where(AnalysisCoding.source_type == source_type,
                                     AnalysisCoding.source_key == source_key, visible())
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else CodingInfo.of(row)


async def coding(s: AsyncSession, coding_id: int) -> CodingInfo | None:
    q = select(AnalysisCoding).where(AnalysisCoding.id == coding_id, visible())
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else CodingInfo.of(row)


async def stale(s: AsyncSession, version: str, after_id: int, limit: int) -> list[CodingInfo]:
    """Model-made codings from another coder version, in id order (analysts' stay as they are)."""
    q = (
        select(AnalysisCoding)
        .where(AnalysisCoding.coder_version != version, AnalysisCoding.origin != "analyst",
               AnalysisCoding.id > after_id)
        .order_by(AnalysisCoding.id)
        .limit(limit)
    )
    return [CodingInfo.of(row) for row in (await s.execute(q)).scalars()]


async def count_stale(s: AsyncSession, version: str) -> int:
    q = select(func.count()).select_from(AnalysisCoding).where(
        AnalysisCoding.coder_version != version, AnalysisCoding.origin != "analyst")
    return int((await s.execute(q)).scalar_one())


async def set_translation(s: AsyncSession, coding_id: int, translations: Mapping[str, Any]) -> None:
    await s.execute(update(AnalysisCoding).where(AnalysisCoding.id == coding_id)
                    .values(translations=dict(translations)))


async def export_page(s: AsyncSession, after_id: int, limit: int) -> list[CodingInfo]:
    q = select(AnalysisCoding).where(AnalysisCoding.id > after_id, visible()).order_by(AnalysisCoding.id).limit(limit)
    return [CodingInfo.of(row) for row in (await s.execute(q)).scalars()]


async def recent_codings(s: AsyncSession, limit: int) -> list[CodingInfo]:
    q = select(AnalysisCoding).where(visible()).order_by(AnalysisCoding.id.desc()).limit(limit)
    return [CodingInfo.of(row) for row in (await s.execute(q)).scalars()]


async def survey_response_ids(s: AsyncSession, text_ids: Sequence[int]) -> dict[int, int]:
    if not text_ids:
        return {}
    q = select(SurveyText.id, SurveyText.response_id).where(SurveyText.id.in_(list(text_ids)))
    return {int(a): int(b) for a, b in (await s.execute(q)).all()}


async def purge(s: AsyncSession) -> dict[str, int]:
    """Delete codings and corrections whose source consent no longer covers (a transcript
    speaker took consent back, a report was reopened). Returns codings deleted per source type."""
    seg, c = TranscriptSegment, AnalysisCoding
    speakers = select(seg.dialogue_id, seg.speaker_user_id).join(c, c.segment_id == seg.id).where(
        c.source_type == SourceType.TRANSCRIPT, seg.speaker_user_id.is_not(None), not_(visible())).distinct()
    pairs = [(int(d), int(u)) for d, u in (await s.execute(speakers)).all() if u is not None]
    deleted: dict[str, int] = {}
    for kind in SourceType:
        result = await s.execute(delete(c).where(c.source_type == kind, not_(visible())).execution_options(
            synchronize_session=False))
        if result.rowcount:  # type: ignore[attr-defined]
            deleted[kind.value] = int(result.rowcount)  # type: ignore[attr-defined]
    await recount_speakers(s, pairs)
    k = AnalysisCorrection
    await s.execute(delete(k).where(not_(visible_for(k.source_type, k.report_id, k.segment_id)))
                    .execution_options(synchronize_session=False))
    return deleted


async def delete_for_report(s: AsyncSession, report_id: int) -> None:
    """A reopened report is no longer a source: its codings and corrections go."""
    await s.execute(delete(AnalysisCoding).where(AnalysisCoding.report_id == report_id))
    await s.execute(delete(AnalysisCorrection).where(AnalysisCorrection.report_id == report_id))
