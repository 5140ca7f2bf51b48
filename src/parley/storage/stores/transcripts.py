"""Transcript segments: what the live interpretation writes and reports and analysis read.

Writers (the interpretation worker) call `add` once per final utterance, inside their own
transaction, and only for speakers whose registration has ``consent_transcript``; readers
check consent again (`consented`), since a participant can take it back afterwards.
Deleting a participant's account removes their segments through the foreign key; `delete_by_speaker`
does the same for one dialogue or all of them without deleting the account. A line's machine
translations (`stores.transcript_translations`) go with it, and when its text changes.

Lines are handed out as values (`SegmentInfo`); a correction or a caption translation is a
call here (`set_text`, `add_caption`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisSpeakerTheme, TranscriptSegment
from parley.storage.models import Registration
from parley.storage.stores import transcript_translations as machine


@dataclass(frozen=True)
class SegmentInfo:
    """One stored utterance (consented or not: readers check)."""

    id: int
    dialogue_id: int
    # None for a speaker without an account (a guest on a shared microphone).
    speaker_user_id: int | None
    speaker_name: str
    language: str
    started_at: datetime
    ended_at: datetime
    text: str
    # The captions' translations, by language (machine translations made later are apart).
    translations: Mapping[str, str]
    created_at: datetime
    utterance_id: str | None

    @classmethod
    def of(cls, row: TranscriptSegment) -> SegmentInfo:
        return cls(id=row.id, dialogue_id=row.dialogue_id, speaker_user_id=row.speaker_user_id,
                   speaker_name=row.speaker_name, language=row.language, started_at=row.started_at,
                   ended_at=row.ended_at, text=row.text, translations=dict(row.translations or {}),
                   created_at=row.created_at, utterance_id=row.utterance_id)


async def add(
    s: AsyncSession,
    *,
    dialogue_id: int,
    speaker_user_id: int | None,
    speaker_name: str,
    language: str,
    started_at: datetime,
    ended_at: datetime,
    text: str,
    created_at: datetime,
    translations: Mapping[str, str] | None = None,
    utterance_id: str | None = None,
) -> SegmentInfo:
    """Store one utterance; returns it with its id. ``utterance_id`` is unique per
    dialogue (see `by_utterance`)."""
    segment = TranscriptSegment(
        dialogue_id=dialogue_id, speaker_user_id=speaker_user_id, speaker_name=speaker_name[:120],
        language=language, started_at=started_at, ended_at=ended_at, text=text,
        translations=dict(translations or {}), created_at=created_at, utterance_id=utterance_id,
    )
    s.add(segment)
    await s.flush()
    return SegmentInfo.of(segment)


async def segment(s: AsyncSession, segment_id: int) -> SegmentInfo | None:
    row = await s.get(TranscriptSegment, segment_id)
    return None if row is None else SegmentInfo.of(row)


async def by_utterance(s: AsyncSession, dialogue_id: int, utterance_id: str) -> SegmentInfo | None:
    """A caption line written before (by this process or an earlier owner)."""
    q = select(TranscriptSegment).where(TranscriptSegment.dialogue_id == dialogue_id,
                                        TranscriptSegment.utterance_id == utterance_id)
    row = (await s.execute(q)).scalars().first()
    return None if row is None else SegmentInfo.of(row)


async def set_text(s: AsyncSession, segment_id: int, text: str) -> None:
    """Correct a line's text; what was translated from the old text is dropped."""
    result = await s.execute(update(TranscriptSegment)
                             .where(TranscriptSegment.id == segment_id, TranscriptSegment.text != text)
                             .values(text=text))
    if result.rowcount:  # type: ignore[attr-defined]
        await machine.forget_lines(s, [segment_id])


async def add_caption(s: AsyncSession, segment_id: int, language: str, text: str) -> None:
    """A translation the captions showed, kept on its line (one per language)."""
    row = await s.get(TranscriptSegment, segment_id)
    if row is not None:
        row.translations = {**(row.translations or {}), language: text}


async def for_dialogue(s: AsyncSession, dialogue_id: int) -> list[SegmentInfo]:
    """Every segment of a dialogue in speaking order (consented or not: callers filter)."""
    q = (
        select(TranscriptSegment)
        .where(TranscriptSegment.dialogue_id == dialogue_id)
        .order_by(TranscriptSegment.started_at, TranscriptSegment.id)
    )
    return [SegmentInfo.of(row) for row in (await s.execute(q)).scalars()]


@dataclass(frozen=True)
class ConsentedLine:
    """A line whose speaker allows a transcript, with what a report needs of their registration:
    a value, so what drafts from it (long after the session) never reads a row."""

    segment_id: int
    speaker_user_id: int
    speaker_name: str  # as the line was captioned ("" when it was not named)
    account_name: str  # the speaker's account's display name
    language: str
    text: str
    started_at: datetime
    ended_at: datetime
    quotable: bool  # the speaker allows quotes too


async def consented(s: AsyncSession, dialogue_id: int, *, quotes: bool = False) -> list[ConsentedLine]:
    """Lines whose speaker's registration allows a transcript (and quotes, if asked), in order."""
    conds = [Registration.consent_transcript.is_(True)]
    if quotes:
        conds.append(Registration.consent_quotes.is_(True))
    q = (
        select(TranscriptSegment, Registration)
        .join(Registration, and_(Registration.dialogue_id == TranscriptSegment.dialogue_id,
                                 Registration.user_id == TranscriptSegment.speaker_user_id))
        .where(TranscriptSegment.dialogue_id == dialogue_id, *conds)
        .order_by(TranscriptSegment.started_at, TranscriptSegment.id)
    )
    return [ConsentedLine(seg.id, reg.user_id, seg.speaker_name, reg.user.display_name, seg.language, seg.text,
                          seg.started_at, seg.ended_at, reg.consent_quotes)
            for seg, reg in (await s.execute(q)).unique().all()]


async def translatable(s: AsyncSession, dialogue_id: int) -> list[SegmentInfo]:
    """The lines the whole transcript may show, in order: speakers without a registration here
    (staff, guests) and registered ones who allow a transcript. A line whose speaker took that
    back is not translated (it stays only until they delete it)."""
    q = (
        select(TranscriptSegment)
        .outerjoin(Registration, and_(Registration.dialogue_id == TranscriptSegment.dialogue_id,
                                      Registration.user_id == TranscriptSegment.speaker_user_id))
        .where(TranscriptSegment.dialogue_id == dialogue_id,
               or_(Registration.user_id.is_(None), Registration.consent_transcript.is_(True)))
        .order_by(TranscriptSegment.started_at, TranscriptSegment.id)
    )
    return [SegmentInfo.of(row) for row in (await s.execute(q)).scalars()]


async def by_ids(s: AsyncSession, ids: Sequence[int]) -> dict[int, SegmentInfo]:
    if not ids:
        return {}
    rows = (await s.execute(select(TranscriptSegment).where(TranscriptSegment.id.in_(list(ids))))).scalars()
    return {row.id: SegmentInfo.of(row) for row in rows}


async def delete_for_dialogue(s: AsyncSession, dialogue_id: int) -> int:
    """Every line of the dialogue, with their machine translations and translation jobs."""
    await machine.forget_dialogue(s, dialogue_id)
    result = await s.execute(delete(TranscriptSegment).where(TranscriptSegment.dialogue_id == dialogue_id))
    # The lines' codings go with them, and so do their counts.
    await s.execute(delete(AnalysisSpeakerTheme).where(AnalysisSpeakerTheme.dialogue_id == dialogue_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_by_speaker(s: AsyncSession, user_id: int, *, dialogue_id: int | None = None) -> int:
    """Remove a speaker's lines (their codings and quotes go with them)."""
    q = delete(TranscriptSegment).where(TranscriptSegment.speaker_user_id == user_id)
    counts = delete(AnalysisSpeakerTheme).where(AnalysisSpeakerTheme.user_id == user_id)
    lines = select(TranscriptSegment.id).where(TranscriptSegment.speaker_user_id == user_id)
    if dialogue_id is not None:
        q = q.where(TranscriptSegment.dialogue_id == dialogue_id)
        counts = counts.where(AnalysisSpeakerTheme.dialogue_id == dialogue_id)
        lines = lines.where(TranscriptSegment.dialogue_id == dialogue_id)
    await machine.forget_lines(s, lines.scalar_subquery())
    result = await s.execute(q)
    await s.execute(counts)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
