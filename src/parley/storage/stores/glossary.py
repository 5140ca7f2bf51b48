"""Glossary entries: the installation's (no dialogue) and each dialogue's."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.glossary_models import GlossaryEntry


def _scope(dialogue_id: int | None) -> ColumnElement[bool]:
    col = GlossaryEntry.dialogue_id
    return col.is_(None) if dialogue_id is None else col == dialogue_id


async def add(s: AsyncSession, row: GlossaryEntry) -> GlossaryEntry:
    """Insert now, so the new entry has its id (and a duplicate fails here)."""
    s.add(row)
    await s.flush()
    return row


def add_all(s: AsyncSession, rows: Iterable[GlossaryEntry]) -> None:
    """New entries, written with the caller's next flush or commit."""
    s.add_all(rows)


async def delete_one(s: AsyncSession, row: GlossaryEntry) -> None:
    await s.delete(row)


async def entry(s: AsyncSession, dialogue_id: int | None, entry_id: int) -> GlossaryEntry | None:
    """The entry, only when it belongs to that scope."""
    rows = await s.execute(select(GlossaryEntry).where(GlossaryEntry.id == entry_id, _scope(dialogue_id)))
    return rows.scalar_one_or_none()


async def entries(s: AsyncSession, dialogue_id: int | None) -> list[GlossaryEntry]:
    rows = await s.execute(
        select(GlossaryEntry)
        .where(_scope(dialogue_id))
        .order_by(GlossaryEntry.term_key, GlossaryEntry.language, GlossaryEntry.id)
    )
    return list(rows.scalars())


async def effective_rows(s: AsyncSession, dialogue_id: int) -> list[GlossaryEntry]:
    """The installation's entries and the dialogue's, installation first."""
    rows = await s.execute(
        select(GlossaryEntry)
        .where((GlossaryEntry.dialogue_id.is_(None)) | (GlossaryEntry.dialogue_id == dialogue_id))
        .order_by(GlossaryEntry.dialogue_id.is_not(None), GlossaryEntry.term_key, GlossaryEntry.language,
                  GlossaryEntry.id)
    )
    return list(rows.scalars())


async def find(s: AsyncSession, dialogue_id: int | None, language: str, term_key: str) -> GlossaryEntry | None:
    rows = await s.execute(
        select(GlossaryEntry).where(
            _scope(dialogue_id), GlossaryEntry.language == language, GlossaryEntry.term_key == term_key
        )
    )
    return rows.scalar_one_or_none()


async def count(s: AsyncSession, dialogue_id: int | None) -> int:
    q = select(func.count()).select_from(GlossaryEntry).where(_scope(dialogue_id))
    return int((await s.execute(q)).scalar_one())


async def delete_ids(s: AsyncSession, dialogue_id: int | None, ids: Collection[int]) -> int:
    if not ids:
        return 0
    result = await s.execute(delete(GlossaryEntry).where(_scope(dialogue_id), GlossaryEntry.id.in_(list(ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
