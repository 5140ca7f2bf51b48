"""Finals of a meeting no process interprets any more: it ended, or never existed here.

A worker's last finals of a meeting may come after the meeting ended (the drain of its last
words, or finals re-sent after a reconnect or by the relay); no owner will ever take them, so
waiting for one (the relay's `GIVE_UP_S`) would lose them. Whichever process a final reaches
settles it at once and acknowledges it:

    meeting open     ─▶ not settled here: its owner (a new one, while the lease moves) takes it
    meeting ended    ─▶ into the transcript if its speaker consented (as `speakers` decides for
                        the live meeting), as the owner would have; idempotent per utterance id;
                        a final of a worker too old to acknowledge finals too (see `relay`)
    ended long ago   ─▶ dropped (no drain nor copy comes `RECENT_S` after), said in the log
    meeting unknown  ─▶ dropped (deleted with its dialogue), said in the log without its text
"""

from __future__ import annotations

import logging
from datetime import timedelta

from parley.handlers.interpretation.state import MeetingSession
from parley.handlers.interpretation.transcript import TranscriptWriter
from parley.interpretation.frames import Caption
from parley.interpretation.protocol import Event
from parley.storage.database import Database
from parley.storage.stores import dialogues as dialogue_store
from parley.storage.stores import meetings as store
from parley.vocabulary import MeetingStatus

log = logging.getLogger(__name__)

# A final this long after its meeting ended is neither its worker's drain nor a copy sent again
# (a worker keeps its finals `unacked.MAX_AGE_S`, a relay `relay.GIVE_UP_S`): dropped.
RECENT_S = 600.0


class LateFinals:
    def __init__(self, db: Database, transcript: TranscriptWriter) -> None:
        self.db = db
        self.transcript = transcript

    async def settle(self, message: Event) -> bool:
        """True once the final is dealt with here (kept or dropped: acknowledge it); False while
        its meeting is open, for its owner."""
        try:
            caption = Caption.from_dict(message.event)
        except ValueError as exc:  # names a field, never the text
            log.warning("meeting %d: a worker's caption was dropped: %s", message.meeting, exc)
            return True
        async with self.db.session() as s:
            meeting = await store.meeting_for(s, message.meeting)
            if meeting is not None and meeting.status == MeetingStatus.OPEN:
                return False
            dialogue = await dialogue_store.info(s, message.meeting) if meeting is not None else None
            if meeting is None or dialogue is None:
                log.warning("a final caption line of meeting %d was dropped: no such meeting (deleted?)",
                            message.meeting)
                return True
        ended = meeting.ended_at
        if ended is not None and self.transcript.clock.now() - ended > timedelta(seconds=RECENT_S):
            log.warning("a final caption line of meeting %d was dropped: the meeting ended long ago", message.meeting)
            return True
        session = MeetingSession(message.meeting, meeting.id, meeting.room_id, tuple(dialogue.languages))
        speaker = await self.transcript.speaker(session, caption.speaker_id)
        if speaker is None or not speaker.keep_transcript:
            log.info("meeting %d ended: a late final caption line not kept (no consent, or speaker unknown)",
                     message.meeting)
            return True
        await self.transcript.keep(session, speaker, caption)
        log.info("meeting %d ended: a late final caption line kept", message.meeting)
        return True
