"""Registrations: a participant's place in a dialogue.

Callers get values (`RegistrationInfo`, with its dialogue as `DialogueInfo` or its person as
`Account`), never rows: registering, changing a consent and leaving are calls here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import Dialogue, Registration
from parley.storage.stores.accounts import Account
from parley.storage.stores.dialogues import DialogueInfo


@dataclass(frozen=True)
class Answers:
    """What a registration form sets: the language spoken, the country, the demographics (in
    the survey's codes; None: registered before they were asked so) and the consents."""

    preferred_language: str
    country: str
    age_group: str | None
    gender: str
    education: str | None
    consent_participate: bool
    consent_transcript: bool
    consent_quotes: bool

    def values(self) -> dict[str, Any]:
        """The answers as column values (only these, also from a `RegistrationInfo`)."""
        return {f.name: getattr(self, f.name) for f in fields(Answers)}


@dataclass(frozen=True)
class RegistrationInfo(Answers):
    """A stored registration."""

    id: int
    dialogue_id: int
    user_id: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Registration) -> RegistrationInfo:
        return cls(
            id=row.id, dialogue_id=row.dialogue_id, user_id=row.user_id,
            preferred_language=row.preferred_language, country=row.country, age_group=row.age_group,
            gender=row.gender, education=row.education, consent_participate=row.consent_participate,
            consent_transcript=row.consent_transcript, consent_quotes=row.consent_quotes,
            created_at=row.created_at, updated_at=row.updated_at,
        )


async def registration(s: AsyncSession, dialogue_id: int, user_id: int) -> RegistrationInfo | None:
    rows = await s.execute(
        select(Registration).where(Registration.dialogue_id == dialogue_id, Registration.user_id == user_id)
    )
    row = rows.scalars().unique().one_or_none()
    return None if row is None else RegistrationInfo.of(row)


async def add(s: AsyncSession, dialogue_id: int, user_id: int, answers: Answers, now: datetime) -> int:
    """A new registration made ``now``; its id."""
    row = Registration(dialogue_id=dialogue_id, user_id=user_id, created_at=now, updated_at=now, **answers.values())
    s.add(row)
    await s.flush()
    return row.id


async def update_answers(s: AsyncSession, registration_id: int, answers: Answers, now: datetime) -> None:
    """Registering again: the form's answers replace the stored ones."""
    await s.execute(update(Registration).where(Registration.id == registration_id)
                    .values(updated_at=now, **answers.values()))


async def set_consent(s: AsyncSession, registration_id: int, *, transcript: bool, quotes: bool,
                      now: datetime) -> None:
    await s.execute(update(Registration).where(Registration.id == registration_id)
                    .values(consent_transcript=transcript, consent_quotes=quotes, updated_at=now))


async def delete_one(s: AsyncSession, registration_id: int) -> None:
    await s.execute(delete(Registration).where(Registration.id == registration_id))


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


async def of_user(s: AsyncSession, user_id: int) -> list[tuple[RegistrationInfo, DialogueInfo]]:
    rows = await s.execute(
        select(Registration, Dialogue)
        .join(Dialogue, Dialogue.id == Registration.dialogue_id)
        .where(Registration.user_id == user_id)
        .order_by(Dialogue.starts_at, Dialogue.id)
    )
    return [(RegistrationInfo.of(r), DialogueInfo.of(d)) for r, d in rows.unique()]


async def of_dialogue(s: AsyncSession, dialogue_id: int) -> list[tuple[RegistrationInfo, Account]]:
    """The dialogue's registrations, oldest first, each with its person."""
    rows = await s.execute(
        select(Registration)
        .where(Registration.dialogue_id == dialogue_id)
        .order_by(Registration.created_at, Registration.id)
    )
    return [(RegistrationInfo.of(r), Account.of(r.user)) for r in rows.scalars().unique()]


async def preferred_languages(s: AsyncSession, dialogue_id: int) -> set[str]:
    rows = await s.execute(
        select(Registration.preferred_language).where(Registration.dialogue_id == dialogue_id).distinct()
    )
    return set(rows.scalars())


async def delete_of_user(s: AsyncSession, user_id: int) -> int:
    result = await s.execute(delete(Registration).where(Registration.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
