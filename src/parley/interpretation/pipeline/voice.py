"""A language's synthesized voice: translated finals spoken one after another into an audio
sink (an RTP sender toward Janus, or a test double); when too many wait, the oldest are
skipped (the captions still carry them).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.frames import EngineHealth, HealthStatus, Samples
from parley.interpretation.metrics import StageMetrics
from parley.interpretation.tts.base import Voices
from parley.tasks import TaskOwner


class AudioSink(Protocol):
    """Where a voice channel's audio goes (an `RtpOpusSender`, or a test double)."""

    async def send(self, samples: Samples, sample_rate: int) -> int: ...


class VoiceChannel:
    """The synthesized voice for one target language: finals are spoken one after another.

    At most ``max_backlog`` sentences wait; past that the oldest are skipped, because late
    interpretation is worse than missing a sentence (the captions still carry it).
    """

    def __init__(self, language: str, voices: Voices, sink: AudioSink, *, clock: Clock,
                 metrics: StageMetrics | None = None, max_backlog: int = 3) -> None:
        self.language = language
        self.voices = voices
        self.sink = sink
        self.clock = clock
        self.metrics = metrics or StageMetrics()
        self._queue: deque[tuple[str, float]] = deque(maxlen=max_backlog)
        self._wake = asyncio.Event()
        self._tasks = TaskOwner(f"voice:{language}")
        self.spoken = 0
        self.skipped = 0
        self.on_health: Callable[[EngineHealth], None] | None = None
        self._status = HealthStatus.OK

    @property
    def available(self) -> bool:
        return self.voices.engine_for(self.language) is not None

    async def start(self) -> None:
        self._tasks.spawn("speak", self._speak_loop())

    async def stop(self) -> None:
        await self._tasks.stop()

    def say(self, text: str, audio_end_at: float) -> None:
        if not text.strip():
            return
        if len(self._queue) == self._queue.maxlen:
            self.skipped += 1
        self._queue.append((text, audio_end_at))
        self._wake.set()

    async def _speak_loop(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            text, audio_end_at = self._queue.popleft()
            t0 = self.clock.monotonic()
            try:
                speech = await self.voices.synthesize(text, self.language)
            except EngineError as exc:
                self.metrics.error("tts.synthesize")
                self._health(HealthStatus.FAILING, str(exc), exc.retryable)
                continue
            self._health(HealthStatus.OK, "speaking", False)
            started = self.clock.monotonic()
            self.metrics.observe("tts.synthesize", started - t0)
            self.metrics.observe("tts.voice_latency", started - audio_end_at)
            await self.sink.send(speech.samples, speech.sample_rate)
            self.spoken += 1

    def _health(self, status: HealthStatus, message: str, retryable: bool) -> None:
        if status is self._status:
            return
        self._status = status
        engine = self.voices.engine_for(self.language)
        if self.on_health is not None:
            self.on_health(EngineHealth(stage="tts", engine=engine.name if engine else "", status=status,
                                        message=message, retryable=retryable, target_language=self.language))
