"""Each final caption line is shown to a meeting at least once and, as its pages see it, once,
whichever process owns the meeting and wherever its owner dies.

A meeting's owner keeps the finals it handled lately in memory (`MeetingSession.finals`), but
after a take-over the next owner knows nothing of what its predecessor published: the worker
sends again the finals it has no acknowledgement of, and so do relays. So each final is
recorded in the database (identifiers, no text) in two steps around its publication::

    transcript row (consenting speakers) ─▶ claim (pending, this owner's tenure)
        ─▶ published on the bus ─▶ marked published ─▶ acknowledged to the worker

Where the owner dies, and what the next owner does with the copy the worker sends again:

    before the claim       nothing recorded: it claims, shows, marks (shown once)
    claimed, not published pending: it claims it again (a later tenure may) and shows it
    published, not marked  pending: it shows it again; the page drops the copy (same line,
                           same revision: `frontend/src/meeting/caption_finals.js`)
    marked, not acked      published: acknowledged, not shown again

The claim is conditional (`stores.caption_finals.claim`): of two owners claiming one final at
once one wins, and an owner that lost its lease cannot claim back what the next one claimed.
One that lost its lease and already holds a claim may still publish it beside the next owner:
the page drops that copy too. Two writes per final shown (claim, mark); a copy of a final
already shown writes nothing.
"""

from __future__ import annotations

from parley.handlers.interpretation.state import MeetingSession
from parley.interpretation.frames import Caption
from parley.storage.database import Database
from parley.storage.stores import caption_finals as store


def _final(session: MeetingSession, caption: Caption) -> store.FinalLine:
    return store.FinalLine(session.meeting_id, caption.speaker_id, caption.utterance_id, caption.role,
                           caption.language, caption.revision, caption.forced, session.tenure)


class ShownFinals:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, session: MeetingSession, caption: Caption) -> bool:
        """Whether this owner shows the final now (claimed for it if so): it is news to the
        meeting, or was claimed before and never shown."""
        async with self.db.session() as s:
            claimed = await store.claim(s, _final(session, caption))
            await s.commit()
        return claimed

    async def published(self, session: MeetingSession, caption: Caption) -> None:
        """The final claimed is on the bus: a copy that comes again is not shown again."""
        async with self.db.session() as s:
            await store.published(s, _final(session, caption))
            await s.commit()

    async def forget(self, session: MeetingSession) -> None:
        """The meeting's interpretation ended: its record goes (a late final is not shown)."""
        async with self.db.session() as s:
            await store.forget_meeting(s, session.meeting_id)
            await s.commit()
