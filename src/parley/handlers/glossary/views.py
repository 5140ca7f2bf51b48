"""What the glossary handler returns: entries as a viewer sees them, a whole glossary's
listing, and the counts of an import. Plain values, built from the store's here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from parley.storage.stores.accounts import Account
from parley.storage.stores.glossary import EntryInfo


@dataclass(frozen=True)
class Person:
    id: int
    display_name: str


@dataclass(frozen=True)
class EntryView:
    id: int
    dialogue_id: int | None
    term: str
    language: str
    translations: dict[str, str]
    note: str
    created_by: Person | None
    created_at: datetime
    updated_at: datetime

    @property
    def keeps_term(self) -> bool:
        """True when the term is kept as written in every language."""
        return not self.translations


@dataclass(frozen=True)
class GlossaryListing:
    """One glossary as a viewer may see it. For a dialogue, ``installation`` holds the
    installation's entries too, and ``overridden`` the ids of those the dialogue replaces."""

    dialogue_id: int | None
    entries: list[EntryView]
    can_edit: bool
    installation: list[EntryView] = field(default_factory=list)
    overridden: frozenset[int] = frozenset()
    dialogue_title: str = ""
    dialogue_languages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    deleted: int


def view_of(row: EntryInfo, people: Mapping[int, Account]) -> EntryView:
    author = people.get(row.created_by_id) if row.created_by_id else None
    return EntryView(
        id=row.id,
        dialogue_id=row.dialogue_id,
        term=row.term,
        language=row.language,
        translations=dict(row.translations),
        note=row.note,
        created_by=Person(author.id, author.display_name) if author else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
