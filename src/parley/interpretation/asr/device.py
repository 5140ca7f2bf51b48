"""Where faster-whisper runs: ``interpretation.device = auto | cpu | cuda``.

``auto`` takes a CUDA GPU when CTranslate2 sees one (float16 there: int8 is a CPU saving, and
on a GPU float16 is as fast and decodes as trained), else the CPU with the configured compute
type (int8), unchanged from before.
"""

from __future__ import annotations

from parley.errors import ModelMissing

DEVICES = ("auto", "cpu", "cuda")
GPU_COMPUTE_TYPE = "float16"


def cuda_device_count() -> int:
    try:
        import ctranslate2
    except ImportError:
        return 0
    try:
        return int(ctranslate2.get_cuda_device_count())
    except (RuntimeError, OSError):  # a CUDA runtime that is present but broken counts as none
        return 0


def choose_device(requested: str, cpu_compute_type: str) -> tuple[str, str]:
    """(device, compute_type) for WhisperModel."""
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {requested!r}")
    if requested == "cpu":
        return "cpu", cpu_compute_type
    if cuda_device_count() > 0:
        return "cuda", GPU_COMPUTE_TYPE
    if requested == "cuda":
        raise ModelMissing("interpretation.device is cuda but CTranslate2 sees no CUDA device", engine="whisper")
    return "cpu", cpu_compute_type
