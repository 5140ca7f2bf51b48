"""Caption lines: assembled from the workers' events, published to the meeting, and closed.

Every line listeners saw as a partial ends final: the newest partial of each line is kept
until its final comes, and the line is closed with it (``forced``) when the final cannot
come: its worker disconnected, its speaker left and the worker's drain is over, the meeting
ended, or nothing came for `FINAL_TIMEOUT_S`.

What a line looks like to listeners is `CaptionLine` (who sees which: `CaptionLine.visible_to`).
A final is shown at least once and, as pages see it, once, even when the meeting's owner dies
half way (`shown`).
Caption text is personal data: it goes to the bus and to the transcript, never to logs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.interpretation.caption_line import CaptionLine
from parley.handlers.interpretation.shown import ShownFinals
from parley.handlers.interpretation.state import MeetingSession, OpenLine, Sessions
from parley.handlers.interpretation.transcript import TranscriptWriter
from parley.handlers.meetings import meeting_topic
from parley.interpretation.frames import Caption

LAG_WINDOW = 50
KEPT_FINALS = 1000  # per meeting: the finals remembered, to drop one that comes again
# A line still partial this long after its newest update is closed here (the worker closes
# its own after `PipelineOptions.final_timeout_s`; this is for a worker that cannot).
FINAL_TIMEOUT_S = 60.0
LineFilter = Callable[[tuple[str, str], OpenLine], bool]


class Captions:
    def __init__(self, bus: Bus, clock: Clock, transcript: TranscriptWriter, shown: ShownFinals) -> None:
        self.bus = bus
        self.clock = clock
        self.transcript = transcript
        self.shown = shown

    async def caption(self, session: MeetingSession, caption: Caption) -> None:
        if not caption.is_final:
            await self._caption(session, caption)
            return
        async with session.finals_lock:  # a copy of a final waits until the first is shown
            await self._caption(session, caption)

    async def _caption(self, session: MeetingSession, caption: Caption) -> None:
        done = (caption.utterance_id, caption.language, caption.revision)
        if caption.is_final and not caption.forced and done in session.finals:
            return  # the same final again (re-sent): shown, counted and kept once
        speaker = (session.speakers.get(caption.speaker_id) or session.departed.get(caption.speaker_id)
                   or session.named.get(caption.speaker_id))
        if speaker is None and caption.is_final:
            # a new owner's first finals may come before it heard who speaks: kept all the same
            speaker = await self.transcript.speaker(session, caption.speaker_id)
            if speaker is not None:
                session.named[caption.speaker_id] = speaker
        key = (caption.utterance_id, caption.language)
        if caption.is_final:
            session.open.pop(key, None)
        else:
            session.open[key] = OpenLine(caption, self.clock.monotonic())
        if caption.is_final and speaker is not None and speaker.keep_transcript:
            # written before it is shown: a line anyone saw final is in the transcript even if
            # this process dies right after (written once: a repeat finds its row)
            await self.transcript.keep(session, speaker, caption)
        if caption.is_final and not await self.shown.claim(session, caption):
            self._handled(session, caption)
            return  # shown before, by this owner or an earlier one (taken over): not twice
        if caption.revision == 1:
            # the first time a line shows in a language: how long listeners of it waited
            session.lag.setdefault(caption.language, deque(maxlen=LAG_WINDOW)).append(caption.latency)
        if caption.is_final:
            session.captions[caption.language] = session.captions.get(caption.language, 0) + 1
        line = CaptionLine.of(caption, speaker.name if speaker is not None else "")
        await self.bus.publish(meeting_topic(session.dialogue_id), {"type": "caption", "caption": line.to_dict()})
        if caption.is_final:
            await self.shown.published(session, caption)
            self._handled(session, caption)

    @staticmethod
    def _handled(session: MeetingSession, caption: Caption) -> None:
        """A final shown, here or before: a copy is dropped at once (not before it is shown: one
        that failed half way comes again and is shown then)."""
        if not caption.forced:
            session.finals[(caption.utterance_id, caption.language, caption.revision)] = None
            while len(session.finals) > KEPT_FINALS:
                session.finals.popitem(last=False)

    async def close_lines(self, session: MeetingSession, which: LineFilter | None = None) -> None:
        """Close open lines with their newest partial, as if the worker had sent that as final."""
        for key, line in list(session.open.items()):
            if session.open.get(key) is not line or (which is not None and not which(key, line)):
                continue
            last = line.caption
            await self.caption(session, replace(last, is_final=True, forced=True, revision=last.revision + 1,
                                                stable_text=last.text))

    async def close_stale_lines(self, sessions: Sessions) -> None:
        now = self.clock.monotonic()
        for session in list(sessions.values()):
            await self.close_lines(session, lambda _, line: now - line.updated_at >= FINAL_TIMEOUT_S)
