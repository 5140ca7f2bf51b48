"""Creating and editing dialogues, and renewing their invite codes.

Every change is stored first, then announced on ``dialogue:<id>`` (``dialogue.created`` /
``dialogue.updated``); the staff's workspace channel follows after commit (`staff.Staff`).
Only the organiser (or an admin) edits, and only until the dialogue has ended.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues.access import can_see, manages
from parley.handlers.dialogues.reading import Reader, locked
from parley.handlers.dialogues.staff import Staff
from parley.handlers.dialogues.states import EDITABLE_STATES, dialogue_topic
from parley.handlers.dialogues.validation import DialogueInput, check_id, validate
from parley.handlers.dialogues.views import DialogueView
from parley.security import new_token
from parley.storage.database import Database
from parley.storage.stores import dialogues as store
from parley.storage.stores import registration as reg_store
from parley.storage.stores.accounts import Account
from parley.vocabulary import DialogueState, Role

log = logging.getLogger(__name__)


class Editing:
    def __init__(self, db: Database, clock: Clock, bus: Bus, reader: Reader, staff: Staff) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.reader = reader
        self.staff = staff

    async def create(self, actor: Account, data: DialogueInput) -> DialogueView:
        if actor.role not in (Role.ORGANISER, Role.ADMIN):
            raise Forbidden("Only organisers can create dialogues.", code="role_required")
        clean = validate(data)
        now = self.clock.now()
        async with self.db.session() as s:
            await self.staff.check(s, clean, previous=None)
            dialogue_id = await store.add(s, clean, organiser_id=actor.id, invite_code=new_token(12),
                                          now=now)
            await store.replace_interpreters(s, dialogue_id, clean.interpreters)
        log.info("dialogue %s created by user %s", dialogue_id, actor.id)
        await self.staff.sync_channel(dialogue_id)
        await self.bus.publish(dialogue_topic(dialogue_id), {"type": "dialogue.created", "dialogue_id": dialogue_id})
        return await self.reader.get(actor, dialogue_id)

    async def update(self, actor: Account, dialogue_id: int, changes: Mapping[str, Any]) -> DialogueView:
        """Apply ``changes`` (field name -> new value, as in `DialogueInput`) to a dialogue."""
        current = await self.reader.get(actor, check_id(dialogue_id))
        async with self.db.session() as s:
            d = await locked(s, dialogue_id)
            if not manages(actor, d):
                raise Forbidden("Only the dialogue's organiser can change it.", code="not_organiser")
            if d.state not in EDITABLE_STATES:
                raise Conflict("This dialogue has ended and can no longer be changed.", code="dialogue_closed")
            clean = validate(current.as_input().merged(changes))
            errors: dict[str, str] = {}
            if clean.starts_at != d.starts_at:
                if d.state == DialogueState.LIVE:
                    errors["starts_at"] = "locked_live"
                elif d.state == DialogueState.SCHEDULED and (
                    clean.starts_at is None or clean.starts_at <= self.clock.now()
                ):
                    errors["starts_at"] = "required" if clean.starts_at is None else "past"
            registered = await reg_store.count(s, d.id)
            if clean.capacity < registered:
                errors["capacity"] = "below_registrations"
            if await reg_store.preferred_languages(s, d.id) - set(clean.languages):
                errors["languages"] = "in_use"
            if errors:
                raise InvalidInput("Some fields need attention.", fields=errors)
            await self.staff.check(s, clean, previous=current)
            staff_before = (d.title, d.facilitator_id, sorted((i.user_id, i.language) for i in current.interpreters))
            await store.update_details(s, d.id, clean, self.clock.now())
            await store.replace_interpreters(s, d.id, clean.interpreters)
            staff_after = (clean.title, clean.facilitator_id, sorted(clean.interpreters))
        if staff_before != staff_after:
            await self.staff.sync_channel(dialogue_id)
        await self.bus.publish(dialogue_topic(dialogue_id), {"type": "dialogue.updated", "dialogue_id": dialogue_id})
        return await self.reader.get(actor, dialogue_id)

    async def regenerate_invite_code(self, actor: Account, dialogue_id: int) -> DialogueView:
        """A new code for the invite link; links shared before stop working."""
        check_id(dialogue_id)
        async with self.db.session() as s:
            d = await locked(s, dialogue_id)
            if not manages(actor, d):
                if not await can_see(s, actor, d):
                    raise NotFound("No such dialogue.", code="dialogue_not_found")
                raise Forbidden("Only the dialogue's organiser can do this.", code="not_organiser")
            await store.set_invite_code(s, d.id, new_token(12), self.clock.now())
        return await self.reader.get(actor, dialogue_id)
