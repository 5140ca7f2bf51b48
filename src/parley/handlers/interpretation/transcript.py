"""Final caption lines into the dialogue's transcript, for the speakers who consented (and
staff): an original line is a row, its translations go onto it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from parley.clock import Clock
from parley.handlers.interpretation.state import MeetingSession, Speaker
from parley.interpretation.frames import Caption
from parley.storage.database import Database
from parley.storage.stores import transcripts

KEPT_SEGMENTS = 500  # per meeting: the rows of recent originals, for their translations
TranscriptHook = Callable[[int], Awaitable[None]]


class TranscriptWriter:
    def __init__(self, db: Database, clock: Clock, on_transcript: TranscriptHook | None = None) -> None:
        self.db = db
        self.clock = clock
        self.on_transcript = on_transcript

    async def keep(self, session: MeetingSession, speaker: Speaker, caption: Caption) -> None:
        """Final lines go into the dialogue's transcript (translations onto their original).

        A forced translation covers only the start of its line: shown, not kept. A real final
        after a forced one replaces its text.
        """
        utterance = caption.utterance_id
        text = caption.text.strip()
        if not text or (caption.forced and caption.role != "original"):
            return
        now = self.clock.now()
        async with self.db.session() as s:
            if caption.role == "original":
                kept = session.segments.get(utterance)
                row = await transcripts.segment(s, kept) if kept is not None else None
                if row is not None:
                    await transcripts.set_text(s, row, text)
                    await s.commit()
                    return
                latency = caption.latency
                duration = max(0.0, caption.end - caption.start)
                ended = now - timedelta(seconds=latency)
                segment = await transcripts.add(
                    s, dialogue_id=session.dialogue_id, speaker_user_id=speaker.user_id, speaker_name=speaker.name,
                    language=caption.language, started_at=ended - timedelta(seconds=duration),
                    ended_at=ended, text=text, created_at=now,
                )
                await s.commit()
                session.segments[utterance] = segment.id
                while len(session.segments) > KEPT_SEGMENTS:
                    session.segments.popitem(last=False)
                if self.on_transcript is not None:
                    await self.on_transcript(session.dialogue_id)
                return
            segment_id = session.segments.get(utterance)
            if segment_id is None:
                return
            row = await transcripts.segment(s, segment_id)
            if row is None:
                return
            row.translations = {**(row.translations or {}), caption.language: text}
            await s.commit()
