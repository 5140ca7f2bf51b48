"""Final passes: at each endpoint the adapter queues the line with its audio (and a second
of context either side for a clause); one beam-search pass at a time turns it into the
line's final, which replaces its partials. A failed pass leaves the last partial as the
final; a line too short to be speech gets an empty final that takes its partials back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.adapters.agreement import shift
from parley.interpretation.adapters.health import HealthReporter
from parley.interpretation.adapters.language import LanguagePolicy
from parley.interpretation.adapters.options import StreamingOptions
from parley.interpretation.adapters.utterance import Utterance
from parley.interpretation.asr.base import AsrEngine, DecodeMode
from parley.interpretation.frames import AsrEvent, Samples, Transcript, Word
from parley.interpretation.scheduler import Superseded

log = logging.getLogger(__name__)


FinalItem = tuple[Utterance, Samples, float, int]


class FinalPasses:
    """The finals of a stream's lines, one pass at a time and in order, from what the adapter
    queued at each endpoint (the line, its audio with context either side, when its last
    audio arrived, the samples of leading context)."""

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
        self._finals: asyncio.Queue[FinalItem | None] = asyncio.Queue()
        self.pending = 0  # requested and not yet emitted

    def request(self, utt: Utterance, audio: Samples, audio_end_at: float, context: int) -> None:
        self.pending += 1
        self._finals.put_nowait((utt, audio, audio_end_at, context))

    def close(self) -> None:
        """No more lines: `run` returns once the queued finals are done."""
        self._finals.put_nowait(None)

    async def run(self) -> None:
        while True:
            item = await self._finals.get()
            if item is None:
                return
            try:
                await self._final(*item)
            except Exception:  # a bug must not end this stream's finals: this line ends with its partial
                log.exception("stream %s: the final of %s failed", self.stream_id, item[0].id)
                utt, _, audio_end_at, _ = item
                if utt.shown is not None:
                    duration = ((utt.end or utt.start) - utt.start) / self._rate
                    self._emit_final(utt, utt.shown, utt.language or "", duration, audio_end_at)
            finally:
                self.pending -= 1

    async def _final(self, utt: Utterance, audio: Samples, audio_end_at: float, context: int = 0) -> None:
        voiced = ((utt.voiced_until or 0) - utt.voiced_from) / self._rate
        duration = ((utt.end or utt.start) - utt.start) / self._rate
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
        offset = self.media_time(utt.start)
        # heard only as context: the words before belong to the line before, those after to the next
        lead = context / self._rate
        words = tuple(shift(w, offset - lead) for w in hyp.words
                      if lead <= (w.start + w.end) / 2 < lead + duration)
        self._emit_final(utt, words, utt.language or hyp.language, duration, audio_end_at)

    def _emit_final(self, utt: Utterance, words: tuple[Word, ...], language: str, duration: float,
                    audio_end_at: float) -> None:
        offset = self.media_time(utt.start)
        utt.revision += 1
        self._emit(Transcript(
            stream_id=self.stream_id, utterance_id=utt.id, language=language or self._language.language or "",
            words=words, is_final=True, stable_count=len(words), start=offset,
            end=offset + duration, audio_end_at=audio_end_at,
            emitted_at=self.clock.monotonic(), language_probability=utt.language_probability,
            revision=utt.revision,
        ))
