"""Chinese captions are Simplified, whatever script the recogniser wrote."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from parley.interpretation.asr import chinese
from parley.interpretation.asr.base import DecodeMode, Hypothesis, simplify_chinese
from parley.interpretation.frames import Word, join_words
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.engines import ScriptedAsr, tone

pytestmark = pytest.mark.unit

TRADITIONAL = "橋下垂直淨空15米該項目於2011年8月完工"
SIMPLIFIED = "桥下垂直净空15米该项目于2011年8月完工"


@pytest.fixture(autouse=True)
def fresh_converter() -> Iterator[None]:
    chinese.simplified_converter.cache_clear()
    yield
    chinese.simplified_converter.cache_clear()


def needs_opencc() -> None:
    if chinese.simplified_converter() is None:
        pytest.skip("OpenCC is not installed (pip install opencc, or apt-get install opencc)")


def test_traditional_text_is_converted() -> None:
    needs_opencc()
    assert chinese.to_simplified(TRADITIONAL) == SIMPLIFIED
    assert chinese.to_simplified(SIMPLIFIED) == SIMPLIFIED
    assert chinese.to_simplified("") == ""


def test_the_opencc_command_serves_when_the_binding_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("opencc") is None:
        pytest.skip("the opencc command is not installed")
    monkeypatch.setattr(chinese, "_binding", lambda: None)
    assert chinese.to_simplified(TRADITIONAL) == SIMPLIFIED


def test_without_opencc_text_passes_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chinese, "_binding", lambda: None)
    monkeypatch.setattr(chinese, "_command", lambda: None)
    assert chinese.to_simplified(TRADITIONAL) == TRADITIONAL


def test_word_pieces_keep_their_times_and_only_chinese_is_touched() -> None:
    needs_opencc()
    words = (Word("該", 0.0, 0.2, 0.9), Word("項目", 0.2, 0.6, 0.8), Word("於", 0.6, 0.7))
    hyp = simplify_chinese(Hypothesis(words, "zh"))
    assert [w.text for w in hyp.words] == ["该", "项目", "于"]
    assert [(w.start, w.end, w.probability) for w in hyp.words] == [(w.start, w.end, w.probability) for w in words]
    japanese = Hypothesis((Word("該當", 0.0, 1.0),), "ja")
    assert simplify_chinese(japanese) is japanese


async def test_partials_and_finals_of_an_engine_writing_traditional_come_out_simplified(
        scheduler: InferenceScheduler, clock: FakeClock) -> None:
    needs_opencc()
    asr = ScriptedAsr(scheduler=scheduler, clock=clock, partials=["橋下垂直"], final=TRADITIONAL, language="zh")
    audio = np.asarray(tone(2.0))
    for mode in (DecodeMode.PARTIAL, DecodeMode.FINAL):
        hyp = await asr.recognize(audio, stream_id="s", language="zh", mode=mode)
        assert join_words(hyp.words, "zh") == (SIMPLIFIED if mode is DecodeMode.FINAL else "桥下垂直")
    english = await asr.recognize(audio, stream_id="s", language="en", mode=DecodeMode.FINAL)
    assert [w.text for w in english.words] == [TRADITIONAL]  # not Chinese: left as written
