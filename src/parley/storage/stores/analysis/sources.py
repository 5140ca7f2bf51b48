"""The texts to code: survey answers, consented transcript lines and submitted reports'
sections not coded yet, read page by page, and any of them by reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCoding, Report, ReportStatus, SourceType, TranscriptSegment
from parley.storage.consultation_models import SurveyText
from parley.storage.models import Dialogue, Registration

# Report sections that are coded, with the column holding each one's text.
REPORT_SECTIONS: dict[str, str] = {
    "future": "future",
    "on_track": "on_track_text",
    "actions": "actions",
    "notes": "notes",
}


@dataclass(frozen=True)
class SourceItem:
    """One text to code, with what links it back to where it came from."""

    type: SourceType
    key: str
    text: str
    created_at: datetime
    language: str = "und"  # what the source says (survey form language, ASR language)
    country: str | None = None
    dialogue_id: int | None = None
    survey_text_id: int | None = None
    response_id: int | None = None
    question: str | None = None
    report_id: int | None = None
    report_section: str | None = None
    segment_id: int | None = None
    started_at: datetime | None = None
    # May the text be quoted (survey: quotation consent; transcript: consent_quotes)?
    quotable: bool = False

    @property
    def ref(self) -> str:
        return f"{self.type.value}:{self.key}"


def parse_ref(ref: str) -> tuple[SourceType, str] | None:
    kind, _, key = ref.partition(":")
    try:
        return SourceType(kind), key
    except ValueError:
        return None


def _not_coded(source_type: SourceType, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
    return not_(exists().where(AnalysisCoding.source_type == source_type, *conds))


def _survey_item(t: SurveyText) -> SourceItem:
    return SourceItem(
        type=SourceType.SURVEY, key=str(t.id), text=t.body, created_at=t.created_at, language=t.language,
        country=t.country or None, survey_text_id=t.id, response_id=t.response_id, question=t.question,
        quotable=t.quotable,
    )


def _segment_item(seg: TranscriptSegment, reg: Registration, country: str | None) -> SourceItem:
    return SourceItem(
        type=SourceType.TRANSCRIPT, key=str(seg.id), text=seg.text, created_at=seg.created_at,
        language=seg.language, country=country, dialogue_id=seg.dialogue_id, segment_id=seg.id,
        started_at=seg.started_at, quotable=bool(reg.consent_quotes),
    )


def _report_items(r: Report, d: Dialogue) -> list[SourceItem]:
    items = []
    for section, column in REPORT_SECTIONS.items():
        text = str(getattr(r, column) or "")
        if text.strip():
            items.append(SourceItem(
                type=SourceType.REPORT, key=f"{r.id}:{section}", text=text,
                created_at=r.submitted_at or r.updated_at, language=r.language, country=d.country,
                dialogue_id=d.id, report_id=r.id, report_section=section,
            ))
    return items


async def pending_survey(s: AsyncSession, after_id: int, limit: int) -> list[SourceItem]:
    """Survey texts without a coding, in id order after ``after_id``."""
    q = (
        select(SurveyText)
        .where(SurveyText.id > after_id,
               _not_coded(SourceType.SURVEY, AnalysisCoding.survey_text_id == SurveyText.id))
        .order_by(SurveyText.id)
        .limit(limit)
    )
    return [_survey_item(t) for t in (await s.execute(q)).scalars()]


async def pending_transcripts(s: AsyncSession, after_id: int, limit: int) -> list[SourceItem]:
    """Consented transcript segments without a coding, in id order after ``after_id``."""
    q = (
        select(TranscriptSegment, Registration, Dialogue.country)
        .join(Registration, and_(Registration.dialogue_id == TranscriptSegment.dialogue_id,
                                 Registration.user_id == TranscriptSegment.speaker_user_id))
        .join(Dialogue, Dialogue.id == TranscriptSegment.dialogue_id)
        .where(TranscriptSegment.id > after_id, Registration.consent_transcript.is_(True),
               func.trim(TranscriptSegment.text) != "",
               _not_coded(SourceType.TRANSCRIPT, AnalysisCoding.segment_id == TranscriptSegment.id))
        .order_by(TranscriptSegment.id)
        .limit(limit)
    )
    return [_segment_item(seg, reg, country) for seg, reg, country in (await s.execute(q)).unique().all()]


async def pending_reports(s: AsyncSession, after_id: int, limit: int) -> tuple[list[SourceItem], int | None]:
    """Sections of submitted reports (id > ``after_id``) that have no coding yet; also the
    last report id looked at (None when there were no more)."""
    q = (
        select(Report, Dialogue)
        .join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.id > after_id, Report.status == ReportStatus.SUBMITTED)
        .order_by(Report.id)
        .limit(limit)
    )
    rows = (await s.execute(q)).unique().all()
    if not rows:
        return [], None
    ids = [r.id for r, _ in rows]
    coded = set((await s.execute(
        select(AnalysisCoding.source_key).where(AnalysisCoding.source_type == SourceType.REPORT,
                                                AnalysisCoding.report_id.in_(ids)))).scalars())
    items = [item for r, d in rows for item in _report_items(r, d) if item.key not in coded]
    return items, ids[-1]


async def count_pending(s: AsyncSession) -> int:
    """How many sources `pending_survey`, `pending_transcripts` and `pending_reports` will
    hand out (the total a pass's progress counts against)."""
    survey = (await s.execute(select(func.count()).select_from(SurveyText).where(
        _not_coded(SourceType.SURVEY, AnalysisCoding.survey_text_id == SurveyText.id)))).scalar_one()
    transcripts = (await s.execute(
        select(func.count(func.distinct(TranscriptSegment.id)))
        .select_from(TranscriptSegment)
        .join(Registration, and_(Registration.dialogue_id == TranscriptSegment.dialogue_id,
                                 Registration.user_id == TranscriptSegment.speaker_user_id))
        .where(Registration.consent_transcript.is_(True), func.trim(TranscriptSegment.text) != "",
               _not_coded(SourceType.TRANSCRIPT, AnalysisCoding.segment_id == TranscriptSegment.id))
    )).scalar_one()
    reports = (await s.execute(
        select(Report, Dialogue).join(Dialogue, Dialogue.id == Report.dialogue_id)
        .where(Report.status == ReportStatus.SUBMITTED))).unique().all()
    coded = set((await s.execute(select(AnalysisCoding.source_key).where(
        AnalysisCoding.source_type == SourceType.REPORT))).scalars())
    sections = sum(1 for r, d in reports for item in _report_items(r, d) if item.key not in coded)
    return int(survey) + int(transcripts) + sections


async def sources(s: AsyncSession, refs: Iterable[tuple[SourceType, str]]) -> dict[tuple[SourceType, str], SourceItem]:
    """Look sources up by (type, key); consent is checked, missing or unconsented ones are left out."""
    wanted: dict[SourceType, set[str]] = {}
    for kind, key in refs:
        wanted.setdefault(kind, set()).add(key)
    found: dict[tuple[SourceType, str], SourceItem] = {}
    survey_ids = _ints(wanted.get(SourceType.SURVEY, ()))
    if survey_ids:
        rows = (await s.execute(select(SurveyText).where(SurveyText.id.in_(survey_ids)))).scalars()
        for t in rows:
            found[(SourceType.SURVEY, str(t.id))] = _survey_item(t)
    segment_ids = _ints(wanted.get(SourceType.TRANSCRIPT, ()))
    if segment_ids:
        q = (
            select(TranscriptSegment, Registration, Dialogue.country)
            .join(Registration, and_(Registration.dialogue_id == TranscriptSegment.dialogue_id,
                                     Registration.user_id == TranscriptSegment.speaker_user_id))
            .join(Dialogue, Dialogue.id == TranscriptSegment.dialogue_id)
            .where(TranscriptSegment.id.in_(segment_ids), Registration.consent_transcript.is_(True))
        )
        for seg, reg, country in (await s.execute(q)).unique().all():
            found[(SourceType.TRANSCRIPT, str(seg.id))] = _segment_item(seg, reg, country)
    report_keys = wanted.get(SourceType.REPORT, set())
    report_ids = _ints(k.split(":", 1)[0] for k in report_keys)
    if report_ids:
        q2 = (
            select(Report, Dialogue)
            .join(Dialogue, Dialogue.id == Report.dialogue_id)
            .where(Report.id.in_(report_ids), Report.status == ReportStatus.SUBMITTED)
        )
        for r, d in (await s.execute(q2)).unique().all():
            for item in _report_items(r, d):
                if item.key in report_keys:
                    found[(SourceType.REPORT, item.key)] = item
    return found


ID_MAX = 2**31 - 1


def _ints(values: Iterable[str]) -> list[int]:
    """Ids from reference text; anything that cannot be a row id is dropped."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 10 and 0 < int(v) <= ID_MAX]


async def existing_refs(s: AsyncSession, refs: Iterable[tuple[SourceType, str]]) -> set[tuple[SourceType, str]]:
    """Which of these sources still exist with consent (for pruning theme examples)."""
    return set((await sources(s, refs)).keys())
