"""Running a write in a transaction, once more if a concurrent writer won a unique race.

Two requests may create the same direct channel, dialogue channel or membership at once;
the loser fails on a unique constraint, and the retry then finds the winner's row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.database import Database

T = TypeVar("T")


async def transact(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a transaction, once more if a concurrent writer won a unique race."""
    for attempt in range(2):
        try:
            async with db.session() as s:
                return await work(s)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
