"""Transcript lines translated by machine, and the jobs that translate them: queries only,
inside the caller's transaction.

A translation is written only while its line still holds the text it was made from (a line
deleted or corrected meanwhile gets none), and at most once per (line, language): two writers
racing write one row (``INSERT ... ON CONFLICT DO NOTHING``). Jobs are read as values
(`JobInfo`) and changed by calls here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.analysis_models import (
    TranscriptMachineTranslation,
    TranscriptSegment,
    TranscriptTranslationJob,
    TranscriptTranslationState,
)

Job = TranscriptTranslationJob
State = TranscriptTranslationState


@dataclass(frozen=True)
class JobInfo:
    """A dialogue's transcript translation into one language (`TranscriptTranslationJob`)."""

    id: int
    dialogue_id: int
    language: str
    state: State
    requested_at: datetime
    updated_at: datetime
    not_before: datetime | None
    attempts: int
    unavailable: list[str]
    error: dict[str, Any] | None

    @classmethod
    def of(cls, row: Job) -> JobInfo:
        return cls(id=row.id, dialogue_id=row.dialogue_id, language=row.language, state=row.state,
                   requested_at=row.requested_at, updated_at=row.updated_at, not_before=row.not_before,
                   attempts=row.attempts, unavailable=list(row.unavailable or ()),
                   error=None if row.error is None else dict(row.error))


@dataclass(frozen=True)
class Made:
    """A translation to keep, with the source text it was made from."""

    segment_id: int
    source_text: str
    text: str
    engine: str


# --- jobs ------------------------------------------------------------------------------------------


async def job(s: AsyncSession, dialogue_id: int, language: str) -> JobInfo | None:
    q = select(Job).where(Job.dialogue_id == dialogue_id, Job.language == language)
    row = (await s.execute(q)).scalar_one_or_none()
    return None if row is None else JobInfo.of(row)


async def jobs_of(s: AsyncSession, dialogue_id: int) -> dict[str, JobInfo]:
    rows = (await s.execute(select(Job).where(Job.dialogue_id == dialogue_id))).scalars()
    return {row.language: JobInfo.of(row) for row in rows}


async def queue(s: AsyncSession, dialogue_id: int, languages: Iterable[str], now: datetime, *,
                not_before: datetime | None = None, again: bool = False) -> None:
    """Make each (dialogue, language) job pending: new, finished (new lines since), failed, or
    with ``again`` also one waiting to retry (someone asked to try now). A job pending already
    keeps its place."""
    wanted = sorted(set(languages))
    if not wanted:
        return
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    values: list[dict[str, Any]] = [
        {"dialogue_id": dialogue_id, "language": code, "state": State.PENDING, "requested_at": now,
         "updated_at": now, "not_before": not_before, "attempts": 0, "unavailable": [], "error": None}
        for code in wanted]
    await s.execute(insert(Job).on_conflict_do_nothing(index_elements=["dialogue_id", "language"]), values)
    waiting = Job.state != State.PENDING
    if again:
        waiting = or_(waiting, Job.not_before.is_not(None))
    await s.execute(
        update(Job)
        .where(Job.dialogue_id == dialogue_id, Job.language.in_(wanted), waiting)
        .values(state=State.PENDING, requested_at=now, updated_at=now, not_before=not_before, attempts=0,
                error=None)
    )


async def due(s: AsyncSession, now: datetime, *, limit: int = 20) -> list[JobInfo]:
    """Pending jobs whose time has come, oldest request first."""
    q = (
        select(Job)
        .where(Job.state == State.PENDING, or_(Job.not_before.is_(None), Job.not_before <= now))
        .order_by(Job.requested_at, Job.id)
        .limit(limit)
    )
    return [JobInfo.of(row) for row in (await s.execute(q)).scalars()]


async def next_due(s: AsyncSession) -> datetime | None:
    """When the earliest pending job that waits may run (None: none waits)."""
    q = select(func.min(Job.not_before)).where(Job.state == State.PENDING, Job.not_before.is_not(None))
    return (await s.execute(q)).scalar_one_or_none()


async def set_unavailable(s: AsyncSession, job_id: int, sources: Sequence[str]) -> None:
    await s.execute(update(Job).where(Job.id == job_id).values(unavailable=list(sources)))


async def finish(s: AsyncSession, job_id: int, *, state: State, now: datetime, unavailable: Sequence[str],
                 error: Mapping[str, Any] | None, attempts: int, not_before: datetime | None,
                 started: datetime) -> bool:
    """Record a run's outcome, unless the job was asked for again after the run started (then
    it stays pending, for the lines that came since). False when it was."""
    result = await s.execute(
        update(Job)
        .where(Job.id == job_id, Job.requested_at <= started)
        .values(state=state, updated_at=now, unavailable=list(unavailable), error=dict(error) if error else None,
                attempts=attempts, not_before=not_before)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- lines and their translations ---------------------------------------------------------------------


def _of_dialogue(dialogue_id: int) -> Any:
    return select(TranscriptSegment.id).where(TranscriptSegment.dialogue_id == dialogue_id).scalar_subquery()


async def translated_ids(s: AsyncSession, dialogue_id: int) -> dict[str, set[int]]:
    """Language -> the ids of the dialogue's lines translated into it by machine."""
    q = select(TranscriptMachineTranslation.language, TranscriptMachineTranslation.segment_id).where(
        TranscriptMachineTranslation.segment_id.in_(_of_dialogue(dialogue_id)))
    out: dict[str, set[int]] = {}
    for language, segment_id in (await s.execute(q)).all():
        out.setdefault(language, set()).add(segment_id)
    return out


async def translations(s: AsyncSession, dialogue_id: int, language: str) -> dict[int, tuple[str, str]]:
    """Line id -> (text, engine) of the dialogue's lines translated into ``language``."""
    t = TranscriptMachineTranslation
    q = select(t.segment_id, t.text, t.engine).where(t.language == language,
                                                     t.segment_id.in_(_of_dialogue(dialogue_id)))
    return {segment_id: (text, engine) for segment_id, text, engine in (await s.execute(q)).all()}


async def add(s: AsyncSession, language: str, made: Sequence[Made], now: datetime) -> int:
    """Keep translations whose line still holds the text they were made from; how many were new."""
    if not made:
        return 0
    current = dict((await s.execute(select(TranscriptSegment.id, TranscriptSegment.text).where(
        TranscriptSegment.id.in_([m.segment_id for m in made])))).all())
    rows = [{"segment_id": m.segment_id, "language": language, "text": m.text, "engine": m.engine[:100],
             "created_at": now} for m in made if current.get(m.segment_id) == m.source_text]
    if not rows:
        return 0
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    t = TranscriptMachineTranslation
    stmt = insert(t).on_conflict_do_nothing(index_elements=["segment_id", "language"])
    result = await s.execute(stmt.returning(t.segment_id), rows)
    return len(result.all())


async def forget_lines(s: AsyncSession, segment_ids: Any) -> None:
    """Delete the machine translations of these lines (ids, or a subquery of them)."""
    t = TranscriptMachineTranslation
    await s.execute(delete(t).where(t.segment_id.in_(segment_ids)))


async def forget_dialogue(s: AsyncSession, dialogue_id: int) -> None:
    """Every machine translation of the dialogue's transcript, and its jobs."""
    await forget_lines(s, _of_dialogue(dialogue_id))
    await s.execute(delete(Job).where(Job.dialogue_id == dialogue_id))
