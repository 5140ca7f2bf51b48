"""Analysis storage: the sources to code, codings, corrections and analysts' themes.

Queries only, inside the caller's transaction. Consent is enforced here, in SQL, so that no
caller can forget it: `visible()` is part of every read of codings, and `purge()` deletes
what consent no longer covers. Survey texts are read directly from ``survey_texts``
(read-only; a text exists only with consent to analysis, and a withdrawal deletes it).

Every function that changes codings also keeps their counts, which the dashboard reads
instead of the codings: survey texts' themes in the survey's rollups
(`parley.storage.stores.survey.recounting_themes`), transcript lines' in
``analysis_speaker_themes`` (`recount_speakers`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import (
    AnalysisCoding,
    AnalysisCodingTheme,
    AnalysisCorrection,
    AnalysisSpeakerTheme,
    AnalysisTheme,
    Report,
    ReportStatus,
    SourceType,
    TranscriptSegment,
)
from parley.storage.consultation_models import SurveyText
from parley.storage.models import Dialogue, Registration
from parley.storage.stores import survey as survey_store
from parley.vocabulary import OTHER as OTHER

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


def _insert(s: AsyncSession) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def _visible_for(source_type: Any, report_id: Any, segment_id: Any) -> ColumnElement[bool]:
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
    return _visible_for(c.source_type, c.report_id, c.segment_id)


# --- sources ---------------------------------------------------------------------------------


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


# --- codings ---------------------------------------------------------------------------------


async def insert_codings(s: AsyncSession, rows: Sequence[Mapping[str, Any]],
                         themes: Mapping[str, Sequence[tuple[str, float]]]) -> int:
    """Insert new codings (a source already coded, e.g. by another process, is skipped) and
    their theme rows; ``themes`` is keyed by ``source_key``. Returns how many were new."""
    if not rows:
        return 0
    table = AnalysisCoding.__table__
    stmt = _insert(s)(table).on_conflict_do_nothing(index_elements=["source_type", "source_key"])
    async with _counts_kept(s, [r.get("survey_text_id") for r in rows], [r.get("segment_id") for r in rows]):
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
    async with _counts_kept(s, *await _source_of(s, coding_id)):
        await s.execute(update(AnalysisCoding).where(AnalysisCoding.id == coding_id).values(**values)
                        .execution_options(synchronize_session=False))
        await _set_themes(s, coding_id, themes)


async def replace_coding(s: AsyncSession, coding_id: int, old_version: str, values: Mapping[str, Any],
                         themes: Sequence[tuple[str, float]]) -> bool:
    """Re-code: overwrite a model-made coding only if it is still the version that was read
    (an analyst's correction or another process's re-code in between wins)."""
    async with _counts_kept(s, *await _source_of(s, coding_id)):
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


# --- theme counts ------------------------------------------------------------------------------


async def _source_of(s: AsyncSession, coding_id: int) -> tuple[list[int | None], list[int | None]]:
    """([survey text id], [segment id]) of a coding, for `_counts_kept`."""
    c = AnalysisCoding
    row = (await s.execute(select(c.survey_text_id, c.segment_id).where(c.id == coding_id))).first()
    return ([row[0]], [row[1]]) if row is not None else ([], [])


@asynccontextmanager
async def _counts_kept(s: AsyncSession, text_ids: Iterable[int | None], segment_ids: Iterable[int | None]
                       ) -> AsyncIterator[None]:
    """Around a change of the codings of these survey texts and transcript lines: keep their
    theme counts equal to the codings."""
    segments = [i for i in segment_ids if i is not None]
    async with survey_store.recounting_themes(s, [i for i in text_ids if i is not None]):
        yield
    if segments:
        seg = TranscriptSegment
        q = select(seg.dialogue_id, seg.speaker_user_id).where(
            seg.id.in_(segments), seg.speaker_user_id.is_not(None)).distinct()
        await recount_speakers(s, [(int(d), int(u)) for d, u in (await s.execute(q)).all() if u is not None])


def _speaker_counts(*conds: ColumnElement[bool]) -> Any:
    """(dialogue, speaker, theme or OTHER or "", coded lines) of the transcript lines matching
    ``conds``: a line counts once for "" and once per theme (or once for OTHER)."""
    seg, c, t = TranscriptSegment, AnalysisCoding, AnalysisCodingTheme
    coded = select(seg.dialogue_id, seg.speaker_user_id).join(c, c.segment_id == seg.id).where(
        seg.speaker_user_id.is_not(None), *conds)
    per_theme = (
        coded.add_columns(func.coalesce(t.theme, literal(OTHER, String)), func.count())
        .outerjoin(t, t.coding_id == c.id)
        .group_by(seg.dialogue_id, seg.speaker_user_id, t.theme)
    )
    lines = coded.add_columns(literal("", String), func.count()).group_by(seg.dialogue_id, seg.speaker_user_id)
    return union_all(per_theme, lines)


_SPEAKER_COLUMNS = ["dialogue_id", "user_id", "theme", "n"]
# One transaction-scoped advisory lock per (dialogue, speaker), taken in order in one statement.
_LOCK_SPEAKERS = text(
    "SELECT count(pg_advisory_xact_lock(d, u)) FROM (SELECT d, u FROM unnest(CAST(:d AS integer[]), "
    "CAST(:u AS integer[])) AS pairs(d, u) ORDER BY d, u) AS ordered")


async def recount_speakers(s: AsyncSession, pairs: Iterable[tuple[int, int]]) -> None:
    """Recount the coded lines of these (dialogue, speaker) pairs, after their codings changed.
    On PostgreSQL each pair is locked first (in order), so two processes recounting the same
    speaker write one after the other, each from the other's committed codings."""
    ordered = sorted(set(pairs))
    a, seg = AnalysisSpeakerTheme, TranscriptSegment
    for i in range(0, len(ordered), 500):
        chunk = ordered[i:i + 500]
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(_LOCK_SPEAKERS, {"d": [d for d, _ in chunk], "u": [u for _, u in chunk]})
        dialogues, speakers = sorted({d for d, _ in chunk}), sorted({u for _, u in chunk})
        # The single-column IN lists let both databases use an index (the primary key's first
        # column, the segments' speaker index); the pairs then pick the exact rows.
        await s.execute(delete(a).where(a.dialogue_id.in_(dialogues), tuple_(a.dialogue_id, a.user_id).in_(chunk)))
        counts = _speaker_counts(seg.speaker_user_id.in_(speakers), seg.dialogue_id.in_(dialogues),
                                 tuple_(seg.dialogue_id, seg.speaker_user_id).in_(chunk))
        stmt = _insert(s)(AnalysisSpeakerTheme).from_select(_SPEAKER_COLUMNS, counts)
        await s.execute(stmt.on_conflict_do_update(index_elements=_SPEAKER_COLUMNS[:3],
                                                   set_={"n": stmt.excluded.n}))


async def rebuild_speaker_counts(s: AsyncSession) -> None:
    """Recount every speaker's coded lines (repair; also proves the recounts right)."""
    await s.execute(delete(AnalysisSpeakerTheme))
    await s.execute(insert(AnalysisSpeakerTheme).from_select(_SPEAKER_COLUMNS, _speaker_counts()))


async def coding_for_source(s: AsyncSession, source_type: SourceType, source_key: str) -> AnalysisCoding | None:
    q = select(AnalysisCoding).where(AnalysisCoding.source_type == source_type,
                                     AnalysisCoding.source_key == source_key, visible())
    return (await s.execute(q)).scalar_one_or_none()


async def coding(s: AsyncSession, coding_id: int) -> AnalysisCoding | None:
    q = select(AnalysisCoding).where(AnalysisCoding.id == coding_id, visible())
    return (await s.execute(q)).scalar_one_or_none()


async def stale(s: AsyncSession, version: str, after_id: int, limit: int) -> Sequence[AnalysisCoding]:
    """Model-made codings from another coder version, in id order (analysts' stay as they are)."""
    q = (
        select(AnalysisCoding)
        .where(AnalysisCoding.coder_version != version, AnalysisCoding.origin != "analyst",
               AnalysisCoding.id > after_id)
        .order_by(AnalysisCoding.id)
        .limit(limit)
    )
    return (await s.execute(q)).scalars().all()


async def count_stale(s: AsyncSession, version: str) -> int:
    q = select(func.count()).select_from(AnalysisCoding).where(
        AnalysisCoding.coder_version != version, AnalysisCoding.origin != "analyst")
    return int((await s.execute(q)).scalar_one())


async def set_translation(s: AsyncSession, coding_id: int, translations: Mapping[str, Any]) -> None:
    await s.execute(update(AnalysisCoding).where(AnalysisCoding.id == coding_id)
                    .values(translations=dict(translations)))


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
                       ) -> tuple[Sequence[AnalysisCoding], int]:
    """One page of visible codings matching ``f``, and how many match in all."""
    conds = _filter_conditions(f)
    c = AnalysisCoding
    order = [c.confidence, c.id] if f.order == "confidence" else [c.source_created_at.desc(), c.id.desc()]
    rows = (await s.execute(select(c).where(*conds).order_by(*order).offset(offset).limit(limit))).scalars().all()
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


async def export_page(s: AsyncSession, after_id: int, limit: int) -> Sequence[AnalysisCoding]:
    q = select(AnalysisCoding).where(AnalysisCoding.id > after_id, visible()).order_by(AnalysisCoding.id).limit(limit)
    return (await s.execute(q)).scalars().all()


async def recent_codings(s: AsyncSession, limit: int) -> Sequence[AnalysisCoding]:
    q = select(AnalysisCoding).where(visible()).order_by(AnalysisCoding.id.desc()).limit(limit)
    return (await s.execute(q)).scalars().all()


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
    await s.execute(delete(k).where(not_(_visible_for(k.source_type, k.report_id, k.segment_id)))
                    .execution_options(synchronize_session=False))
    return deleted


async def delete_for_report(s: AsyncSession, report_id: int) -> None:
    """A reopened report is no longer a source: its codings and corrections go."""
    await s.execute(delete(AnalysisCoding).where(AnalysisCoding.report_id == report_id))
    await s.execute(delete(AnalysisCorrection).where(AnalysisCorrection.report_id == report_id))


# --- corrections and themes --------------------------------------------------------------------


async def corrections(s: AsyncSession) -> Sequence[AnalysisCorrection]:
    k = AnalysisCorrection
    q = select(k).where(_visible_for(k.source_type, k.report_id, k.segment_id)).order_by(k.created_at, k.id)
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


async def existing_refs(s: AsyncSession, refs: Iterable[tuple[SourceType, str]]) -> set[tuple[SourceType, str]]:
    """Which of these sources still exist with consent (for pruning theme examples)."""
    return set((await sources(s, refs)).keys())
