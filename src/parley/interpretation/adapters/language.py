"""Which language a line is recognised in: given, detected once and kept, or checked again.

A language not given is detected per stream from the first line with enough audio, and kept
once the engine is confident; each later line is checked again beside its passes (nothing
waits for it), so a speaker who moves to another language is followed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from parley.errors import EngineError
from parley.interpretation.adapters.options import StreamingOptions
from parley.interpretation.adapters.utterance import Utterance
from parley.interpretation.asr.base import AsrEngine
from parley.interpretation.frames import Samples
from parley.interpretation.scheduler import Superseded

log = logging.getLogger(__name__)


class LanguagePolicy:
    """One stream's language: what its lines are decoded in, and when to ask the engine."""

    def __init__(self, engine: AsrEngine, *, stream_id: str, options: StreamingOptions,
                 language: str | None, candidates: Collection[str] | None) -> None:
        self.engine = engine
        self.stream_id = stream_id
        self.options = options
        self.language = language
        self.confident = language is not None
        self.given = language is not None
        self.candidates = frozenset(candidates or ())
        self._rate = engine.capabilities.sample_rate
        self._lock = asyncio.Lock()

    def should_recheck(self, utt: Utterance, audio: Samples, *, whole: bool) -> bool:
        """Whether a partial pass's audio (``whole``: from the line's start) is the one to check
        a detected language on (see `StreamingOptions.recheck_language`)."""
        return self.options.recheck_language and not self.given and not utt.language_checked \
            and utt.language is not None and whole \
            and len(audio) / self._rate >= self.options.detect_min_audio_s

    async def for_line(self, utt: Utterance, audio: Samples, *, final: bool) -> str | None:
        if utt.language is not None:
            return utt.language
        if self.language is not None and self.confident:
            utt.language = self.language
            return utt.language
        if not self.engine.capabilities.language_detection:
            if len(self.candidates) == 1:
                utt.language = next(iter(self.candidates))
            return utt.language
        if not final and len(audio) / self._rate < self.options.detect_min_audio_s:
            raise Superseded()  # not enough audio to tell yet; wait for a longer partial
        async with self._lock:
            if utt.language is not None:
                return utt.language
            guess = await self.engine.detect_language(audio, stream_id=self.stream_id,
                                                      candidates=self.candidates or None)
            utt.language, utt.language_probability = guess.language, guess.probability
            utt.language_checked = True
            if guess.probability >= self.options.detect_confidence:
                self.language, self.confident = guess.language, True
            log.info("stream %s: detected language %s (p=%.2f)", self.stream_id, guess.language, guess.probability)
            return utt.language

    async def recheck(self, utt: Utterance, audio: Samples, current: Callable[[], Utterance | None]) -> None:
        """Detect the language of a line again (see `StreamingOptions.recheck_language`);
        ``current``: the line being heard now, which follows a change it began before."""
        try:
            guess = await self.engine.detect_language(audio, stream_id=self.stream_id,
                                                      candidates=self.candidates or None)
        except (Superseded, EngineError):
            return
        if guess.language == utt.language or guess.probability < self.options.detect_confidence:
            return
        log.info("stream %s: the speaker moved to %s (p=%.2f)", self.stream_id, guess.language, guess.probability)
        utt.language, utt.language_probability = guess.language, guess.probability
        utt.prev_tail = None  # agreement starts again in the new language
        self.language = guess.language
        line = current()
        if line is not None and line is not utt and not line.language_checked:
            line.language = guess.language  # a line begun meanwhile follows
