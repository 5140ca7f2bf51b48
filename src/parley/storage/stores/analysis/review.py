"""What the review page reads: codings filtered by theme, source and confidence, page by
page, and the counts per theme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCoding, AnalysisCodingTheme, SourceType
from parley.storage.stores.analysis.codings import CodingInfo
from parley.storage.stores.analysis.visibility import OTHER, visible

Order = Literal["confidence", "recent"]


@dataclass(frozen=True)
class CodingFilter:
    theme: str | None = None  # a theme id, or OTHER for codings without a theme
    language: str | None = None
    source: SourceType | None = None
    sentiment: str | None = None
    dialogue_id: int | None = None
    order: Order = "confidence"


def _filter_conditions(f: CodingFilter) -> list[ColumnElement[bool]]:
    c = AnalysisCoding
    conds: list[ColumnElement[bool]] = [visible()]
    if f.theme == OTHER:
        conds.append(not_(exists().where(AnalysisCodingTheme.coding_id == c.id)))
    elif f.theme:
        conds.append(exists().where(AnalysisCodingTheme.coding_id == c.id, AnalysisCodingTheme.theme == f.theme))
    if f.language:
        conds.append(c.language == f.language)
    if f.source is not None:
        conds.append(c.source_type == f.source)
    if f.sentiment:
        conds.append(c.sentiment == f.sentiment)
    if f.dialogue_id is not None:
        conds.append(c.dialogue_id == f.dialogue_id)
    return conds


async def codings_page(s: AsyncSession, f: CodingFilter, *, offset: int, limit: int
                       ) -> tuple[list[CodingInfo], int]:
    """One page of visible codings matching ``f``, and how many match in all."""
    conds = _filter_conditions(f)
    c = AnalysisCoding
    order = [c.confidence, c.id] if f.order == "confidence" else [c.source_created_at.desc(), c.id.desc()]
    rows = [CodingInfo.of(row) for row in
            (await s.execute(select(c).where(*conds).order_by(*order).offset(offset).limit(limit))).scalars()]
    total = int((await s.execute(select(func.count()).select_from(c).where(*conds))).scalar_one())
    return rows, total


async def theme_counts(s: AsyncSession) -> list[tuple[str, str, str, str, int]]:
    """Rows of (theme or OTHER, source type, language, sentiment, count) over visible codings."""
    c, t = AnalysisCoding, AnalysisCodingTheme
    q = (
        select(t.theme, c.source_type, c.language, c.sentiment, func.count())
        .join(c, c.id == t.coding_id)
        .where(visible())
        .group_by(t.theme, c.source_type, c.language, c.sentiment)
    )
    rows = [(str(a), str(b.value if isinstance(b, SourceType) else b), str(lang), str(sent), int(n))
            for a, b, lang, sent, n in (await s.execute(q)).all()]
    q2 = (
        select(c.source_type, c.language, c.sentiment, func.count())
        .where(visible(), not_(exists().where(t.coding_id == c.id)))
        .group_by(c.source_type, c.language, c.sentiment)
    )
    rows += [(OTHER, str(b.value if isinstance(b, SourceType) else b), str(lang), str(sent), int(n))
             for b, lang, sent, n in (await s.execute(q2)).all()]
    return rows
