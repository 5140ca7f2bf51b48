"""Builds the default engines from what is installed, and says what is missing.

The composition root calls `build_engines` once per worker; every engine that cannot work
(no model, no tool) becomes an `EngineHealth` entry instead of an exception, so a meeting
still gets whatever does work (captions without translation, translation without voice).
Translation and speech engines are registered here by name (`MT_FACTORIES`, `TTS_FACTORIES`);
the configuration chooses which run and in which order (`interpretation.mt_engines`,
`interpretation.tts_engines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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
from parley.interpretation.tts.base import TtsEngine, Voices
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
    # Which engines run, best first (names of `MT_FACTORIES` and `TTS_FACTORIES`).
    mt_engines: tuple[str, ...] = field(default_factory=lambda: tuple(MT_FACTORIES))
    tts_engines: tuple[str, ...] = field(default_factory=lambda: tuple(TTS_FACTORIES))


@dataclass(frozen=True)
class EngineContext:
    """What an engine factory may use."""

    models_dir: Path
    clock: Clock
    scheduler: InferenceScheduler | None = None
    threads: int = 1


def _scheduler(ctx: EngineContext) -> InferenceScheduler:
    if ctx.scheduler is None:  # pragma: no cover - the builders below always give one
        raise ValueError("this engine runs on an inference scheduler")
    return ctx.scheduler


MT_FACTORIES: dict[str, Callable[[EngineContext], MtEngine]] = {
    "ctranslate2": lambda c: CTranslate2Engine(c.models_dir, scheduler=_scheduler(c), clock=c.clock,
                                               threads=c.threads),
    "bergamot": lambda c: BergamotEngine(c.models_dir, scheduler=_scheduler(c), clock=c.clock),
    "apertium": lambda c: ApertiumEngine(clock=c.clock),
}
TTS_FACTORIES: dict[str, Callable[[EngineContext], TtsEngine]] = {
    "piper": lambda c: PiperEngine(c.models_dir, clock=c.clock),
    "festival": lambda c: FestivalEngine(clock=c.clock),
    "espeak-ng": lambda c: EspeakEngine(clock=c.clock),
}


E = TypeVar("E")


def _named(factories: dict[str, Callable[[EngineContext], E]], names: Sequence[str], ctx: EngineContext) -> list[E]:
    unknown = [n for n in names if n not in factories]
    if unknown:
        raise ValueError(f"unknown engine {unknown[0]!r}; known: {', '.join(factories)}")
    return [factories[n](ctx) for n in dict.fromkeys(names)]


def mt_engines(models_dir: Path, *, scheduler: InferenceScheduler, clock: Clock, threads: int = 1,
               names: Sequence[str] | None = None) -> list[MtEngine]:
    """The translation engines named, in that order of preference: a direct pair beats a pivot
    (Translator.route), and among direct pairs the first engine wins; e.g. en->pt by Bergamot
    scores chrF 69.9 against 50.3 through Spanish with Apertium (bench/README.md)."""
    return _named(MT_FACTORIES, list(MT_FACTORIES) if names is None else names,
                  EngineContext(models_dir, clock, scheduler, threads))


def tts_engines(models_dir: Path, *, clock: Clock, names: Sequence[str] | None = None) -> list[TtsEngine]:
    """The speech engines named, in order: an engine takes the languages it has a voice for
    before the next one (installed Piper voices before festival and espeak-ng)."""
    return _named(TTS_FACTORIES, list(TTS_FACTORIES) if names is None else names, EngineContext(models_dir, clock))


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


async def text_translator(models_dir: Path, *, clock: Clock, threads: int = 1,
                          names: Sequence[str] | None = None) -> TextTranslator:
    """Start every engine that is installed (CTranslate2 models, Bergamot, Apertium); those
    that are not are listed in ``unavailable``. The caller closes it."""
    scheduler = InferenceScheduler(clock=clock, workers=1, name="text-mt", stuck_after_s=None)
    await scheduler.start()
    translator = TextTranslator(mt_engines(models_dir, scheduler=scheduler, clock=clock, threads=threads, names=names),
                                scheduler)
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

    engines = mt_engines(options.models_dir, scheduler=scheduler, clock=clock, threads=options.mt_threads,
                         names=options.mt_engines) if options.translation else []
    translator = Translator(engines, glossary=options.glossary)
    await translator.start()
    for name, why in translator.unavailable.items():
        health.append(EngineHealth(stage="mt", engine=name, status=HealthStatus.MISSING, message=why))

    voices: Voices | None = None
    if options.speech:
        voices = Voices(tts_engines(options.models_dir, clock=clock, names=options.tts_engines))
        await voices.start()
        for name, why in voices.unavailable.items():
            health.append(EngineHealth(stage="tts", engine=name, status=HealthStatus.MISSING, message=why))

    def vad_factory() -> Vad:
        try:
            return SileroVad()
        except ModelMissing:
            return EnergyVad()

    return InterpreterEngines(asr=asr, translator=translator, voices=voices, vad_factory=vad_factory, health=health)
