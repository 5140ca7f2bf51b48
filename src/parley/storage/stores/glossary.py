"""Glossary entries: the installation's (no dialogue) and each dialogue's.

Entries are handed out as values (`EntryInfo`); adding, changing and deleting one are calls
here, each taking what a validated entry says (`EntryText`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.glossary_models import GlossaryEntry


@dataclass(frozen=True)
class EntryText:
    """What an entry says: the term (and its matching key), its language, its fixed
    renderings ({} keeps the term as written) and a note."""

    term: str
    term_key: str
    language: str
    translations: dict[str, str]
    note: str

    def values(self) -> dict[str, Any]:
        """The fields as column values (a subclass's own fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(EntryText)}


@dataclass(frozen=True)
class EntryInfo(EntryText):
    """A stored entry; ``dialogue_id`` None: the installation's."""

    id: int
    dialogue_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: GlossaryEntry) -> EntryInfo:
        return cls(id=row.id, dialogue_id=row.dialogue_id, term=row.term, term_key=row.term_key,
                   language=row.language, translations=dict(row.translations), note=row.note,
                   created_by_id=row.created_by_id, created_at=row.created_at, updated_at=row.updated_at)


def _scope(dialogue_id: int | None) -> ColumnElement[bool]:
    col = GlossaryEntry.dialogue_id
    return col.is_(None) if dialogue_id is None else col == dialogue_id


def _new(dialogue_id: int | None, text: EntryText, created_by_id: int | None, now: datetime) -> dict[str, Any]:
    """A new entry's column values."""
    return {"dialogue_id": dialogue_id, **text.values(), "created_by_id": created_by_id, "created_at": now,
            "updated_at": now}


async def add(s: AsyncSession, dialogue_id: int | None, text: EntryText, *, created_by_id: int | None,
              now: datetime) -> int:
    """Insert now, so the new entry has its id (returned; a duplicate fails here)."""
    row = GlossaryEntry(**_new(dialogue_id, text, created_by_id, now))
    s.add(row)
    await s.flush()
    return row.id


def add_all(s: AsyncSession, dialogue_id: int | None, texts: Iterable[EntryText], *, created_by_id: int | None,
            now: datetime) -> None:
    """New entries, written with the caller's next flush or commit."""
    s.add_all(GlossaryEntry(**_new(dialogue_id, text, created_by_id, now)) for text in texts)


async def update_entry(s: AsyncSession, entry_id: int, text: EntryText, now: datetime) -> None:
    """The entry now says ``text``."""
    await s.execute(update(GlossaryEntry).where(GlossaryEntry.id == entry_id).values(**text.values(), updated_at=now))


async def delete_one(s: AsyncSession, entry_id: int) -> None:
    await s.execute(delete(GlossaryEntry).where(GlossaryEntry.id == entry_id))


async def entry(s: AsyncSession, dialogue_id: int | None, entry_id: int) -> EntryInfo | None:
    """The entry, only when it belongs to that scope."""
    rows = await s.execute(select(GlossaryEntry).where(GlossaryEntry.id == entry_id, _scope(dialogue_id)))
    row = rows.scalar_one_or_none()
    return None if row is None else EntryInfo.of(row)


async def entries(s: AsyncSession, dialogue_id: int | None) -> list[EntryInfo]:
    rows = await s.execute(
        select(GlossaryEntry)
        .where(_scope(dialogue_id))
        .order_by(GlossaryEntry.term_key, GlossaryEntry.language, GlossaryEntry.id)
    )
    return [EntryInfo.of(row) for row in rows.scalars()]


async def effective_rows(s: AsyncSession, dialogue_id: int) -> list[EntryInfo]:
    """The installation's entries and the dialogue's, installation first."""
    rows = await s.execute(
        select(GlossaryEntry)
        .where((GlossaryEntry.dialogue_id.is_(None)) | (GlossaryEntry.dialogue_id == dialogue_id))
        .order_by(GlossaryEntry.dialogue_id.is_not(None), GlossaryEntry.term_key, GlossaryEntry.language,
                  GlossaryEntry.id)
    )
    return [EntryInfo.of(row) for row in rows.scalars()]


async def find(s: AsyncSession, dialogue_id: int | None, language: str, term_key: str) -> EntryInfo | None:
    rows = await s.execute(
        select(GlossaryEntry).where(
            _scope(dialogue_id), GlossaryEntry.language == language, GlossaryEntry.term_key == term_key
        )
    )
    row = rows.scalar_one_or_none()
    return None if row is None else EntryInfo.of(row)


async def count(s: AsyncSession, dialogue_id: int | None) -> int:
    q = select(func.count()).select_from(GlossaryEntry).where(_scope(dialogue_id))
    return int((await s.execute(q)).scalar_one())


async def delete_ids(s: AsyncSession, dialogue_id: int | None, ids: Collection[int]) -> int:
    if not ids:
        return 0
    result = await s.execute(delete(GlossaryEntry).where(_scope(dialogue_id), GlossaryEntry.id.in_(list(ids))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
