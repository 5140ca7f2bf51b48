"""The final caption lines shown to each open meeting: queries only, inside the caller's
transaction. Identifiers, never text.

`shown` is one conditional statement after another, so two processes showing the same line
at once (an owner that lost its lease and the next one) cannot both be first: ``INSERT ... ON
CONFLICT DO NOTHING`` lets one of two first inserts through, and an UPDATE re-checks its WHERE
on the row a concurrent one just committed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Executable, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.meeting_models import CaptionFinal


def _insert_first(s: AsyncSession, values: dict[str, object]) -> Executable:
    keys = [CaptionFinal.meeting_id, CaptionFinal.speaker_id, CaptionFinal.utterance_id, CaptionFinal.role,
            CaptionFinal.language]
    if s.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(CaptionFinal).values(**values).on_conflict_do_nothing(index_elements=keys)
        return pg.returning(CaptionFinal.revision)
    lite = sqlite.insert(CaptionFinal).values(**values).on_conflict_do_nothing(index_elements=keys)
    return lite.returning(CaptionFinal.revision)


async def shown(s: AsyncSession, meeting_id: int, *, speaker_id: str, utterance_id: str, role: str, language: str,
                revision: int, forced: bool) -> bool:
    """Record a final as shown: False when it adds nothing to the final shown before (the same
    final again, an older revision, or a forced final after a real one). A real final after a
    forced one (made from the last partial when the real one could not come), or a later
    revision, replaces it, as the page does (`frontend/src/meeting/caption_finals.js`). A line
    is (speaker, utterance, role, language), as the worker named it."""
    line = {"speaker_id": speaker_id[:64], "utterance_id": utterance_id[:64], "role": role[:16],
            "language": language[:16]}
    values: dict[str, object] = {"meeting_id": meeting_id, **line, "revision": revision, "forced": forced}
    first = await s.execute(_insert_first(s, values))
    if first.scalar_one_or_none() is not None:
        return True
    older: ColumnElement[bool] = CaptionFinal.revision < revision
    replaces = (CaptionFinal.forced.is_(True) & older) if forced else (CaptionFinal.forced.is_(True) | older)
    key = [getattr(CaptionFinal, name) == value for name, value in line.items()]
    replaced = await s.execute(update(CaptionFinal).where(CaptionFinal.meeting_id == meeting_id, *key, replaces)
                               .values(revision=revision, forced=forced).returning(CaptionFinal.revision))
    return replaced.scalar_one_or_none() is not None


async def forget_meeting(s: AsyncSession, meeting_id: int) -> None:
    """The meeting's interpretation ended: what it showed no longer matters."""
    await s.execute(delete(CaptionFinal).where(CaptionFinal.meeting_id == meeting_id))
