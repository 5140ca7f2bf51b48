"""Observer grants and the access audit log, handed out as values (`ObserverInfo` with the
observer's `Account`, `AuditInfo`); grants and log entries are added by calls here."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.access_models import AccessAudit, AuditAction, DialogueObserver
from parley.storage.models import Dialogue, User
from parley.storage.stores.accounts import Account


@dataclass(frozen=True)
class ObserverInfo:
    """A grant to observe a dialogue."""

    dialogue_id: int
    user_id: int
    # None once the account that granted it is gone.
    granted_by_id: int | None
    granted_at: datetime


@dataclass(frozen=True)
class AuditInfo:
    """One entry of the access audit log: ids only, kept when the people or the dialogue go."""

    id: int
    at: datetime
    action: AuditAction
    actor_id: int | None
    dialogue_id: int
    subject_id: int | None
    detail: str


async def observes(s: AsyncSession, dialogue_ids: Collection[int], user_id: int) -> set[int]:
    """Which of these dialogues ``user_id`` holds an observer grant for."""
    if not dialogue_ids:
        return set()
    rows = await s.execute(select(DialogueObserver.dialogue_id).where(
        DialogueObserver.user_id == user_id, DialogueObserver.dialogue_id.in_(list(dialogue_ids))))
    return set(rows.scalars())


async def observers(s: AsyncSession, dialogue_id: int) -> list[tuple[ObserverInfo, Account]]:
    """The dialogue's observers, by name."""
    rows = await s.execute(
        select(DialogueObserver, User).join(User, User.id == DialogueObserver.user_id)
        .where(DialogueObserver.dialogue_id == dialogue_id)
        .order_by(User.display_name, User.id)
    )
    return [(ObserverInfo(o.dialogue_id, o.user_id, o.granted_by_id, o.granted_at), Account.of(u))
            for o, u in rows.unique()]


def add_observer(s: AsyncSession, *, dialogue_id: int, user_id: int, granted_by_id: int, granted_at: datetime) -> None:
    s.add(DialogueObserver(dialogue_id=dialogue_id, user_id=user_id, granted_by_id=granted_by_id,
                           granted_at=granted_at))


async def remove_observer(s: AsyncSession, dialogue_id: int, user_id: int) -> bool:
    result = await s.execute(delete(DialogueObserver).where(
        DialogueObserver.dialogue_id == dialogue_id, DialogueObserver.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))


def audit(s: AsyncSession, *, at: datetime, action: AuditAction, actor_id: int | None, dialogue_id: int,
          subject_id: int | None = None, detail: str = "") -> None:
    s.add(AccessAudit(at=at, action=action, actor_id=actor_id, dialogue_id=dialogue_id, subject_id=subject_id,
                      detail=detail[:64]))


async def audit_log(s: AsyncSession, *, dialogue_id: int | None = None, before: int | None = None,
                    limit: int = 100) -> list[AuditInfo]:
    """Newest first; ``before`` an id, for paging back."""
    q = select(AccessAudit).order_by(AccessAudit.id.desc()).limit(limit)
    if dialogue_id is not None:
        q = q.where(AccessAudit.dialogue_id == dialogue_id)
    if before is not None:
        q = q.where(AccessAudit.id < before)
    return [AuditInfo(r.id, r.at, r.action, r.actor_id, r.dialogue_id, r.subject_id, r.detail)
            for r in (await s.execute(q)).scalars()]


async def dialogue_titles(s: AsyncSession, dialogue_ids: Collection[int]) -> dict[int, str]:
    if not dialogue_ids:
        return {}
    rows = await s.execute(select(Dialogue.id, Dialogue.title).where(Dialogue.id.in_(list(dialogue_ids))))
    return {int(i): str(title) for i, title in rows}
