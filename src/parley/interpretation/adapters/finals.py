"""Final passes: at each endpoint the adapter queues the line with its audio (and a second
of context either side for a clause); one beam-search pass at a time turns it into the
line's final, which replaces its partials. A failed pass leaves the last partial as the
final; a line too short to be speech gets an empty final that takes its partials back.
A stable final (its words ready, no pass) waits its turn in the same queue, so finals stay
in the order of their lines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.adapters.agreement import index_after, shift
from parley.interpretation.adapters.health import HealthReporter
from parley.interpretation.adapters.language import LanguagePolicy
from parley.interpretation.adapters.options import StreamingOptions
from parley.interpretation.adapters.utterance import Utterance
from parley.interpretation.asr.base import AsrEngine, DecodeMode
from parley.interpretation.frames import AsrEvent, Samples, Transcript, Word
from parley.interpretation.scheduler import Superseded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinalRequest:
    """A line to end: its audio from sample ``begin`` (context either side included), when its
    last audio arrived, and either the words of earlier lines its audio begins with (``known``,
    times relative to the audio: skipped by alignment) or, for a stable final, its ``words``
    as they stand (media time; no pass)."""

    utt: Utterance
    audio: Samples
    audio_end_at: float
    begin: int
    known: tuple[Word, ...] = ()
    words: tuple[Word, ...] | None = None


class FinalPasses:
    """The finals of a stream's lines, one pass at a time and in order, from what the adapter
    queued at each endpoint (`FinalRequest`)."""

    def __init__(self, engine: AsrEngine, *, stream_id: str, clock: Clock, options: StreamingOptions,
                 rate: int, language: LanguagePolicy, health: HealthReporter,
                 media_time: Callable[[int], float], emit: Callable[[AsrEvent], None]) -> None:
        self.engine = engine
        self.stream_id = stream_id
        self.clock = clock
        self.options = options
        self._rate = rate
        self._language = language
        self._health = health
        self.media_time = media_time
        self._emit = emit
        self._finals: asyncio.Queue[FinalRequest | None] = asyncio.Queue()
        self.pending = 0  # requested and not yet emitted

    def request(self, item: FinalRequest) -> None:
        self.pending += 1
        self._finals.put_nowait(item)

    def close(self) -> None:
        """No more lines: `run` returns once the queued finals are done."""
        self._finals.put_nowait(None)

    async def run(self) -> None:
        while True:
            item = await self._finals.get()
            if item is None:
                return
            try:
                if item.words is not None:
                    self._emit_final(item.utt, item.words, item.utt.language or "", self._duration(item.utt),
                                     item.audio_end_at)
                else:
                    await self._final(item)
            except Exception:  # a bug must not end this stream's finals: this line ends with its partial
                log.exception("stream %s: the final of %s failed", self.stream_id, item.utt.id)
                utt = item.utt
                if utt.shown is not None:
                    self._emit_final(utt, utt.shown, utt.language or "", self._duration(utt), item.audio_end_at)
            finally:
                self.pending -= 1

    def _duration(self, utt: Utterance) -> float:
        return ((utt.end or utt.line_start) - utt.line_start) / self._rate

    async def _final(self, item: FinalRequest) -> None:
        utt, audio, audio_end_at = item.utt, item.audio, item.audio_end_at
        voiced = ((utt.voiced_until or 0) - utt.voiced_from) / self._rate
        duration = self._duration(utt)
        context = max(0, utt.line_start - item.begin)
        if voiced < self.options.min_utterance_s:
            # a click or a cough: not worth a pass (and Whisper invents words for it); partials
            # shown for it are taken back
            if utt.shown is not None:
                self._emit_final(utt, (), utt.language or "", duration, audio_end_at)
            return
        try:
            language = await self._language.for_line(utt, audio[context:], final=True)
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=language,
                                              mode=DecodeMode.FINAL)
        except (Superseded, EngineError) as exc:
            if isinstance(exc, EngineError):
                self._health.report(exc)
            if utt.shown is not None:  # the words the listeners saw are the best left
                log.info("stream %s: final pass of %s failed; its last partial stands", self.stream_id, utt.id)
                self._emit_final(utt, utt.shown, utt.language or "", duration, audio_end_at)
            return
        self._health.report(None)
        # heard only as context: the words before belong to the line before, those after to the next
        lead = (utt.line_start - item.begin) / self._rate
        offset = self.media_time(utt.line_start) - lead
        if item.known:  # earlier lines' stable finals: what follows them, wherever the estimates put them
            first, _ = index_after(item.known, hyp.words)
            words = tuple(shift(w, offset) for w in hyp.words[first:] if (w.start + w.end) / 2 < lead + duration)
        else:
            words = tuple(shift(w, offset) for w in hyp.words if lead <= (w.start + w.end) / 2 < lead + duration)
        self._emit_final(utt, words, utt.language or hyp.language, duration, audio_end_at)

    def _emit_final(self, utt: Utterance, words: tuple[Word, ...], language: str, duration: float,
                    audio_end_at: float) -> None:
        offset = self.media_time(utt.line_start)
        utt.revision += 1
        self._emit(Transcript(
            stream_id=self.stream_id, utterance_id=utt.id, language=language or self._language.language or "",
            words=words, is_final=True, stable_count=len(words), start=offset,
            end=offset + duration, audio_end_at=audio_end_at,
            emitted_at=self.clock.monotonic(), language_probability=utt.language_probability,
            revision=utt.revision,
        ))
