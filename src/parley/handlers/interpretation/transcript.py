"""Final caption lines into the dialogue's transcript, for the speakers who consented (and
staff): an original line is a row, its translations go onto it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.clock import Clock
from parley.handlers.interpretation.state import MeetingSession, Speaker
from parley.interpretation.frames import Caption
from parley.storage.database import Database
from parley.storage.stores import interpretation as interpretation_store
from parley.storage.stores import meetings as meeting_store
from parley.storage.stores import transcripts
from parley.storage.stores.meetings import ParticipantInfo
from parley.storage.stores.transcripts import SegmentInfo
from parley.vocabulary import AttendeeRole

KEPT_SEGMENTS = 500  # per meeting: the rows of recent originals, for their translations
TranscriptHook = Callable[[int], Awaitable[None]]


async def keeps_transcript(s: AsyncSession, dialogue_id: int, p: ParticipantInfo) -> bool:
    """Whether a speaker's final lines are kept: staff's always, a participant's if they consented."""
    return p.role != AttendeeRole.PARTICIPANT or await interpretation_store.consents_to_transcript(
        s, dialogue_id, p.user_id)


class TranscriptWriter:
    def __init__(self, db: Database, clock: Clock, on_transcript: TranscriptHook | None = None) -> None:
        self.db = db
        self.clock = clock
        self.on_transcript = on_transcript

    async def speaker(self, session: MeetingSession, speaker_id: str) -> Speaker | None:
        """The participant a worker's caption names (``p<participant id>``), read from the
        meeting's rows: for a final that comes before this process heard who speaks (a new
        owner, or a meeting that ended). None if not a participant of this meeting."""
        try:
            participant_id = int(speaker_id.removeprefix("p"))
        except ValueError:
            return None
        async with self.db.session() as s:
            p = await meeting_store.participant(s, participant_id)
            if p is None or p.meeting_id != session.meeting_id:
                return None
            keep = await keeps_transcript(s, session.dialogue_id, p)
        return Speaker(p.id, p.user_id, p.display_name, p.feed_id or 0, "", p.language or None, keep)

    async def keep(self, session: MeetingSession, speaker: Speaker, caption: Caption) -> None:
        """Final lines go into the dialogue's transcript (translations onto their original).

        A forced translation covers only the start of its line: shown, not kept. A real final
        after a forced one replaces its text. Idempotent per line: a final that comes again
        (re-sent to this owner, or to the next one after a take-over) finds its row by the
        line's utterance id and writes the same text there.
        """
        utterance = caption.utterance_id
        text = caption.text.strip()
        if not text or (caption.forced and caption.role != "original"):
            return
        now = self.clock.now()
        async with self.db.session() as s:
            kept = session.segments.get(utterance)
            row = await transcripts.segment(s, kept) if kept is not None else None
            if caption.role != "original":
                row = row or await self._earlier(s, session, utterance)
                if row is not None:
                    await transcripts.add_caption(s, row.id, caption.language, text)
                    await s.commit()
                return
            if row is None:
                latency = caption.latency
                duration = max(0.0, caption.end - caption.start)
                ended = now - timedelta(seconds=latency)
                try:
                    segment = await transcripts.add(
                        s, dialogue_id=session.dialogue_id, speaker_user_id=speaker.user_id,
                        speaker_name=speaker.name, language=caption.language,
                        started_at=ended - timedelta(seconds=duration), ended_at=ended, text=text, created_at=now,
                        utterance_id=utterance[:64],
                    )
                    await s.commit()
                except IntegrityError:  # the line came before, to an earlier owner of the meeting
                    await s.rollback()  # this unit of work is over: its row is found in the next
                else:
                    self._remember(session, utterance, segment.id)
                    if self.on_transcript is not None:
                        await self.on_transcript(session.dialogue_id)
                    return
            else:
                await transcripts.set_text(s, row.id, text)
                await s.commit()
                return
        async with self.db.session() as s:
            row = await self._earlier(s, session, utterance)
            if row is not None:
                await transcripts.set_text(s, row.id, text)
                await s.commit()

    async def _earlier(self, s: AsyncSession, session: MeetingSession, utterance: str) -> SegmentInfo | None:
        """A line written by an earlier owner of the meeting (or forgotten here)."""
        row = await transcripts.by_utterance(s, session.dialogue_id, utterance[:64])
        if row is not None:
            self._remember(session, utterance, row.id)
        return row

    @staticmethod
    def _remember(session: MeetingSession, utterance: str, segment_id: int) -> None:
        session.segments[utterance] = segment_id
        while len(session.segments) > KEPT_SEGMENTS:
            session.segments.popitem(last=False)
