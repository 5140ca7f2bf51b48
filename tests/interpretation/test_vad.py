"""Voice activity: hysteresis boundaries, and Silero run incrementally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parley.interpretation.vad import EnergyVad, Segmenter, SegmenterOptions
from tests.fakes.engines import silence, tone

pytestmark = pytest.mark.unit
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval" / "speech"


def test_segmenter_hysteresis() -> None:
    seg = Segmenter(SegmenterOptions(threshold=0.5, neg_threshold=0.3, min_silence_s=0.096), frame_s=0.032)
    probs = [0.1, 0.9, 0.9, 0.4, 0.2, 0.9, 0.1, 0.1, 0.1, 0.1]
    out = seg.push(probs)
    # 0.4 sits between the thresholds: the speech goes on; the pause of frames 6-8 ends it at frame 6
    assert [(b.kind, b.frame) for b in out] == [("start", 1), ("end", 6)]
    assert not seg.in_speech


def test_segmenter_pause_counts_from_its_first_quiet_frame() -> None:
    seg = Segmenter(SegmenterOptions(threshold=0.5, neg_threshold=0.3, min_silence_s=0.096), frame_s=0.032)
    out = seg.push([0.9, 0.1, 0.4, 0.1])
    assert [(b.kind, b.frame) for b in out] == [("start", 0), ("end", 1)]


def test_force_end() -> None:
    seg = Segmenter()
    seg.push([0.9])
    end = seg.force_end()
    assert end is not None and end.kind == "end" and end.frame == 1
    assert seg.force_end() is None


def test_energy_vad_separates_tone_from_silence() -> None:
    vad = EnergyVad()
    probs = vad.probabilities(np.concatenate([silence(0.32), tone(0.32), silence(0.1)]))
    assert len(probs) == 23  # complete 512-sample frames only; 64 samples wait
    assert max(probs[:10]) == 0.0 and min(probs[10:20]) == 1.0 and max(probs[20:]) == 0.0
    assert len(vad.probabilities(silence(0.02))) == 0  # 64 + 320 < 512
    assert len(vad.probabilities(silence(0.01))) == 1


def test_silero_streaming_matches_faster_whispers_whole_file_pass() -> None:
    pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
    from faster_whisper.vad import get_vad_model

    from parley.interpretation.vad import SileroVad

    rng = np.random.default_rng(1)
    audio = np.concatenate([silence(0.5), tone(1.0) + 0.05 * rng.standard_normal(16000).astype(np.float32),
                            silence(0.5)]).astype(np.float32)
    audio = audio[: len(audio) // 512 * 512]
    whole = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad = SileroVad()
    streamed: list[float] = []
    for i in range(0, len(audio), 320):  # 20 ms packets, not aligned with 32 ms frames
        streamed += vad.probabilities(audio[i:i + 320])
    assert len(streamed) == len(whole)
    assert np.allclose(streamed, whole, atol=1e-4)


def test_silero_finds_the_speech_in_a_real_recording() -> None:
    pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
    clip = EVAL / "fleurs_zh" / "fleurs_zh_1883_clip5.wav"
    if not clip.exists():
        pytest.skip(f"evaluation audio not found at {clip} (shared/eval is absent)")
    from parley.interpretation.audio import load_audio
    from parley.interpretation.vad import SileroVad

    audio = load_audio(clip)
    padded = np.concatenate([silence(1.0), audio, silence(1.0)])
    seg = Segmenter()
    bounds = seg.push(SileroVad().probabilities(padded))
    starts = [b.frame * 512 / 16000 for b in bounds if b.kind == "start"]
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    reference = get_speech_timestamps(audio, VadOptions(speech_pad_ms=0))[0]["start"] / 16000 + 1.0
    assert starts and abs(starts[0] - reference) < 0.3
    speech = sum(p > 0.5 for p in SileroVad().probabilities(padded)) * 512 / 16000
    assert speech > 0.5 * len(audio) / 16000
