"""Fake ASR, MT and TTS engines: the real bases (retries, metrics, batching, scheduling)
around scripted, instant model calls, so pipeline behaviour is tested without models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.asr.base import AsrCapabilities, AsrEngine, DecodeMode, Hypothesis
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import UNSPACED_LANGUAGES, Samples, SynthesizedSpeech, Word
from parley.interpretation.mt.base import MtCapabilities, MtEngine
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.tts.base import TtsCapabilities, TtsEngine

RATE = 16_000


def tone(seconds: float, *, freq: float = 220.0, amplitude: float = 0.3, rate: int = RATE) -> Samples:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = RATE) -> Samples:
    return np.zeros(int(seconds * rate), np.float32)


def timed_words(text: str, duration: float, language: str = "en") -> tuple[Word, ...]:
    units = [c for c in text if not c.isspace()] if language in UNSPACED_LANGUAGES else text.split()
    if not units:
        return ()
    step = duration / len(units)
    return tuple(Word(u, i * step, (i + 1) * step) for i, u in enumerate(units))


@dataclass
class AsrCall:
    mode: DecodeMode
    seconds: float
    language: str | None


class ScriptedAsr(AsrEngine):
    """Partial pass n returns ``partials[n]`` (the last one repeats); finals return ``final``.

    ``script`` (mode, seconds of audio, pass index) -> text overrides both when given.
    ``fail_next`` makes the next calls raise (retryable or not) to exercise retries/health.
    """

    def __init__(self, *, scheduler: InferenceScheduler, clock: Clock, partials: Sequence[str] = (), final: str = "",
                 language: str = "en", script: Callable[[DecodeMode, float, int], str] | None = None,
                 languages: Iterable[str] = ("en", "es", "fr", "ar", "ru", "zh"),
                 detected: Sequence[tuple[str, float]] = (("en", 0.95), ("es", 0.03), ("fr", 0.02)),
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(scheduler=scheduler, clock=clock, retry=retry or RetryPolicy(attempts=2, backoff_s=0.0))
        self.name = "scripted-asr"
        self.capabilities = AsrCapabilities(languages=frozenset(languages))
        self.partials = list(partials)
        self.final = final
        self.language = language
        self.script = script
        self.detected = list(detected)
        self.calls: list[AsrCall] = []
        self.detections = 0
        self.fail_next = 0
        self.fail_retryable = True
        self.missing = False
        self._lock = threading.Lock()

    async def _start(self) -> None:
        if self.missing:
            raise ModelMissing("scripted model missing", engine=self.name)

    def _recognize_sync(self, audio: Samples, language: str | None, mode: DecodeMode) -> Hypothesis:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise EngineError("scripted failure", retryable=self.fail_retryable, engine=self.name)
            seconds = len(audio) / RATE
            n = sum(1 for c in self.calls if c.mode is mode)
            self.calls.append(AsrCall(mode, seconds, language))
        if self.script is not None:
            text = self.script(mode, seconds, n)
        elif mode is DecodeMode.FINAL:
            text = self.final
        else:
            text = self.partials[min(n, len(self.partials) - 1)] if self.partials else ""
        lang = language or self.language
        return Hypothesis(timed_words(text, seconds, lang), lang, 0.9)

    def _detect_language_sync(self, audio: Samples) -> list[tuple[str, float]]:
        self.detections += 1
        return list(self.detected)


class FakeMt(MtEngine):
    """Translates by tagging: ``"hello"`` en->es becomes ``"[es] hello"``; records batches."""

    def __init__(self, *, clock: Clock, pairs: Iterable[tuple[str, str]], name: str = "fake-mt",
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry or RetryPolicy(attempts=2, backoff_s=0.0))
        self.name = name
        self.capabilities = MtCapabilities(pairs=frozenset(pairs), max_batch=8)
        self.batch_log: list[tuple[str, str, list[str]]] = []
        self.fail_next = 0
        self.gate: Callable[[], object] | None = None

    async def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        self.batch_log.append((source, target, list(texts)))
        if self.gate is not None:
            waiter = self.gate()
            if hasattr(waiter, "__await__"):
                await waiter
        if self.fail_next > 0:
            self.fail_next -= 1
            raise EngineError("scripted MT failure", retryable=False, engine=self.name)
        return [f"[{target}] {t}" for t in texts]


class FakeTts(TtsEngine):
    """0.1 s of tone per word at 16 kHz."""

    def __init__(self, *, clock: Clock, languages: Iterable[str], name: str = "fake-tts") -> None:
        super().__init__(clock=clock, retry=RetryPolicy(attempts=1))
        self.name = name
        self.capabilities = TtsCapabilities(languages=frozenset(languages), sample_rate=RATE)
        self.spoken: list[tuple[str, str]] = []

    async def _synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        self.spoken.append((language, text))
        return SynthesizedSpeech(tone(0.1 * len(text.split()), freq=330.0), RATE, language, self.name)


class RecordingSink:
    """An `AudioSink` that keeps what it was asked to play."""

    def __init__(self) -> None:
        self.sent: list[tuple[Samples, int]] = []

    async def send(self, samples: Samples, sample_rate: int) -> int:
        self.sent.append((samples, sample_rate))
        return len(samples)


class ToneWordsAsr(AsrEngine):
    """A recogniser that really hears its audio: word ``k`` of ``vocabulary`` is a tone of
    ``tone_hz(k)``, silence is no word. Each 50 ms block is read by its strongest frequency, so
    where the audio was cut shows in the words (half a word heard twice, or lost). Partial and
    final passes hear alike; word times are the blocks'."""

    BLOCK = 800  # 50 ms

    def __init__(self, *, scheduler: InferenceScheduler, clock: Clock, vocabulary: Sequence[str],
                 language: str = "en") -> None:
        super().__init__(scheduler=scheduler, clock=clock, retry=RetryPolicy(attempts=1, backoff_s=0.0))
        self.name = "tone-words-asr"
        self.capabilities = AsrCapabilities(languages=frozenset({language}), language_detection=False)
        self.vocabulary = list(vocabulary)
        self.language = language
        self.calls: list[AsrCall] = []

    @staticmethod
    def tone_hz(k: int) -> float:
        return 300.0 + 100.0 * k

    def speak(self, words: str, seconds_per_word: float = 0.4) -> Samples:
        """Audio saying ``words`` (each in the vocabulary), one after another without a gap."""
        return np.concatenate([tone(seconds_per_word, freq=self.tone_hz(self.vocabulary.index(w)))
                               for w in words.split()])

    def _recognize_sync(self, audio: Samples, language: str | None, mode: DecodeMode) -> Hypothesis:
        self.calls.append(AsrCall(mode, len(audio) / RATE, language))
        heard: list[tuple[int, float, float]] = []
        for i in range(0, len(audio) - self.BLOCK + 1, self.BLOCK):
            block = audio[i:i + self.BLOCK]
            if np.sqrt(np.mean(np.square(block))) < 0.05:
                continue
            peak = float(np.argmax(np.abs(np.fft.rfft(block)))) * RATE / self.BLOCK
            k = round((peak - 300.0) / 100.0)
            if not 0 <= k < len(self.vocabulary):
                continue
            start, end = i / RATE, (i + self.BLOCK) / RATE
            if heard and heard[-1][0] == k and abs(heard[-1][2] - start) < 1e-6:
                heard[-1] = (k, heard[-1][1], end)
            else:
                heard.append((k, start, end))
        # a word heard for under 100 ms is a fragment the cut left: a recogniser would drop it
        words = tuple(Word(self.vocabulary[k], a, b) for k, a, b in heard if b - a >= 0.1 - 1e-6)
        return Hypothesis(words, language or self.language, 1.0)
