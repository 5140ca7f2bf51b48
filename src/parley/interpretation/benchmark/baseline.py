"""The simplest baseline: no VAD; re-transcribe the whole growing buffer every second, commit
what two passes agree on. The stream's latency is held up against it."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np

from parley.clock import Clock
from parley.interpretation.adapters import common_prefix, normalize_word, tail_after
from parley.interpretation.asr.base import AsrEngine, AsrStream, DecodeMode
from parley.interpretation.frames import AudioChunk, Samples, SpeechStart, Transcript, Word
from parley.interpretation.scheduler import Superseded


class GrowingBufferStream(AsrStream):
    """No VAD: every ``interval`` seconds of audio, a greedy pass over all audio so far; words
    two successive passes agree on are committed. At the end one more pass gives the rest."""

    def __init__(self, engine: AsrEngine, *, stream_id: str, clock: Clock, language: str | None,
                 interval: float = 1.0) -> None:
        super().__init__(stream_id=stream_id, sample_rate=engine.capabilities.sample_rate, clock=clock)
        self.engine = engine
        self.language = language
        self.interval = interval
        self._parts: list[Samples] = []
        self._total = 0
        self._arrivals: list[tuple[int, float]] = []
        self._committed: list[Word] = []
        self._prev_tail: list[str] | None = None
        self._pass: asyncio.Task[None] | None = None
        self._revision = 0

    async def _run(self) -> None:
        last = 0
        started = False
        while True:
            item = await self._next_input()
            try:
                if item == "end":
                    break
                if isinstance(item, AudioChunk):
                    if not started:
                        started = True
                        self._emit(SpeechStart(self.stream_id, f"{self.stream_id}-1", item.start))
                    self._parts.append(item.samples)
                    self._total += len(item.samples)
                    self._arrivals.append((self._total, item.captured_at))
                    busy = self._pass is not None and not self._pass.done()
                    if not busy and self._total - last >= self.interval * self.sample_rate:
                        last = self._total
                        self._pass = self._tasks.spawn("pass", self._partial(self._audio(), item.captured_at))
            finally:
                self._unprocessed -= 1
        if self._pass is not None:
            with contextlib.suppress(Exception):
                await self._pass
        if self._total:
            hyp = await self.engine.recognize(self._audio(), stream_id=self.stream_id, language=self.language,
                                              mode=DecodeMode.PARTIAL)
            start = tail_after([normalize_word(w.text) for w in self._committed],
                               [normalize_word(w.text) for w in hyp.words])
            if start is None:  # the last pass disagrees with what was committed: continue by time
                cut = self._committed[-1].end - 0.1 if self._committed else 0.0
                start = next((i for i, w in enumerate(hyp.words) if w.start >= cut), len(hyp.words))
            words = tuple(self._committed) + tuple(hyp.words[start:])
            self._emit(self._transcript(words, len(words), True, self._arrivals[-1][1], hyp.language))

    def _audio(self) -> Samples:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)

    async def _partial(self, audio: Samples, arrived: float) -> None:
        try:
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=self.language,
                                              mode=DecodeMode.PARTIAL)
        except Superseded:
            return
        start = tail_after([normalize_word(w.text) for w in self._committed],
                           [normalize_word(w.text) for w in hyp.words])
        if start is None:
            self._prev_tail = None
            return
        tail_words = list(hyp.words[start:])
        tail = [normalize_word(w.text) for w in tail_words]
        if self._prev_tail is not None:
            n = min(common_prefix(self._prev_tail, tail), max(0, len(tail) - 1))
            self._committed.extend(tail_words[:n])
            tail_words, tail = tail_words[n:], tail[n:]
        self._prev_tail = tail
        words = tuple(self._committed) + tuple(tail_words)
        self._emit(self._transcript(words, len(self._committed), False, arrived, hyp.language))

    def _transcript(self, words: tuple[Word, ...], stable: int, final: bool, arrived: float,
                    language: str) -> Transcript:
        self._revision += 1
        return Transcript(stream_id=self.stream_id, utterance_id=f"{self.stream_id}-1", language=language,
                          words=words, is_final=final, stable_count=stable, start=0.0,
                          end=self._total / self.sample_rate, audio_end_at=arrived,
                          emitted_at=self.clock.monotonic(), revision=self._revision)

    async def settle(self) -> None:
        while True:
            await asyncio.sleep(0)
            if self._pass is not None and not self._pass.done():
                await asyncio.wait({self._pass})
                continue
            if self._unprocessed == 0:
                return
            await asyncio.sleep(0.001)
