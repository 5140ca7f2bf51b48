"""Speech synthesis: text cleaning, routing by language, espeak-ng and festival for real."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from parley.errors import EngineError, ModelMissing
from parley.interpretation.tts.base import Voices
from parley.interpretation.tts.espeak import EspeakEngine
from parley.interpretation.tts.festival import FestivalEngine, clean_text
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeTts

pytestmark = pytest.mark.unit

UN_SENTENCES = {
    "en": "The meeting will begin shortly.",
    "fr": "La réunion va bientôt commencer.",
    "es": "La reunión comenzará pronto.",
    "ar": "سيبدأ الاجتماع قريبا.",
    "ru": "Встреча скоро начнётся.",
    "zh": "会议即将开始。",
}


def test_festival_text_is_reduced_to_what_it_can_read() -> None:
    assert clean_text("Привет , мир - как дела ?") == "Привет, мир как дела?"
    assert clean_text("«Дом» (тест) — да!!") == "Дом тест да!"
    assert clean_text(" ... ") == ""
    assert clean_text("2023 год_x") == "2023 год x"


async def test_voices_route_each_language_to_the_first_engine_that_speaks_it(clock: FakeClock) -> None:
    special = FakeTts(clock=clock, languages=["ru"], name="special")
    generic = FakeTts(clock=clock, languages=["en", "ru"], name="generic")
    voices = Voices([special, generic])
    await voices.start()
    assert voices.engine_for("ru") is special and voices.engine_for("en") is generic
    assert voices.missing(["en", "ru", "zh"]) == ["zh"]
    speech = await voices.synthesize("one two three", "ru")
    assert speech.engine == "special" and speech.duration == pytest.approx(0.3)
    with pytest.raises(EngineError):
        await voices.synthesize("x", "zh")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
@pytest.mark.parametrize("language", sorted(UN_SENTENCES))
async def test_espeak_speaks_every_un_language(language: str, clock: FakeClock) -> None:
    engine = EspeakEngine(clock=clock)
    await engine.start()
    if not engine.speaks(language):
        pytest.skip(f"espeak-ng voice for {language} not installed")
    speech = await engine.synthesize(UN_SENTENCES[language], language)
    assert speech.sample_rate == 22_050
    assert 0.5 < speech.duration < 10
    assert float(np.sqrt(np.mean(speech.samples ** 2))) > 0.01  # not silence


async def test_festival_speaks_russian(clock: FakeClock) -> None:
    if shutil.which("text2wave") is None:
        pytest.skip("festival not installed (apt-get install festival festvox-ru)")
    engine = FestivalEngine(clock=clock)
    try:
        await engine.start()
    except ModelMissing as exc:
        pytest.skip(str(exc))
    # a lone dash and question mark make text2wave write nothing unless the text is cleaned
    speech = await engine.synthesize("Встреча скоро начнётся - вы готовы ?", "ru")
    assert speech.sample_rate == 16_000 and speech.duration > 1.0
    assert float(np.sqrt(np.mean(speech.samples ** 2))) > 0.01
    with pytest.raises(EngineError):
        await engine.synthesize("Hello", "en")
