"""Consent in SQL: which codings may be read now (survey texts exist only with consent;
transcript lines need the speaker's transcript consent, reports their submission). Every
read of codings includes `visible()`, so no caller can forget it. The other parts also take
from here the "no theme" key (`OTHER`) and the dialect's INSERT for upserts (`insert_for`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCoding, Report, ReportStatus, SourceType, TranscriptSegment
from parley.storage.models import Registration
from parley.vocabulary import OTHER as OTHER  # "_other": the key of codings without a theme


def insert_for(s: AsyncSession) -> Any:
    """The dialect's INSERT (with ON CONFLICT) for this session's database."""
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def visible_for(source_type: Any, report_id: Any, segment_id: Any) -> ColumnElement[bool]:
    transcript_ok = exists().where(
        TranscriptSegment.id == segment_id,
        Registration.dialogue_id == TranscriptSegment.dialogue_id,
        Registration.user_id == TranscriptSegment.speaker_user_id,
        Registration.consent_transcript.is_(True),
    )
    report_ok = exists().where(Report.id == report_id, Report.status == ReportStatus.SUBMITTED)
    return or_(
        source_type == SourceType.SURVEY,
        and_(source_type == SourceType.REPORT, report_ok),
        and_(source_type == SourceType.TRANSCRIPT, transcript_ok),
    )


def visible() -> ColumnElement[bool]:
    """Codings whose source may be analysed now (survey texts exist only with consent)."""
    c = AnalysisCoding
    return visible_for(c.source_type, c.report_id, c.segment_id)


