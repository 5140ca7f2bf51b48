"""A dialogue's staff: whom an organiser may choose, the check that each new facilitator and
interpreter holds that role, and the workspace channel that always holds exactly the staff.

The channel is re-synced after commit whenever the title or staff change, so its members are
always the organiser, the facilitator and the interpreters. The workspace is reached through
`workspace.Workspace.sync_dialogue_channel` only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from parley.errors import Forbidden, InvalidInput
from parley.handlers.dialogues.validation import CleanDialogue
from parley.handlers.dialogues.views import DialogueView, Person, StaffChoices
from parley.storage.database import Database
from parley.storage.stores import dialogues as store
from parley.storage.stores.accounts import Account
from parley.vocabulary import Role

if TYPE_CHECKING:
    from parley.handlers.workspace import Workspace

log = logging.getLogger(__name__)


class Staff:
    def __init__(self, db: Database, workspace: Workspace) -> None:
        self.db = db
        self.workspace = workspace

    async def choices(self, actor: Account) -> StaffChoices:
        if actor.role not in (Role.ORGANISER, Role.ADMIN):
            raise Forbidden("Only organisers can choose dialogue staff.", code="role_required")
        async with self.db.session() as s:
            facilitators = await store.users_with_role(s, Role.FACILITATOR)
            interpreters = await store.users_with_role(s, Role.INTERPRETER)
        return StaffChoices(
            facilitators=[Person(u.id, u.display_name) for u in facilitators],
            interpreters=[Person(u.id, u.display_name) for u in interpreters],
        )

    async def check(self, s: AsyncSession, clean: CleanDialogue, previous: DialogueView | None) -> None:
        """New facilitators and interpreters must be active accounts with that role."""
        errors: dict[str, str] = {}
        old_facilitator = previous.facilitator.id if previous and previous.facilitator else None
        old_interpreters = {i.user_id for i in previous.interpreters} if previous else set()
        wanted: set[int] = set()
        if clean.facilitator_id is not None and clean.facilitator_id != old_facilitator:
            wanted.add(clean.facilitator_id)
        new_interpreters = {uid for uid, _ in clean.interpreters} - old_interpreters
        users = await store.users_by_ids(s, wanted | new_interpreters)
        if clean.facilitator_id in wanted:
            f = users.get(clean.facilitator_id)
            if f is None or f.role != Role.FACILITATOR or f.disabled:
                errors["facilitator_id"] = "not_facilitator"
        for uid in new_interpreters:
            u = users.get(uid)
            if u is None or u.role != Role.INTERPRETER or u.disabled:
                errors["interpreters"] = "not_interpreter"
        if errors:
            raise InvalidInput("Some fields need attention.", fields=errors)

    async def sync_channel(self, dialogue_id: int) -> None:
        """Make the dialogue's channel hold exactly its staff. Runs after commit; a failure
        is logged and repaired by the next change rather than undoing the dialogue's."""
        async with self.db.session() as s:
            d = await store.info(s, dialogue_id)
            if d is None:
                return
            interpreters = (await store.interpreters(s, [d.id]))[d.id]
            title = d.title
            members = {d.organiser_id, d.facilitator_id, *(u.id for _, u in interpreters)}
        try:
            await self.workspace.sync_dialogue_channel(dialogue_id, title, sorted(m for m in members if m))
        except Exception:
            log.exception("could not sync the workspace channel of dialogue %s", dialogue_id)
