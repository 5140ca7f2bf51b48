"""The Whisper engine's settings: model, compute type, threads, beams and fallback
temperatures, the encoder window, the device, and what one pass may spend.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WhisperOptions:
    model: str = "auto"
    compute_type: str = "int8"
    cpu_threads: int = 2
    # 2, not greedy: on ../shared/eval the 90th percentile of the first caption fell from
    # 2.46 s to 2.13 s (Russian 4.08 -> 1.82 s) at the same CPU (the decoder is bound by
    # reading its weights, so a second hypothesis costs little)
    partial_beam_size: int = 2
    final_beam_size: int = 5
    final_temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    encoder_padding_s: float | None = 3.0  # None: the full 30 s window
    encoder_min_s: float = 10.0
    device: str = "auto"  # auto | cpu | cuda (asr/device.py)
    # what one pass may spend in all: tokens (this many times `token_budget` of its audio)
    # and time (this many times its audio's duration, at least `pass_min_s`; None: no bound)
    pass_token_share: float = 1.0
    pass_max_rtf: float | None = 0.5
    pass_min_s: float = 3.0
