"""What analysts add: corrections of a coding (kept across recoding) and their own themes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCorrection, AnalysisTheme, SourceType
from parley.storage.stores.analysis.visibility import visible_for


async def corrections(s: AsyncSession) -> Sequence[AnalysisCorrection]:
    k = AnalysisCorrection
    q = select(k).where(visible_for(k.source_type, k.report_id, k.segment_id)).order_by(k.created_at, k.id)
    return (await s.execute(q)).scalars().all()


async def correction_for(s: AsyncSession, source_type: SourceType, source_key: str) -> AnalysisCorrection | None:
    q = select(AnalysisCorrection).where(AnalysisCorrection.source_type == source_type,
                                         AnalysisCorrection.source_key == source_key)
    return (await s.execute(q)).scalar_one_or_none()


async def save_correction(s: AsyncSession, correction: AnalysisCorrection) -> None:
    """Store an analyst's correction, replacing an earlier one of the same source."""
    await s.execute(delete(AnalysisCorrection).where(AnalysisCorrection.source_type == correction.source_type,
                                                     AnalysisCorrection.source_key == correction.source_key))
    s.add(correction)
    await s.flush()


def add_theme(s: AsyncSession, theme: AnalysisTheme) -> None:
    """A new theme, written when the caller's unit of work commits."""
    s.add(theme)


async def themes(s: AsyncSession) -> Sequence[AnalysisTheme]:
    return (await s.execute(select(AnalysisTheme).order_by(AnalysisTheme.created_at, AnalysisTheme.id))).scalars().all()
