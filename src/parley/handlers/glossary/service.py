"""The glossary handler: who may read and change which glossary, and the changes
themselves (one entry, or a whole CSV list), each announced as ``glossary.updated``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import ID_MAX, can_see, check_id, runs, sees_everything
from parley.handlers.glossary.csv_format import parse_csv, to_csv
from parley.handlers.glossary.effective import DialogueGlossary, Term, build_glossary, replaced
from parley.handlers.glossary.rules import ENTRIES_MAX, glossary_topic
from parley.handlers.glossary.validation import CleanEntry, EntryInput, validate_entry
from parley.handlers.glossary.views import EntryView, GlossaryListing, ImportResult, view_of
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import glossary as store
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.storage.stores.glossary import EntryInfo
from parley.vocabulary import STAFF_ROLES, Role

log = logging.getLogger(__name__)


def edits_installation(user: Account) -> bool:
    return user.role in (Role.ADMIN, Role.ORGANISER)


class Glossaries:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # --- reading ------------------------------------------------------------------------

    async def listing(self, actor: Account, dialogue_id: int | None = None) -> GlossaryListing:
        async with self.db.session() as s:
            d = await self._access(s, actor, dialogue_id, write=False)
            rows = await store.entries(s, dialogue_id)
            inherited = await store.entries(s, None) if dialogue_id is not None else []
            people = await dialogue_store.users_by_ids(
                s, {r.created_by_id for r in [*rows, *inherited] if r.created_by_id}
            )
            can_edit = self._may_write(actor, d, dialogue_id)
        own = {(r.language, r.term_key) for r in rows}
        overridden = frozenset(r.id for r in inherited if replaced(r.language, r.term_key, own))
        return GlossaryListing(
            dialogue_id=dialogue_id,
            entries=[view_of(r, people) for r in rows],
            can_edit=can_edit,
            installation=[view_of(r, people) for r in inherited],
            overridden=overridden,
            dialogue_title=d.title if d is not None else "",
            dialogue_languages=list(d.languages) if d is not None else [],
        )

    async def get(self, actor: Account, dialogue_id: int | None, entry_id: int) -> EntryView:
        async with self.db.session() as s:
            await self._access(s, actor, dialogue_id, write=False)
            row = await self._entry(s, dialogue_id, entry_id)
            people = await dialogue_store.users_by_ids(s, [row.created_by_id] if row.created_by_id else [])
            return view_of(row, people)

    async def export_csv(self, actor: Account, dialogue_id: int | None = None) -> str:
        listing = await self.listing(actor, dialogue_id)
        return to_csv(listing.entries)

    async def effective(self, dialogue_id: int, languages: Collection[str] | None = None) -> DialogueGlossary:
        """The glossary interpretation uses for a dialogue: the installation's entries
        overridden by the dialogue's, over the dialogue's languages (or ``languages``).
        No permission check: this is for the pipeline, not for people."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await dialogue_store.info(s, dialogue_id)
            if d is None:
                raise NotFound("No such dialogue.", code="dialogue_not_found")
            rows = await store.effective_rows(s, dialogue_id)
            langs = list(languages) if languages is not None else list(d.languages)
        terms = [Term(r.term, r.language, dict(r.translations), dialogue=r.dialogue_id is not None) for r in rows]
        return build_glossary(terms, langs)

    # --- writing ------------------------------------------------------------------------

    async def create(self, actor: Account, dialogue_id: int | None, data: EntryInput) -> EntryView:
        clean = validate_entry(data)
        now = self.clock.now()
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                if await store.find(s, dialogue_id, clean.language, clean.term_key) is not None:
                    raise _duplicate()
                if await store.count(s, dialogue_id) >= ENTRIES_MAX:
                    raise Conflict("This glossary is full.", code="glossary_full")
                entry_id = await store.add(s, dialogue_id, clean, created_by_id=actor.id, now=now)
        except IntegrityError:
            raise _duplicate() from None
        log.info("glossary entry %s added to %s by user %s", entry_id, _scope_name(dialogue_id), actor.id)
        await self._announce(dialogue_id)
        return await self.get(actor, dialogue_id, entry_id)

    async def update(self, actor: Account, dialogue_id: int | None, entry_id: int,
                     changes: Mapping[str, Any]) -> EntryView:
        """Apply ``changes`` (field name -> new value, as in `EntryInput`) to an entry."""
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                row = await self._entry(s, dialogue_id, entry_id)
                current = EntryInput(term=row.term, language=row.language, translations=dict(row.translations),
                                     note=row.note)
                clean = validate_entry(current.merged(changes))
                other = await store.find(s, dialogue_id, clean.language, clean.term_key)
                if other is not None and other.id != row.id:
                    raise _duplicate()
                await store.update_entry(s, row.id, clean, self.clock.now())
        except IntegrityError:
            raise _duplicate() from None
        await self._announce(dialogue_id)
        return await self.get(actor, dialogue_id, entry_id)

    async def delete(self, actor: Account, dialogue_id: int | None, entry_id: int) -> None:
        async with self.db.session() as s:
            await self._access(s, actor, dialogue_id, write=True)
            row = await self._entry(s, dialogue_id, entry_id)
            await store.delete_one(s, row.id)
        log.info("glossary entry %s deleted from %s by user %s", entry_id, _scope_name(dialogue_id), actor.id)
        await self._announce(dialogue_id)

    async def import_csv(self, actor: Account, dialogue_id: int | None, text: str, *,
                         replace: bool = False) -> ImportResult:
        """Add the listed entries and update those already there (same term and language).
        With ``replace``, entries not in the list are deleted. All or nothing."""
        if not isinstance(text, str):
            raise InvalidInput("The list is not valid CSV.", fields={"csv": "syntax"}, code="invalid_csv")
        async with self.db.session() as s:
            # Permission before content: someone who may not edit learns nothing from errors.
            await self._access(s, actor, dialogue_id, write=True)
        rows = parse_csv(text)
        now = self.clock.now()
        created = updated = unchanged = deleted = 0
        try:
            async with self.db.session() as s:
                await self._access(s, actor, dialogue_id, write=True)
                existing = {(r.language, r.term_key): r for r in await store.entries(s, dialogue_id)}
                listed = set()
                new: list[CleanEntry] = []
                for clean in rows:
                    key = (clean.language, clean.term_key)
                    listed.add(key)
                    row = existing.get(key)
                    if row is None:
                        new.append(clean)
                        created += 1
                    elif (row.term, dict(row.translations), row.note) == (clean.term, clean.translations, clean.note):
                        unchanged += 1
                    else:
                        await store.update_entry(s, row.id, clean, now)
                        updated += 1
                store.add_all(s, dialogue_id, new, created_by_id=actor.id, now=now)
                if replace:
                    stale = [r.id for key, r in existing.items() if key not in listed]
                    deleted = await store.delete_ids(s, dialogue_id, stale)
                kept = len(existing) - deleted + created
                if kept > ENTRIES_MAX:
                    raise Conflict("This glossary is full.", code="glossary_full")
        except IntegrityError:
            raise Conflict("The glossary changed while the list was imported; try again.",
                           code="glossary_changed") from None
        log.info("glossary %s imported by user %s: %s new, %s updated, %s deleted",
                 _scope_name(dialogue_id), actor.id, created, updated, deleted)
        if created or updated or deleted:
            await self._announce(dialogue_id)
        return ImportResult(created=created, updated=updated, unchanged=unchanged, deleted=deleted)

    # --- helpers ------------------------------------------------------------------------

    async def _access(self, s: AsyncSession, actor: Account, dialogue_id: int | None, *,
                      write: bool) -> DialogueInfo | None:
        """The dialogue (None for the installation's glossary), if ``actor`` may read it
        (and change it, with ``write``)."""
        if actor.role not in STAFF_ROLES:
            raise Forbidden("This is for organisers, facilitators and interpreters.", code="staff_only")
        if dialogue_id is None:
            if write and not edits_installation(actor):
                raise Forbidden("Only organisers can change the installation glossary.", code="role_required")
            return None
        check_id(dialogue_id)
        d = await dialogue_store.info(s, dialogue_id)
        if d is None:
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if not (sees_everything(actor) or runs(actor, d) or await _interprets(s, actor, d)):
            if await can_see(s, actor, d):
                raise Forbidden("Only the dialogue's staff can see its glossary.", code="not_dialogue_staff")
            raise NotFound("No such dialogue.", code="dialogue_not_found")
        if write and not runs(actor, d):
            raise Forbidden("Only the dialogue's organiser or facilitator can change its glossary.",
                            code="not_allowed")
        return d

    @staticmethod
    def _may_write(actor: Account, d: DialogueInfo | None, dialogue_id: int | None) -> bool:
        return edits_installation(actor) if dialogue_id is None else d is not None and runs(actor, d)

    @staticmethod
    async def _entry(s: AsyncSession, dialogue_id: int | None, entry_id: int) -> EntryInfo:
        row = await store.entry(s, dialogue_id, entry_id) if 0 < entry_id <= ID_MAX else None
        if row is None:
            raise NotFound("No such glossary entry.", code="glossary_entry_not_found")
        return row

    async def _announce(self, dialogue_id: int | None) -> None:
        await self.bus.publish(glossary_topic(dialogue_id), {"type": "glossary.updated", "dialogue_id": dialogue_id})


async def _interprets(s: AsyncSession, user: Account, d: DialogueInfo) -> bool:
    if user.role != Role.INTERPRETER:
        return False
    interpreters = await dialogue_store.interpreters(s, [d.id])
    return any(u.id == user.id for _, u in interpreters[d.id])


def _duplicate() -> Conflict:
    return Conflict("This term is already in the glossary for that language.", code="duplicate_term",
                    fields={"term": "duplicate"})


def _scope_name(dialogue_id: int | None) -> str:
    return "the installation" if dialogue_id is None else f"dialogue {dialogue_id}"
