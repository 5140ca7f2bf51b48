"""Caption lines: assembled from the workers' events, published to the meeting, and closed.

Every line listeners saw as a partial ends final: the newest partial of each line is kept
until its final comes, and the line is closed with it (``forced``) when the final cannot
come: its worker disconnected, its speaker left and the worker's drain is over, the meeting
ended, or nothing came for `FINAL_TIMEOUT_S`.

Who sees which line is decided here too (`caption_visible`); caption text is personal data:
it goes to the bus and to the transcript, never to logs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from parley.bus.base import Bus
from parley.clock import Clock
from parley.handlers.interpretation.state import MeetingSession, OpenLine, Sessions
from parley.handlers.interpretation.transcript import TranscriptWriter
from parley.handlers.meetings import meeting_topic

LAG_WINDOW = 50
# A line still partial this long after its newest update is closed here (the worker closes
# its own after `PipelineOptions.final_timeout_s`; this is for a worker that cannot).
FINAL_TIMEOUT_S = 60.0
CAPTION_FIELDS = ("speaker_id", "utterance_id", "revision", "role", "language", "source_language", "text",
                  "stable_text", "is_final", "latency")
LineFilter = Callable[[tuple[str, str], OpenLine], bool]


def caption_visible(caption: Mapping[str, Any], reading: str | None) -> bool:
    """A page inside the meeting sees every original line, and the translations into the one
    language it reads."""
    return caption.get("role") == "original" or caption.get("language") == reading


class Captions:
    def __init__(self, bus: Bus, clock: Clock, transcript: TranscriptWriter) -> None:
        self.bus = bus
        self.clock = clock
        self.transcript = transcript

    async def caption(self, session: MeetingSession, event: dict[str, Any]) -> None:
        speaker_id = str(event.get("speaker_id"))
        speaker = session.speakers.get(speaker_id) or session.departed.get(speaker_id)
        language = str(event.get("language", ""))
        key = (str(event.get("utterance_id")), language)
        if event.get("is_final"):
            session.open.pop(key, None)
        else:
            session.open[key] = OpenLine(event, speaker_id, self.clock.monotonic())
        caption = {k: event.get(k) for k in CAPTION_FIELDS}
        caption["forced"] = bool(event.get("forced"))
        caption["speaker_name"] = speaker.name if speaker is not None else ""
        latency = event.get("latency")
        if event.get("revision") == 1 and isinstance(latency, int | float):
            # the first time a line shows in a language: how long listeners of it waited
            session.lag.setdefault(language, deque(maxlen=LAG_WINDOW)).append(float(latency))
        if event.get("is_final"):
            session.captions[language] = session.captions.get(language, 0) + 1
        await self.bus.publish(meeting_topic(session.dialogue_id), {"type": "caption", "caption": caption})
        if event.get("is_final") and speaker is not None and speaker.keep_transcript:
            await self.transcript.keep(session, speaker, event)

    async def close_lines(self, session: MeetingSession, which: LineFilter | None = None) -> None:
        """Close open lines with their newest partial, as if the worker had sent that as final."""
        for key, line in list(session.open.items()):
            if session.open.get(key) is not line or (which is not None and not which(key, line)):
                continue
            revision = int(line.event.get("revision") or 0) + 1
            event = {**line.event, "is_final": True, "forced": True, "revision": revision,
                     "stable_text": line.event.get("text", "")}
            await self.caption(session, event)

    async def close_stale_lines(self, sessions: Sessions) -> None:
        now = self.clock.monotonic()
        for session in list(sessions.values()):
            await self.close_lines(session, lambda _, line: now - line.updated_at >= FINAL_TIMEOUT_S)
