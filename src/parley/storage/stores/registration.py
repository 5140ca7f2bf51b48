"""Registrations: a participant's place in a dialogue."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import Dialogue, Registration
from parley.storage.stores.dialogues import DialogueInfo


async def registration(s: AsyncSession, dialogue_id: int, user_id: int) -> Registration | None:
    rows = await s.execute(
        select(Registration).where(Registration.dialogue_id == dialogue_id, Registration.user_id == user_id)
    )
    return rows.scalars().unique().one_or_none()


def add(s: AsyncSession, registration: Registration) -> None:
    """A new registration, written with the caller's next flush or commit."""
    s.add(registration)


async def delete_one(s: AsyncSession, registration: Registration) -> None:
    await s.delete(registration)


async def registered_in(s: AsyncSession, user_id: int, dialogue_ids: Collection[int]) -> set[int]:
    """Which of these dialogues ``user_id`` is registered for."""
    if not dialogue_ids:
        return set()
    rows = await s.execute(select(Registration.dialogue_id).where(
        Registration.user_id == user_id, Registration.dialogue_id.in_(list(dialogue_ids))))
    return set(rows.scalars())


async def count(s: AsyncSession, dialogue_id: int) -> int:
    q = select(func.count()).select_from(Registration).where(Registration.dialogue_id == dialogue_id)
    return int((await s.execute(q)).scalar_one())


async def of_user(s: AsyncSession, user_id: int) -> list[tuple[Registration, DialogueInfo]]:
    rows = await s.execute(
        select(Registration, Dialogue)
        .join(Dialogue, Dialogue.id == Registration.dialogue_id)
        .where(Registration.user_id == user_id)
        .order_by(Dialogue.starts_at, Dialogue.id)
    )
    return [(r, DialogueInfo.of(d)) for r, d in rows.unique()]


async def of_dialogue(s: AsyncSession, dialogue_id: int) -> list[Registration]:
    rows = await s.execute(
        select(Registration)
        .where(Registration.dialogue_id == dialogue_id)
        .order_by(Registration.created_at, Registration.id)
    )
    return list(rows.scalars().unique())


async def preferred_languages(s: AsyncSession, dialogue_id: int) -> set[str]:
    rows = await s.execute(
        select(Registration.preferred_language).where(Registration.dialogue_id == dialogue_id).distinct()
    )
    return set(rows.scalars())


async def delete_of_user(s: AsyncSession, user_id: int) -> int:
    result = await s.execute(delete(Registration).where(Registration.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
