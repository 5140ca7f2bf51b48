"""Who may see a dialogue's own data: its transcript, report, recordings and meeting.

`dialogue_role` is the one answer every handler asks:

- ``staff``: admins, the dialogue's owner (the organiser who created it), its facilitator and
  its interpreters. What each may *change* stays with `dialogues.runs` / `dialogues.manages`.
- ``observer``: someone else on the campaign team (a staff account) holding an explicit
  grant for this dialogue, given by an admin or the dialogue's owner. Observers read the
  transcript (names replaced by #1, #2...) and the report, and listen in the meeting, shown
  to everyone as an observer. Every grant, revoke and use goes to the audit log.
- ``participant``: registered for it.
- ``none``: anyone else, other organisers included.

Being an organiser is no longer enough: the campaign team sees every dialogue's listing and
counts, but not what was said in it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from parley.bus.base import Bus
from parley.clock import Clock
from parley.errors import Forbidden, InvalidInput, NotFound
from parley.handlers.dialogues import check_id, dialogue_topic, manages
from parley.reference import N_
from parley.storage.database import Database
from parley.storage.stores import access as store
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import registration as reg_store
from parley.storage.stores.access import AuditInfo
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo
from parley.vocabulary import STAFF_ROLES, AuditAction, Role

log = logging.getLogger(__name__)

AUDIT_PAGE_MAX = 200


class DialogueRole(enum.StrEnum):
    STAFF = "staff"
    OBSERVER = "observer"
    PARTICIPANT = "participant"
    NONE = "none"


SEES_CONTENT = frozenset({DialogueRole.STAFF, DialogueRole.OBSERVER})


def _staff_without_lookup(user: Account, d: DialogueInfo) -> bool:
    return user.role == Role.ADMIN or user.id in (d.organiser_id, d.facilitator_id)


async def dialogue_roles(s: AsyncSession, user: Account | None,
                         dialogues: Sequence[DialogueInfo]) -> dict[int, DialogueRole]:
    """`dialogue_role` for many dialogues at once (listings), in a fixed number of queries."""
    out = {d.id: DialogueRole.NONE for d in dialogues}
    if user is None or user.disabled or not dialogues:
        return out
    rest = []
    for d in dialogues:
        if _staff_without_lookup(user, d):
            out[d.id] = DialogueRole.STAFF
        else:
            rest.append(d.id)
    if not rest:
        return out
    interpreting: set[int] = set()
    if user.role == Role.INTERPRETER:
        listed = await dialogue_store.interpreters(s, rest)
        interpreting = {i for i, people in listed.items() if any(u.id == user.id for _, u in people)}
    observing = await store.observes(s, rest, user.id) if user.role in STAFF_ROLES else set()
    registered = await reg_store.registered_in(s, user.id, rest)
    for i in rest:
        if i in interpreting:
            out[i] = DialogueRole.STAFF
        elif i in observing:
            out[i] = DialogueRole.OBSERVER
        elif i in registered:
            out[i] = DialogueRole.PARTICIPANT
    return out


async def dialogue_role(s: AsyncSession, user: Account | None, d: DialogueInfo) -> DialogueRole:
    """What ``user`` is to dialogue ``d``: staff, observer, participant or none (see the module)."""
    return (await dialogue_roles(s, user, [d]))[d.id]


class Identified(Protocol):
    """A dialogue as `note_use` needs it: a `DialogueInfo`, or the `MeetingDialogue` a meeting reads."""

    @property
    def id(self) -> int: ...


async def note_use(s: AsyncSession, at: datetime, user: Account, d: Identified, role: DialogueRole,
                   action: AuditAction, detail: str = "") -> None:
    """Write an observer's use of their right to the audit log (in the caller's transaction,
    so a use is logged exactly when it happened). Staff use is their job and is not logged."""
    if role == DialogueRole.OBSERVER:
        store.audit(s, at=at, action=action, actor_id=user.id, dialogue_id=d.id, detail=detail)


@dataclass(frozen=True)
class ObserverView:
    user_id: int
    display_name: str
    role: Role
    granted_by_id: int | None
    granted_at: datetime


@dataclass(frozen=True)
class AuditEntry(AuditInfo):
    # Resolved when read ("" once the account or dialogue is gone; the ids stay).
    actor_name: str = ""
    subject_name: str = ""
    dialogue_title: str = ""

    @classmethod
    def of(cls, row: AuditInfo, names: Mapping[int, str], titles: Mapping[int, str]) -> AuditEntry:
        return cls(row.id, row.at, row.action, row.actor_id, row.dialogue_id, row.subject_id, row.detail,
                   actor_name=names.get(row.actor_id or 0, ""), subject_name=names.get(row.subject_id or 0, ""),
                   dialogue_title=titles.get(row.dialogue_id, ""))


class Observers:
    """Observer grants per dialogue (admins and the dialogue's owner), and the audit log (admins)."""

    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def _managed(self, s: AsyncSession, actor: Account, dialogue_id: int) -> DialogueInfo:
        check_id(dialogue_id)
        d = await dialogue_store.info(s, dialogue_id)
        if d is None:
            raise NotFound(N_("No such dialogue."), code="dialogue_not_found")
        if not manages(actor, d):
            raise Forbidden(N_("Only an admin or the dialogue's owner can choose its observers."),
                            code="not_dialogue_owner")
        return d

    async def of_dialogue(self, actor: Account, dialogue_id: int) -> list[ObserverView]:
        async with self.db.session() as s:
            await self._managed(s, actor, dialogue_id)
            return [ObserverView(u.id, u.display_name, u.role, o.granted_by_id, o.granted_at)
                    for o, u in await store.observers(s, dialogue_id)]

    async def candidates(self, actor: Account, dialogue_id: int) -> list[Account]:
        """Staff accounts that could be made observers (not its staff, not observing yet)."""
        async with self.db.session() as s:
            d = await self._managed(s, actor, dialogue_id)
            people = [u for role in (Role.ORGANISER, Role.FACILITATOR, Role.INTERPRETER)
                      for u in await dialogue_store.users_with_role(s, role)]
            roles = {u.id: (await dialogue_roles(s, u, [d]))[d.id] for u in people}
            return sorted((u for u in people if roles[u.id] not in SEES_CONTENT),
                          key=lambda u: (u.display_name.casefold(), u.id))

    async def grant(self, actor: Account, dialogue_id: int, user_id: int) -> list[ObserverView]:
        """Let ``user_id`` (a staff account, not already on the dialogue's staff) observe."""
        check_id(user_id)
        async with self.db.session() as s:
            d = await self._managed(s, actor, dialogue_id)
            users = await dialogue_store.users_by_ids(s, {user_id})
            who = users.get(user_id)
            if who is None or who.disabled or who.role not in STAFF_ROLES:
                raise InvalidInput(N_("Observers must be active staff accounts."), fields={"user_id": "not_staff"},
                                   code="observer_not_staff")
            if await dialogue_role(s, who, d) == DialogueRole.STAFF:
                raise InvalidInput(N_("This person is already on the dialogue's staff."),
                                   fields={"user_id": "already_staff"}, code="already_staff")
            if dialogue_id not in await store.observes(s, [dialogue_id], user_id):
                now = self.clock.now()
                store.add_observer(s, dialogue_id=dialogue_id, user_id=user_id, granted_by_id=actor.id,
                                   granted_at=now)
                store.audit(s, at=now, action=AuditAction.GRANT, actor_id=actor.id, dialogue_id=dialogue_id,
                            subject_id=user_id)
                log.info("dialogue %s: user %s may observe (granted by user %s)", dialogue_id, user_id, actor.id)
        return await self.of_dialogue(actor, dialogue_id)

    async def revoke(self, actor: Account, dialogue_id: int, user_id: int) -> list[ObserverView]:
        check_id(user_id)
        async with self.db.session() as s:
            await self._managed(s, actor, dialogue_id)
            if not await store.remove_observer(s, dialogue_id, user_id):
                raise NotFound(N_("This person does not observe this dialogue."), code="observer_not_found")
            store.audit(s, at=self.clock.now(), action=AuditAction.REVOKE, actor_id=actor.id,
                        dialogue_id=dialogue_id, subject_id=user_id)
            log.info("dialogue %s: user %s no longer observes (revoked by user %s)", dialogue_id, user_id, actor.id)
        # The meeting sends a present observer out (`Meetings` watches the dialogue's topic).
        await self.bus.publish(dialogue_topic(dialogue_id), {"type": "dialogue.observer_revoked",
                                                             "dialogue_id": dialogue_id, "user_id": user_id})
        return await self.of_dialogue(actor, dialogue_id)

    async def audit_log(self, actor: Account, *, dialogue_id: int | None = None, before: int | None = None,
                        limit: int = 100) -> list[AuditEntry]:
        """The access audit log, newest first: admins only."""
        if actor.role != Role.ADMIN:
            raise Forbidden(N_("The access log is for admins."), code="not_admin")
        if not 1 <= limit <= AUDIT_PAGE_MAX:
            raise InvalidInput(N_("Ask for 1 to 200 entries."), fields={"limit": "range"}, code="invalid_limit")
        async with self.db.session() as s:
            rows = await store.audit_log(s, dialogue_id=dialogue_id, before=before, limit=limit)
            people = {i for r in rows for i in (r.actor_id, r.subject_id) if i is not None}
            names = {i: u.display_name for i, u in (await dialogue_store.users_by_ids(s, people)).items()}
            titles = await store.dialogue_titles(s, {r.dialogue_id for r in rows})
            return [AuditEntry.of(r, names, titles) for r in rows]
