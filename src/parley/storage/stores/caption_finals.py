"""The final caption lines of each open meeting, claimed to be shown and then shown: queries
only, inside the caller's transaction. Identifiers, never text.

A line is (speaker, utterance, role, language), as the worker named it; its row holds the
final claimed (revision, forced), the owner tenure (lease generation) that claimed it, and
whether it was published. `claim` is one conditional statement after another, so two
processes claiming the same final at once cannot both win a row: ``INSERT ... ON CONFLICT DO
NOTHING`` lets one of two first inserts through, and an UPDATE re-checks its WHERE on the row
a concurrent one just committed (a later tenure's claim shuts out an earlier one's).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Executable, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parley.storage.meeting_models import CaptionFinal


@dataclass(frozen=True)
class FinalLine:
    """One final of a line: which line, which final of it, and the owner tenure at work."""

    meeting_id: int
    speaker_id: str
    utterance_id: str
    role: str
    language: str
    revision: int
    forced: bool
    tenure: int

    def key(self) -> list[ColumnElement[bool]]:
        return [CaptionFinal.meeting_id == self.meeting_id, CaptionFinal.speaker_id == self.speaker_id[:64],
                CaptionFinal.utterance_id == self.utterance_id[:64], CaptionFinal.role == self.role[:16],
                CaptionFinal.language == self.language[:16]]


def _insert_first(s: AsyncSession, final: FinalLine) -> Executable:
    values = {"meeting_id": final.meeting_id, "speaker_id": final.speaker_id[:64],
              "utterance_id": final.utterance_id[:64], "role": final.role[:16], "language": final.language[:16],
              "revision": final.revision, "forced": final.forced, "tenure": final.tenure, "published": False}
    keys = [CaptionFinal.meeting_id, CaptionFinal.speaker_id, CaptionFinal.utterance_id, CaptionFinal.role,
            CaptionFinal.language]
    if s.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(CaptionFinal).values(**values).on_conflict_do_nothing(index_elements=keys)
        return pg.returning(CaptionFinal.revision)
    lite = sqlite.insert(CaptionFinal).values(**values).on_conflict_do_nothing(index_elements=keys)
    return lite.returning(CaptionFinal.revision)


async def claim(s: AsyncSession, final: FinalLine) -> bool:
    """Claim a final to show it: True when the caller publishes it now. False when it adds
    nothing to the line's final shown (the same final again, an older revision, a forced final
    after a real one), or when a later tenure claimed the line. A real final after a forced one
    (made from the last partial when the real one could not come), or a later revision,
    replaces it, as the page does (`frontend/src/meeting/caption_finals.js`). The same final
    claimed but never published (its owner died, or failed, before publishing) is claimed
    again."""
    first = await s.execute(_insert_first(s, final))
    if first.scalar_one_or_none() is not None:
        return True
    older: ColumnElement[bool] = CaptionFinal.revision < final.revision
    replaces = (CaptionFinal.forced.is_(True) & older) if final.forced else (CaptionFinal.forced.is_(True) | older)
    unshown = (CaptionFinal.published.is_(False) & (CaptionFinal.revision == final.revision)
               & (CaptionFinal.forced == final.forced))
    claimed = await s.execute(update(CaptionFinal).where(*final.key(), CaptionFinal.tenure <= final.tenure,
                                                         replaces | unshown)
                              .values(revision=final.revision, forced=final.forced, tenure=final.tenure,
                                      published=False).returning(CaptionFinal.revision))
    return claimed.scalar_one_or_none() is not None


async def published(s: AsyncSession, final: FinalLine) -> None:
    """The final claimed is on the bus (unless a newer final or tenure claimed the line since)."""
    await s.execute(update(CaptionFinal).where(*final.key(), CaptionFinal.revision == final.revision,
                                               CaptionFinal.forced == final.forced,
                                               CaptionFinal.tenure == final.tenure).values(published=True))


async def forget_meeting(s: AsyncSession, meeting_id: int) -> None:
    """The meeting's interpretation ended: what it showed no longer matters."""
    await s.execute(delete(CaptionFinal).where(CaptionFinal.meeting_id == meeting_id))
