"""Speech synthesis engines.

A `TtsEngine` turns one translated sentence into mono PCM (`SynthesizedSpeech`); the base
owns retries and metrics. `Voices` picks, per language, the first engine in preference
order that speaks it (e.g. festival for Russian, espeak-ng for the rest).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.engine import EngineBase, RetryPolicy
from parley.interpretation.frames import SynthesizedSpeech

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TtsCapabilities:
    languages: frozenset[str]
    sample_rate: int
    streaming: bool = False


class TtsEngine(EngineBase, ABC):
    stage = "tts"
    capabilities: TtsCapabilities

    def __init__(self, *, clock: Clock, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)

    def speaks(self, language: str) -> bool:
        return language in self.capabilities.languages

    async def synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        if not self.speaks(language):
            raise EngineError(f"{self.name} has no voice for {language!r}", retryable=False, engine=self.name)

        async def attempt() -> SynthesizedSpeech:
            return await self._synthesize(text, language)

        return await self.call("synthesize", attempt)

    @abstractmethod
    async def _synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        """Synthesize one sentence (non-empty, single line)."""


class Voices:
    """Language -> engine, first match in preference order among engines that started."""

    def __init__(self, engines: Sequence[TtsEngine]) -> None:
        self.engines = list(engines)
        self.unavailable: dict[str, str] = {}

    async def start(self) -> None:
        usable = []
        for engine in self.engines:
            try:
                await engine.start()
            except ModelMissing as exc:
                self.unavailable[engine.name] = str(exc)
                log.warning("speech engine %s unavailable: %s", engine.name, exc)
                continue
            usable.append(engine)
        self.engines = usable

    async def aclose(self) -> None:
        for engine in self.engines:
            await engine.aclose()

    def engine_for(self, language: str) -> TtsEngine | None:
        return next((e for e in self.engines if e.speaks(language)), None)

    def missing(self, languages: Collection[str]) -> list[str]:
        return [lang for lang in languages if self.engine_for(lang) is None]

    async def synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        engine = self.engine_for(language)
        if engine is None:
            raise EngineError(f"no speech engine for {language!r}", retryable=False)
        return await engine.synthesize(text, language)
