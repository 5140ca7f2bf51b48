"""Leases on jobs that must run once across processes: queries only, inside the caller's
transaction.

Every change is one conditional statement, so two processes racing for a lease cannot both
win, on SQLite (one writer at a time) as on PostgreSQL (an UPDATE re-checks its WHERE on
the row a concurrent UPDATE just committed; ``INSERT ... ON CONFLICT DO NOTHING`` lets one
of two first inserts through). Times come from the caller's clock, so a lease's length must
be well above the clock skew between machines. A lease is read as a value (`LeaseInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Executable, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.lease_models import Lease

# What a released lease expires at: long ago, on every machine's clock.
RELEASED_AT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as it stood when read: who holds it, in which tenure, until when."""

    name: str
    holder: str
    generation: int
    acquired_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: Lease) -> LeaseInfo:
        return cls(row.name, row.holder, row.generation, row.acquired_at, row.expires_at)


def _insert_first(s: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta) -> Executable:
    """INSERT the lease's first row unless it exists (``ON CONFLICT DO NOTHING`` on both)."""
    values = {"name": name, "holder": holder, "generation": 1, "acquired_at": now, "expires_at": now + ttl}
    if s.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(Lease).values(**values).on_conflict_do_nothing(index_elements=[Lease.name])
        return pg.returning(Lease.generation)
    lite = sqlite.insert(Lease).values(**values).on_conflict_do_nothing(index_elements=[Lease.name])
    return lite.returning(Lease.generation)


async def acquire(s: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta) -> int | None:
    """Take the lease when nobody holds it, it expired, or ``holder`` holds it already (the
    generation goes up then too: a new tenure). Its new generation, or None when another
    holder has it."""
    first = await s.execute(_insert_first(s, name, holder, now, ttl))
    generation = first.scalar_one_or_none()
    if generation is not None:
        return int(generation)
    taken = await s.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == holder))
        .values(holder=holder, generation=Lease.generation + 1, acquired_at=now, expires_at=now + ttl)
        .returning(Lease.generation)
    )
    generation = taken.scalar_one_or_none()
    return None if generation is None else int(generation)


async def take_over(s: AsyncSession, name: str, holder: str, *, previous: str, generation: int, now: datetime,
                    ttl: timedelta) -> int | None:
    """Take the lease from ``previous`` (known dead) if it still holds ``generation``; the new
    generation, or None when the lease changed hands meanwhile."""
    taken = await s.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == previous, Lease.generation == generation)
        .values(holder=holder, generation=Lease.generation + 1, acquired_at=now, expires_at=now + ttl)
        .returning(Lease.generation)
    )
    new = taken.scalar_one_or_none()
    return None if new is None else int(new)


async def renew(s: AsyncSession, name: str, holder: str, generation: int, now: datetime, ttl: timedelta) -> bool:
    """Push the expiry on; False when the lease is no longer this holder's tenure."""
    result = await s.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.generation == generation)
        .values(expires_at=now + ttl)
        .returning(Lease.name)
    )
    return result.scalar_one_or_none() is not None


async def release(s: AsyncSession, name: str, holder: str, generation: int) -> bool:
    """Let the lease go at once (another holder may take it on its next try)."""
    result = await s.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder, Lease.generation == generation)
        .values(expires_at=RELEASED_AT)
        .returning(Lease.name)
    )
    return result.scalar_one_or_none() is not None


async def lease(s: AsyncSession, name: str) -> LeaseInfo | None:
    row = await s.get(Lease, name, populate_existing=True)
    return None if row is None else LeaseInfo.of(row)


async def all_leases(s: AsyncSession) -> list[LeaseInfo]:
    return [LeaseInfo.of(row) for row in (await s.execute(select(Lease).order_by(Lease.name))).scalars()]


async def still_held(s: AsyncSession, name: str, holder: str, generation: int) -> bool:
    """Fencing for a job's writes: True when this tenure still holds the lease. On PostgreSQL
    the row stays locked until the caller's transaction ends, so the lease cannot change hands
    between this check and the writes after it."""
    row = await s.execute(
        select(Lease.name)
        .where(Lease.name == name, Lease.holder == holder, Lease.generation == generation)
        .with_for_update()
    )
    return row.scalar_one_or_none() is not None


# --- many leases of one kind (one per meeting), renewed and scanned in one statement each ---


async def renew_all(s: AsyncSession, prefix: str, holder: str, now: datetime, ttl: timedelta) -> dict[str, int]:
    """Push on every lease named ``prefix...`` that ``holder`` still holds; name -> generation."""
    result = await s.execute(
        update(Lease)
        .where(Lease.name.startswith(prefix, autoescape=True), Lease.holder == holder)
        .values(expires_at=now + ttl)
        .returning(Lease.name, Lease.generation)
    )
    return {str(name): int(generation) for name, generation in result.all()}


async def lapsed(s: AsyncSession, prefix: str, now: datetime) -> list[str]:
    """The names of the leases named ``prefix...`` that nobody holds now."""
    q = select(Lease.name).where(Lease.name.startswith(prefix, autoescape=True), Lease.expires_at <= now)
    return [str(name) for name in (await s.execute(q)).scalars()]


async def holders(s: AsyncSession, prefix: str, now: datetime) -> list[str]:
    """Who holds the live leases named ``prefix...`` (one holder per process: a short list)."""
    q = select(Lease.holder).where(Lease.name.startswith(prefix, autoescape=True), Lease.expires_at > now).distinct()
    return [str(holder) for holder in (await s.execute(q)).scalars()]


async def held_by(s: AsyncSession, prefix: str, holder: str) -> list[tuple[str, int]]:
    """The leases named ``prefix...`` that ``holder`` holds: (name, generation)."""
    q = select(Lease.name, Lease.generation).where(Lease.name.startswith(prefix, autoescape=True),
                                                   Lease.holder == holder)
    return [(str(name), int(generation)) for name, generation in (await s.execute(q)).all()]


async def drop(s: AsyncSession, name: str, *, holder: str | None = None, lapsed_at: datetime | None = None) -> None:
    """Delete a lease no longer needed (its meeting ended): if ``holder`` holds it, or if
    nobody holds it at ``lapsed_at``."""
    q = delete(Lease).where(Lease.name == name)
    if holder is not None:
        q = q.where(Lease.holder == holder)
    if lapsed_at is not None:
        q = q.where(Lease.expires_at <= lapsed_at)
    await s.execute(q)
