"""Speech recognition engines.

An `AsrEngine` recognises a whole buffer (`recognize`) and may identify its language
(`detect_language`); blocking model calls go through the shared `InferenceScheduler`, the
base adds retries and metrics. Engines that stream natively set
``capabilities.streaming`` and return an `AsrStream` from `stream`; the others are made
streaming by `parley.interpretation.adapters.StreamAdapter` (VAD + local agreement). Chinese comes out
in Simplified characters whatever the engine wrote (`simplify_chinese`).
"""

from __future__ import annotations

import asyncio
import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.asr.chinese import to_simplified
from parley.interpretation.audio import Resampler
from parley.interpretation.engine import EngineBase, RetryPolicy
from parley.interpretation.frames import AsrEvent, AudioChunk, Samples, Word
from parley.interpretation.scheduler import Batch, InferenceScheduler
from parley.tasks import TaskOwner


@dataclass(frozen=True)
class AsrCapabilities:
    languages: frozenset[str]
    streaming: bool = False
    word_timestamps: bool = True
    language_detection: bool = True
    sample_rate: int = 16_000
    # partial passes of several streams may run as one call (`AsrEngine._recognize_partials_sync`)
    batched_partials: bool = False


class DecodeMode(enum.StrEnum):
    PARTIAL = "partial"  # cheap and fast: small beam, no fallback
    FINAL = "final"  # careful: beam search, temperature fallback


@dataclass(frozen=True)
class Hypothesis:
    """Words with times relative to the start of the audio that was passed in."""

    words: tuple[Word, ...]
    language: str
    language_probability: float = 1.0


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    probability: float
    ranked: tuple[tuple[str, float], ...] = ()


class AsrEngine(EngineBase, ABC):
    stage = "asr"
    capabilities: AsrCapabilities

    def __init__(self, *, scheduler: InferenceScheduler, clock: Clock, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.scheduler = scheduler
        # Names and terms to expect, per stream (a dialogue's glossary); engines that cannot
        # use hints ignore them.
        self.hotwords: dict[str, str] = {}

    def set_hotwords(self, stream_id: str, text: str) -> None:
        if text:
            self.hotwords[stream_id] = text
        else:
            self.hotwords.pop(stream_id, None)

    async def recognize(self, audio: Samples, *, stream_id: str, language: str | None,
                        mode: DecodeMode = DecodeMode.FINAL) -> Hypothesis:
        """Recognise ``audio`` (mono float32 at ``capabilities.sample_rate``).

        Partial passes of one stream replace each other while queued (`Superseded`); finals
        jump the queue.
        """
        if language is not None and self.capabilities.languages and language not in self.capabilities.languages:
            raise EngineError(f"{self.name} does not recognise language {language!r}", retryable=False,
                              engine=self.name)
        partial = mode is DecodeMode.PARTIAL
        hints = self.hotwords.get(stream_id, "")
        batch = (Batch(f"asr.partial.{self.name}", (audio, language), self._recognize_partials_sync)
                 if partial and self.capabilities.batched_partials else None)

        async def attempt() -> Hypothesis:
            return await self.scheduler.run(stream_id, lambda: self._recognize_hinted(audio, language, mode, hints),
                                            kind=f"asr.{mode.value}", urgent=not partial, coalesce=partial,
                                            batch=batch)

        return simplify_chinese(await self.call(mode.value, attempt))

    async def detect_language(self, audio: Samples, *, stream_id: str,
                              candidates: Collection[str] | None = None) -> LanguageGuess:
        """The most likely spoken language, restricted to ``candidates`` when given."""
        if not self.capabilities.language_detection:
            raise EngineError(f"{self.name} cannot identify languages", retryable=False, engine=self.name)

        async def attempt() -> list[tuple[str, float]]:
            return await self.scheduler.run(stream_id, lambda: self._detect_language_sync(audio),
                                            kind="asr.detect", urgent=True)

        ranked = await self.call("detect", attempt)
        if candidates:
            allowed = set(candidates)
            ranked = [(lang, p) for lang, p in ranked if lang in allowed] or ranked
        total = sum(p for _, p in ranked) or 1.0
        best, p = max(ranked, key=lambda item: item[1])
        return LanguageGuess(best, p / total if candidates else p, tuple(ranked[:5]))

    @abstractmethod
    def _recognize_sync(self, audio: Samples, language: str | None, mode: DecodeMode) -> Hypothesis:
        """Blocking recognition; runs on a scheduler thread."""

    def _recognize_hinted(self, audio: Samples, language: str | None, mode: DecodeMode, hotwords: str) -> Hypothesis:
        """Override to use ``hotwords``; by default they are ignored."""
        return self._recognize_sync(audio, language, mode)

    def _recognize_partials_sync(self, items: list[tuple[Samples, str | None]]) -> list[Hypothesis]:
        """Partial passes of several streams, in order (engines with ``batched_partials``
        override this to run them as one model call)."""
        return [self._recognize_sync(audio, language, DecodeMode.PARTIAL) for audio, language in items]

    def _detect_language_sync(self, audio: Samples) -> list[tuple[str, float]]:
        raise EngineError(f"{self.name} cannot identify languages", retryable=False, engine=self.name)

    def stream(self, *, stream_id: str, language: str | None) -> AsrStream:
        """A native stream; only for engines whose capabilities say ``streaming``."""
        raise NotImplementedError(f"{self.name} is not a streaming engine; wrap it in StreamAdapter")


_FLUSH = object()
_END = object()


class AsrStream(ABC):
    """Push audio in, iterate events out (`SpeechStart`, partial and final `Transcript`,
    `SpeechEnd`, `EngineHealth`).

    The base owns the queues, resampling to the engine's rate and the lifecycle: `end_input`
    finishes the last utterance and then ends iteration; `aclose` stops at once.
    """

    def __init__(self, *, stream_id: str, sample_rate: int, clock: Clock) -> None:
        self.stream_id = stream_id
        self.sample_rate = sample_rate
        self.clock = clock
        self._input: asyncio.Queue[AudioChunk | object] = asyncio.Queue()
        self._output: asyncio.Queue[AsrEvent | None] = asyncio.Queue()
        self._tasks = TaskOwner(f"asr:{stream_id}")
        self._resamplers: dict[int, Resampler] = {}
        self._input_ended = False
        self._closed = False
        self._running = False
        self._unprocessed = 0  # items queued and not yet handled by _run
        self._observers: list[Callable[[AsrEvent], None]] = []

    def push_audio(self, chunk: AudioChunk) -> None:
        if self._input_ended or self._closed:
            return
        self._ensure_running()
        if chunk.sample_rate != self.sample_rate:
            r = self._resamplers.setdefault(chunk.sample_rate, Resampler(chunk.sample_rate, self.sample_rate))
            chunk = AudioChunk(r.process(chunk.samples), self.sample_rate, chunk.start, chunk.captured_at)
        self._unprocessed += 1
        self._input.put_nowait(chunk)

    def flush(self) -> None:
        """End the current utterance now (e.g. the speaker muted)."""
        if not self._input_ended:
            self._ensure_running()
            self._unprocessed += 1
            self._input.put_nowait(_FLUSH)

    def end_input(self) -> None:
        if not self._input_ended:
            self._ensure_running()
            self._input_ended = True
            self._unprocessed += 1
            self._input.put_nowait(_END)

    async def aclose(self) -> None:
        self._closed = True
        await self._tasks.stop()
        await self._on_close()
        self._output.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[AsrEvent]:
        self._ensure_running()
        while True:
            event = await self._output.get()
            if event is None:
                return
            yield event

    def _ensure_running(self) -> None:
        if not self._running:
            self._running = True
            self._tasks.spawn("run", self._main())

    async def _main(self) -> None:
        try:
            await self._run()
        finally:
            if not self._closed:
                self._output.put_nowait(None)

    def add_observer(self, observer: Callable[[AsrEvent], None]) -> None:
        """See every event as it is emitted, besides the consumer (metrics, benchmarks)."""
        self._observers.append(observer)

    def _emit(self, event: AsrEvent) -> None:
        for observer in self._observers:
            observer(event)
        self._output.put_nowait(event)

    async def _next_input(self) -> AudioChunk | str:
        """The next chunk, or "flush" / "end"."""
        item = await self._input.get()
        if item is _FLUSH:
            return "flush"
        if item is _END:
            return "end"
        assert isinstance(item, AudioChunk)
        return item

    @abstractmethod
    async def _run(self) -> None:
        """Consume `_next_input` until "end" (decrementing ``_unprocessed`` per item handled);
        `_emit` events. Returning ends iteration."""

    async def _on_close(self) -> None:
        """Override to release resources."""


def simplify_chinese(hyp: Hypothesis) -> Hypothesis:
    """Chinese captions are written in Simplified characters, whatever the engine wrote."""
    if hyp.language != "zh" or not hyp.words:
        return hyp
    joined = "".join(w.text for w in hyp.words)
    converted = to_simplified(joined)
    if converted == joined:
        return hyp
    if len(converted) == len(joined):  # one call, so OpenCC sees phrases across word pieces
        texts, at = [], 0
        for w in hyp.words:
            texts.append(converted[at:at + len(w.text)])
            at += len(w.text)
    else:
        texts = [to_simplified(w.text) for w in hyp.words]
    words = tuple(Word(t, w.start, w.end, w.probability) for t, w in zip(texts, hyp.words, strict=True))
    return Hypothesis(words, hyp.language, hyp.language_probability)


def words_from_text(text: str, start: float, end: float, unspaced: bool) -> Sequence[Word]:
    """Evenly timed words for engines that give text without word timestamps."""
    units = [c for c in text if not c.isspace()] if unspaced else text.split()
    if not units:
        return ()
    step = (end - start) / len(units)
    return tuple(Word(u, start + i * step, start + (i + 1) * step) for i, u in enumerate(units))
