"""Dialogues, their interpreters, and the listings and counts built on them.

Callers get values (`DialogueInfo`, people as `Account`), never rows: a change is a call here,
so nothing is written by setting an attribute. `dialogue` still hands out the row, for the
interpretation handlers until they read `info`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, and_, cast, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.models import Dialogue, DialogueInterpreter, DialogueState, Registration, Role, User, Visibility
from parley.storage.stores.accounts import Account


@dataclass(frozen=True)
class DialogueInfo:
    """A dialogue as handlers read it: a value, with its organiser and facilitator."""

    id: int
    title: str
    description: str
    questions: tuple[str, ...]
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    capacity: int
    languages: tuple[str, ...]
    country: str | None
    organiser_id: int | None
    facilitator_id: int | None
    visibility: Visibility
    invite_code: str
    state: DialogueState
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    report_submitted_at: datetime | None
    organiser: Account | None
    facilitator: Account | None

    @classmethod
    def of(cls, row: Dialogue) -> DialogueInfo:
        return cls(
            id=row.id, title=row.title, description=row.description, questions=tuple(row.questions),
            starts_at=row.starts_at, time_zone=row.time_zone, duration_minutes=row.duration_minutes,
            capacity=row.capacity, languages=tuple(row.languages), country=row.country,
            organiser_id=row.organiser_id, facilitator_id=row.facilitator_id, visibility=row.visibility,
            invite_code=row.invite_code, state=row.state, created_at=row.created_at, updated_at=row.updated_at,
            published_at=row.published_at, started_at=row.started_at, ended_at=row.ended_at,
            report_submitted_at=row.report_submitted_at,
            organiser=None if row.organiser is None else Account.of(row.organiser),
            facilitator=None if row.facilitator is None else Account.of(row.facilitator),
        )


async def info(s: AsyncSession, dialogue_id: int) -> DialogueInfo | None:
    row = await s.get(Dialogue, dialogue_id)
    return None if row is None else DialogueInfo.of(row)


@dataclass(frozen=True)
class DialogueDetails:
    """What the organiser's form sets on a dialogue (`add`, `update_details`)."""

    title: str
    description: str
    questions: list[str]
    starts_at: datetime | None
    time_zone: str
    duration_minutes: int
    capacity: int
    languages: list[str]
    country: str | None
    facilitator_id: int | None
    visibility: Visibility

    def values(self) -> dict[str, Any]:
        """The fields as column values (a subclass's own fields left out)."""
        return {f.name: getattr(self, f.name) for f in fields(DialogueDetails)}


async def add(s: AsyncSession, details: DialogueDetails, *, organiser_id: int, invite_code: str, now: datetime) -> int:
    """Insert a draft now, so the new dialogue has its id (returned)."""
    row = Dialogue(**details.values(), organiser_id=organiser_id, invite_code=invite_code, state=DialogueState.DRAFT,
                   created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    return row.id


async def update_details(s: AsyncSession, dialogue_id: int, details: DialogueDetails, now: datetime) -> None:
    await s.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(**details.values(), updated_at=now))


async def set_invite_code(s: AsyncSession, dialogue_id: int, code: str, now: datetime) -> None:
    await s.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(invite_code=code, updated_at=now))


_STAMPS = frozenset({"published_at", "started_at", "ended_at", "report_submitted_at"})


async def set_state(
    s: AsyncSession, dialogue_id: int, state: DialogueState, now: datetime, **stamps: datetime | None
) -> None:
    """Move to ``state``; ``stamps`` set the times the move records (``published_at=None``
    clears one)."""
    if not stamps.keys() <= _STAMPS:
        raise ValueError(f"not a dialogue's time: {sorted(stamps.keys() - _STAMPS)}")
    await s.execute(update(Dialogue).where(Dialogue.id == dialogue_id).values(state=state, updated_at=now, **stamps))


async def lock(s: AsyncSession, dialogue_id: int) -> bool:
    """Lock the dialogue's row until the transaction ends (PostgreSQL; SQLite writers are
    serialised anyway). False when there is no such dialogue."""
    row = await s.execute(select(Dialogue.id).where(Dialogue.id == dialogue_id).with_for_update())
    return row.scalar_one_or_none() is not None


async def users_by_ids(s: AsyncSession, ids: Collection[int]) -> dict[int, Account]:
    if not ids:
        return {}
    rows = await s.execute(select(User).where(User.id.in_(list(ids))))
    return {u.id: Account.of(u) for u in rows.scalars()}


async def users_with_role(s: AsyncSession, role: Role) -> list[Account]:
    rows = await s.execute(
        select(User).where(User.role == role, User.disabled.is_(False)).order_by(User.display_name, User.id)
    )
    return [Account.of(u) for u in rows.scalars()]


async def interpreters(s: AsyncSession, dialogue_ids: Collection[int]) -> dict[int, list[tuple[str, Account]]]:
    """(language, user) per dialogue, in a stable order."""
    out: dict[int, list[tuple[str, Account]]] = {i: [] for i in dialogue_ids}
    if not dialogue_ids:
        return out
    rows = await s.execute(
        select(DialogueInterpreter.dialogue_id, DialogueInterpreter.language, User)
        .join(User, User.id == DialogueInterpreter.user_id)
        .where(DialogueInterpreter.dialogue_id.in_(list(dialogue_ids)))
        .order_by(DialogueInterpreter.language, User.display_name, User.id)
    )
    for dialogue_id, language, user in rows:
        out[dialogue_id].append((language, Account.of(user)))
    return out


async def replace_interpreters(s: AsyncSession, dialogue_id: int, pairs: Iterable[tuple[int, str]]) -> None:
    await s.execute(delete(DialogueInterpreter).where(DialogueInterpreter.dialogue_id == dialogue_id))
    for user_id, language in pairs:
        s.add(DialogueInterpreter(dialogue_id=dialogue_id, user_id=user_id, language=language))


async def registration_counts(s: AsyncSession, dialogue_ids: Collection[int]) -> dict[int, int]:
    out = dict.fromkeys(dialogue_ids, 0)
    if not dialogue_ids:
        return out
    rows = await s.execute(
        select(Registration.dialogue_id, func.count())
        .where(Registration.dialogue_id.in_(list(dialogue_ids)))
        .group_by(Registration.dialogue_id)
    )
    for dialogue_id, n in rows:
        out[dialogue_id] = int(n)
    return out


async def registered_dialogue_ids(s: AsyncSession, user_id: int, dialogue_ids: Collection[int]) -> set[int]:
    if not dialogue_ids:
        return set()
    rows = await s.execute(
        select(Registration.dialogue_id).where(
            Registration.user_id == user_id, Registration.dialogue_id.in_(list(dialogue_ids))
        )
    )
    return set(rows.scalars())


# --- the public listing --------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Filters:
    """The listing filters, already validated by the handler; empty ones match everything."""

    q: str = ""
    language: str = ""
    country: str = ""
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def _where(f: Filters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.q:
        out.append(
            or_(Dialogue.title.icontains(f.q, autoescape=True), Dialogue.description.icontains(f.q, autoescape=True))
        )
    if f.language:
        # The JSON list is stored as text on both backends: look for the quoted code.
        out.append(cast(Dialogue.languages, String).like(f'%"{_escape_like(f.language)}"%', escape="\\"))
    if f.country:
        out.append(Dialogue.country == f.country)
    if f.starts_from is not None:
        out.append(Dialogue.starts_at >= f.starts_from)
    if f.starts_before is not None:
        out.append(Dialogue.starts_at < f.starts_before)
    return out


async def search(
    s: AsyncSession,
    where: Filters,
    *,
    states: Collection[DialogueState],
    public_only: bool,
    offset: int,
    limit: int,
) -> tuple[list[DialogueInfo], int]:
    clauses = [Dialogue.state.in_(list(states)), *_where(where)]
    if public_only:
        clauses.append(Dialogue.visibility == Visibility.PUBLIC)
    total = int((await s.execute(select(func.count()).select_from(Dialogue).where(*clauses))).scalar_one())
    rows = await s.execute(
        select(Dialogue).where(*clauses).order_by(Dialogue.starts_at, Dialogue.id).offset(offset).limit(limit)
    )
    return [DialogueInfo.of(d) for d in rows.scalars().unique()], total


async def country_counts(
    s: AsyncSession, where: Filters, *, states: Collection[DialogueState]
) -> list[tuple[str, int]]:
    n = func.count().label("n")
    rows = await s.execute(
        select(Dialogue.country, n)
        .where(Dialogue.state.in_(list(states)), Dialogue.country.is_not(None), *_where(where))
        .group_by(Dialogue.country)
        .order_by(n.desc(), Dialogue.country)
    )
    return [(str(country), int(count)) for country, count in rows]


# --- the organisers' overview -----------------------------------------------------------------


def _involving(user_id: int | None) -> ColumnElement[bool]:
    """Dialogues a member of staff organises, facilitates or interprets for; None: all."""
    if user_id is None:
        return true()
    interpreting = select(DialogueInterpreter.dialogue_id).where(DialogueInterpreter.user_id == user_id)
    return or_(
        Dialogue.organiser_id == user_id,
        Dialogue.facilitator_id == user_id,
        Dialogue.id.in_(interpreting),
    )


async def state_counts(s: AsyncSession, involving: int | None) -> dict[DialogueState, int]:
    """Dialogues per state: those ``involving`` this member of staff, or all (None)."""
    out = dict.fromkeys(DialogueState, 0)
    rows = await s.execute(
        select(Dialogue.state, func.count()).where(_involving(involving)).group_by(Dialogue.state)
    )
    for state, n in rows:
        out[DialogueState(state)] = int(n)
    return out


_ORDERS = {
    "starts": (Dialogue.starts_at, Dialogue.id),
    "ended": (Dialogue.ended_at, Dialogue.id),
    "newest_report": (Dialogue.report_submitted_at.desc(), Dialogue.id.desc()),
}


async def in_state(
    s: AsyncSession,
    state: DialogueState,
    involving: int | None,
    *,
    order: Literal["starts", "ended", "newest_report"] = "starts",
    limit: int = 100,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
) -> list[DialogueInfo]:
    """Dialogues in ``state`` (those ``involving`` a member of staff, or all), soonest first,
    longest ended first, or newest report first."""
    q = select(Dialogue).where(Dialogue.state == state, _involving(involving))
    if starts_from is not None or starts_before is not None:
        q = q.where(and_(*_where(Filters(starts_from=starts_from, starts_before=starts_before))))
    q = q.order_by(*_ORDERS[order]).limit(limit)
    return [DialogueInfo.of(d) for d in (await s.execute(q)).scalars().unique()]
