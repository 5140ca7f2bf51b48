"""What analysts add: corrections of a coding (kept across recoding) and their own themes,
read as values (`CorrectionInfo`, `AdoptedTheme`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCorrection, AnalysisTheme, SourceType
from parley.storage.stores.analysis.visibility import visible_for


@dataclass(frozen=True)
class CorrectionInfo:
    """An analyst's coding of one source item; ``data`` is ``Correction.to_dict()`` (with
    a copy of the text)."""

    id: str
    source_type: SourceType
    source_key: str
    survey_text_id: int | None
    report_id: int | None
    segment_id: int | None
    data: dict[str, Any]
    analyst_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, row: AnalysisCorrection) -> CorrectionInfo:
        return cls(id=row.id, source_type=row.source_type, source_key=row.source_key,
                   survey_text_id=row.survey_text_id, report_id=row.report_id, segment_id=row.segment_id,
                   data=dict(row.data), analyst_id=row.analyst_id, created_at=row.created_at)


@dataclass(frozen=True)
class AdoptedTheme:
    """A theme analysts added; ``examples`` are ``{"text", "source_type", "source_key"}``."""

    id: str
    name: str
    names: dict[str, str]
    examples: list[dict[str, Any]]
    origin: str
    # The theme's own cut (None: the coder's).
    threshold: float | None
    created_at: datetime
    created_by_id: int | None

    @classmethod
    def of(cls, row: AnalysisTheme) -> AdoptedTheme:
        return cls(id=row.id, name=row.name, names=dict(row.names or {}), examples=list(row.examples),
                   origin=row.origin, threshold=row.threshold, created_at=row.created_at,
                   created_by_id=row.created_by_id)


async def corrections(s: AsyncSession) -> list[CorrectionInfo]:
    k = AnalysisCorrection
    q = select(k).where(visible_for(k.source_type, k.report_id, k.segment_id)).order_by(k.created_at, k.id)
    return [CorrectionInfo.of(row) for row in (await s.execute(q)).scalars()]


async def correction_for(s: AsyncSession, source_type: SourceType, source_key: str) -> CorrectionInfo | None:
    q = select(AnalysisCorrection).where(AnalysisCorrection.source_type == source_type,
                                         AnalysisCorrection.source_key == source_key)
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else CorrectionInfo.of(row)


async def save_correction(s: AsyncSession, correction: AnalysisCorrection) -> None:
    """Store an analyst's correction, replacing an earlier one of the same source."""
    await s.execute(delete(AnalysisCorrection).where(AnalysisCorrection.source_type == correction.source_type,
                                                     AnalysisCorrection.source_key == correction.source_key))
    s.add(correction)
    await s.flush()


def add_theme(s: AsyncSession, theme: AnalysisTheme) -> None:
    """A new theme, written when the caller's unit of work commits."""
    s.add(theme)


async def themes(s: AsyncSession) -> list[AdoptedTheme]:
    q = select(AnalysisTheme).order_by(AnalysisTheme.created_at, AnalysisTheme.id)
    return [AdoptedTheme.of(row) for row in (await s.execute(q)).scalars()]


async def set_examples(s: AsyncSession, theme_id: str, examples: Sequence[dict[str, Any]]) -> None:
    """The theme's examples now (some were withdrawn)."""
    await s.execute(update(AnalysisTheme).where(AnalysisTheme.id == theme_id).values(examples=list(examples)))
