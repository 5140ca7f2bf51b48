"""``interpretation.device``: faster-whisper on a CUDA GPU when CTranslate2 sees one (count
faked here), on the CPU with int8 otherwise, exactly as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.errors import ModelMissing
from parley.interpretation.asr import device as device_module
from parley.interpretation.asr.device import choose_device
from parley.interpretation.asr.whisper import MODEL_FILES, WhisperEngine, WhisperOptions
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit


def fake_cuda(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 not installed")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: count)


@pytest.mark.parametrize(("requested", "gpus", "expected"), [
    ("auto", 0, ("cpu", "int8")),
    ("auto", 1, ("cuda", "float16")),
    ("cpu", 2, ("cpu", "int8")),
    ("cuda", 1, ("cuda", "float16")),
])
def test_the_device_follows_what_ctranslate2_sees(monkeypatch: pytest.MonkeyPatch, requested: str, gpus: int,
                                                  expected: tuple[str, str]) -> None:
    fake_cuda(monkeypatch, gpus)
    assert choose_device(requested, "int8") == expected


def test_cuda_without_a_gpu_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cuda(monkeypatch, 0)
    with pytest.raises(ModelMissing, match="no CUDA device"):
        choose_device("cuda", "int8")
    with pytest.raises(ValueError):
        choose_device("tpu", "int8")


def test_a_broken_cuda_runtime_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 not installed")

    def broken() -> int:
        raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", broken)
    assert device_module.cuda_device_count() == 0


@pytest.mark.parametrize(("gpus", "device", "compute_type"), [(0, "cpu", "int8"), (1, "cuda", "float16")])
async def test_whisper_is_built_on_the_chosen_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     clock: FakeClock, scheduler: InferenceScheduler, gpus: int,
                                                     device: str, compute_type: str) -> None:
    faster_whisper = pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
    fake_cuda(monkeypatch, gpus)
    built: list[dict[str, Any]] = []

    class Recording(faster_whisper.WhisperModel):  # type: ignore[misc]
        def __init__(self, path: str, **kwargs: Any) -> None:
            built.append({"path": path, **kwargs})
            self.model = object()  # the CTranslate2 model the engine wraps in its pass budget

    monkeypatch.setattr(faster_whisper, "WhisperModel", Recording)
    folder = tmp_path / "whisper" / "small"
    folder.mkdir(parents=True)
    for name in MODEL_FILES:
        (folder / name).write_text("{}")
    engine = WhisperEngine(tmp_path, scheduler=scheduler, clock=clock, options=WhisperOptions(cpu_threads=1))
    await engine.start()
    assert built == [{"path": str(folder), "device": device, "compute_type": compute_type, "cpu_threads": 1,
                      "num_workers": scheduler.threads}]
    assert engine.device == device
