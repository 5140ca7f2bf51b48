"""Piper voices: a tiny ONNX "voice" the test builds with the onnx package (phoneme ids in,
a tone whose length follows them out), loaded and run by piper-tts as a real voice is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from parley.errors import ModelMissing
from parley.interpretation.tts.base import Voices
from parley.interpretation.tts.piper import PiperEngine, find_voices
from tests.fakes.clock import FakeClock
from tests.fakes.engines import FakeTts

pytestmark = pytest.mark.unit

SAMPLES_PER_ID = 256


def build_tiny_voice(folder: Path, name: str, language_code: str, espeak_voice: str,
                     phoneme_type: str = "espeak") -> Path:
    """``<name>.onnx`` with Piper's inputs (input, input_lengths, scales, int64/float) and output
    audio [1, 1, ids * 256]: sin of the ids, tiled. Plus the ``.onnx.json`` piper reads."""
    onnx = pytest.importorskip("onnx", reason="onnx not installed")
    pytest.importorskip("piper", reason="piper-tts not installed")
    from onnx import TensorProto, helper
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    nodes = [
        helper.make_node("Cast", ["input"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Tile", ["ids", "repeats"], ["tiled"]),
        helper.make_node("Sin", ["tiled"], ["wave"]),
        helper.make_node("Mul", ["wave", "gain"], ["quiet"]),
        helper.make_node("Unsqueeze", ["quiet", "axis"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-voice",
        inputs=[helper.make_tensor_value_info("input", TensorProto.INT64, [1, None]),
                helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
                helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3])],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, None])],
        initializer=[helper.make_tensor("repeats", TensorProto.INT64, [2], [1, SAMPLES_PER_ID]),
                     helper.make_tensor("gain", TensorProto.FLOAT, [], [0.3]),
                     helper.make_tensor("axis", TensorProto.INT64, [1], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    voice_dir = folder / "piper" / name
    voice_dir.mkdir(parents=True)
    path = voice_dir / f"{name}.onnx"
    onnx.save(model, str(path))
    config = {"audio": {"sample_rate": 16_000}, "espeak": {"voice": espeak_voice}, "language": {"code": language_code},
              "num_speakers": 1, "num_symbols": 1 + max(i for ids in DEFAULT_PHONEME_ID_MAP.values() for i in ids),
              "phoneme_id_map": DEFAULT_PHONEME_ID_MAP, "phoneme_type": phoneme_type,
              "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8}}
    path.with_name(path.name + ".json").write_text(json.dumps(config), encoding="utf-8")
    return path


async def test_an_installed_voice_speaks_its_language(tmp_path: Path, clock: FakeClock) -> None:
    build_tiny_voice(tmp_path, "fr_FR-tiny-low", "fr_FR", "fr")
    engine = PiperEngine(tmp_path, clock=clock)
    await engine.start()
    assert engine.capabilities.languages == {"fr"}
    short = await engine.synthesize("Bonjour.", "fr")
    long = await engine.synthesize("Bonjour à tous, la réunion va commencer. Merci d'être venus.", "fr")
    assert short.engine == "piper" and short.sample_rate == 16_000 and short.language == "fr"
    assert short.samples.dtype == np.float32 and float(np.sqrt(np.mean(short.samples ** 2))) > 0.01
    # the length follows the phonemes espeak-ng (bundled in piper-tts) found, two sentences joined
    assert long.duration > 3 * short.duration > 0
    await engine.aclose()


async def test_installed_voices_take_their_language_over_and_the_rest_stays(tmp_path: Path, clock: FakeClock) -> None:
    build_tiny_voice(tmp_path, "es_ES-tiny-low", "es_ES", "es")
    espeak_like = FakeTts(clock=clock, languages=["en", "es", "fr"], name="espeak-ng")
    voices = Voices([PiperEngine(tmp_path, clock=clock), espeak_like])
    await voices.start()
    assert voices.engine_for("es").name == "piper"  # type: ignore[union-attr]
    assert voices.engine_for("en") is espeak_like
    assert (await voices.synthesize("Hola a todos.", "es")).engine == "piper"
    await voices.aclose()


async def test_without_voices_piper_is_reported_missing(tmp_path: Path, clock: FakeClock) -> None:
    build_tiny_voice(tmp_path, "zh_CN-tiny-low", "zh_CN", "cmn", phoneme_type="pinyin")  # would download g2pW
    assert find_voices(tmp_path) == {}
    voices = Voices([PiperEngine(tmp_path, clock=clock)])
    await voices.start()
    assert "no Piper voices" in voices.unavailable["piper"]
    with pytest.raises(ModelMissing):
        await PiperEngine(tmp_path / "nothing", clock=clock).start()
