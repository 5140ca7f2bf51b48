"""Each final caption line is shown to a meeting once, whichever process owns the meeting.

A meeting's owner keeps the finals it handled lately in memory (`MeetingSession.finals`), but
after a take-over the next owner knows nothing of what its predecessor published: the worker
sends again the finals whose acknowledgement died with the old owner, and so do relays. The
finals shown are recorded in the database (identifiers, no text), so a final an earlier owner
showed is acknowledged and not published again; pages need not filter what the server sends.

Recorded after its transcript row is written and before it is published: an owner that dies
before recording it leaves it for the next owner to show; one that dies between recording and
publishing leaves it kept but not shown live; none shows it twice.
"""

from __future__ import annotations

from parley.handlers.interpretation.state import MeetingSession
from parley.interpretation.frames import Caption
from parley.storage.database import Database
from parley.storage.stores import caption_finals as store


class ShownFinals:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def first(self, session: MeetingSession, caption: Caption) -> bool:
        """Whether this final is news to the meeting (recorded as shown if it is)."""
        async with self.db.session() as s:
            first = await store.shown(s, session.meeting_id, speaker_id=caption.speaker_id,
                                      utterance_id=caption.utterance_id, role=caption.role,
                                      language=caption.language, revision=caption.revision, forced=caption.forced)
            await s.commit()
        return first

    async def forget(self, session: MeetingSession) -> None:
        """The meeting's interpretation ended: its record goes (a late final is not shown)."""
        async with self.db.session() as s:
            await store.forget_meeting(s, session.meeting_id)
            await s.commit()
