"""Theme counts kept beside the codings: around every change of codings, the survey
texts' themes are recounted in the survey's rollups and the transcript lines' per speaker in
``analysis_speaker_themes`` (locked per speaker on PostgreSQL), which the dashboard reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, String, delete, func, insert, literal, select, text, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import AnalysisCoding, AnalysisCodingTheme, AnalysisSpeakerTheme, TranscriptSegment
from parley.storage.stores import survey as survey_store
from parley.storage.stores.analysis.visibility import OTHER, insert_for


async def source_of(s: AsyncSession, coding_id: int) -> tuple[list[int | None], list[int | None]]:
    """([survey text id], [segment id]) of a coding, for `counts_kept`."""
    c = AnalysisCoding
    row = (await s.execute(select(c.survey_text_id, c.segment_id).where(c.id == coding_id))).first()
    return ([row[0]], [row[1]]) if row is not None else ([], [])


@asynccontextmanager
async def counts_kept(s: AsyncSession, text_ids: Iterable[int | None], segment_ids: Iterable[int | None]
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
        stmt = insert_for(s)(AnalysisSpeakerTheme).from_select(_SPEAKER_COLUMNS, counts)
        await s.execute(stmt.on_conflict_do_update(index_elements=_SPEAKER_COLUMNS[:3],
                                                   set_={"n": stmt.excluded.n}))


async def rebuild_speaker_counts(s: AsyncSession) -> None:
    """Recount every speaker's coded lines (repair; also proves the recounts right)."""
    await s.execute(delete(AnalysisSpeakerTheme))
    await s.execute(insert(AnalysisSpeakerTheme).from_select(_SPEAKER_COLUMNS, _speaker_counts()))
