"""Bounding a pass however the audio makes Whisper behave: a token budget per decoder call,
a shared token and wall-clock budget per pass (`PassBudget`, enforced by `BudgetedWhisper`
around the CTranslate2 model), and the shortened encoder window.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from parley.clock import Clock

log = logging.getLogger(__name__)


SAMPLE_RATE = 16_000
FRAMES_PER_SECOND = 100  # Whisper's mel frames
WINDOW_FRAMES = 3000  # 30 s


def token_budget(seconds: float) -> int:
    """Most tokens a pass may generate for ``seconds`` of audio: well above fast speech in any
    script (~10 tokens/s for Mandarin), far below Whisper's 448 that a pass stuck repeating
    "..." on noise would otherwise spend at every fallback temperature (10 s for 2 s of audio)."""
    return int(min(440, 24 + 12 * seconds))


def encoder_frames(content_frames: int, padding_s: float | None, minimum_s: float = 0.0) -> int:
    """Mel frames the encoder sees for ``content_frames`` of audio: content plus padding,
    rounded up to a whole second, at least ``minimum_s``, at most Whisper's 30 s window."""
    if padding_s is None:
        return WINDOW_FRAMES
    wanted = max(content_frames + padding_s * FRAMES_PER_SECOND, minimum_s * FRAMES_PER_SECOND)
    return int(min(WINDOW_FRAMES, math.ceil(wanted / FRAMES_PER_SECOND) * FRAMES_PER_SECOND))


class PassOver(Exception):  # an outcome, not an error
    """The pass has spent its budget: no more decoder calls."""

@dataclass
class PassBudget:
    """What one recognition pass may still spend: tokens, and time until ``deadline``.

    ``pending`` holds the decoder results since the last segment faster-whisper yielded: when
    the budget runs out during a window's temperature fallback, the best of them still counts.
    """

    tokens: int
    deadline: float
    spent: int = 0
    calls: int = 0
    decoding_s: float = 0.0  # time inside the calls so far (their token rate caps the next one)
    exhausted: bool = False
    pending: list[Any] = field(default_factory=list)

    def best_pending(self) -> Any:
        scored = [r for r in self.pending if r.sequences_ids and r.sequences_ids[0]]
        return max(scored, key=lambda r: r.scores[0] if r.scores else -math.inf, default=None)


class BudgetedWhisper:
    """CTranslate2's Whisper with the `PassBudget` of the calling thread's pass applied to
    every `generate` call (faster-whisper calls it once per temperature and per seek): each
    call may generate only what is left, and once nothing is (or the deadline passed) the next
    call raises `PassOver`. Everything else is the model's own."""

    def __init__(self, model: Any, clock: Clock) -> None:
        self._model = model
        self._clock = clock
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    @property
    def current(self) -> PassBudget | None:
        budget: PassBudget | None = getattr(self._local, "budget", None)
        return budget

    @contextmanager
    def budget(self, tokens: int, seconds: float | None) -> Iterator[PassBudget]:
        deadline = self._clock.monotonic() + seconds if seconds is not None else math.inf
        budget = PassBudget(tokens, deadline)
        previous = self.current
        self._local.budget = budget
        try:
            yield budget
        finally:
            self._local.budget = previous

    def generate(self, features: Any, prompts: Any, **options: Any) -> Any:
        budget = self.current
        if budget is None:
            return self._model.generate(features, prompts, **options)
        now = self._clock.monotonic()
        left = budget.tokens - budget.spent
        if budget.decoding_s > 0 and budget.spent:  # what the time left allows at this pass's pace
            left = min(left, int((budget.deadline - now) * budget.spent / budget.decoding_s))
        if left <= 0 or now >= budget.deadline:
            budget.exhausted = True
            raise PassOver()
        prompt = max(len(p) for p in prompts)
        options["max_length"] = min(int(options.get("max_length", 448)), prompt + left)
        results = self._model.generate(features, prompts, **options)
        budget.spent += max((len(r.sequences_ids[0]) for r in results), default=0)
        budget.calls += 1
        budget.decoding_s += self._clock.monotonic() - now
        budget.pending.extend(results)
        return results


def transcription_defaults() -> dict[str, Any] | None:
    """faster-whisper's defaults for every `TranscriptionOptions` field, read from
    `WhisperModel.transcribe`; None when its internals are not what this engine drives (the
    engine then calls `transcribe`, with the full 30 s window, instead)."""
    try:
        from faster_whisper import WhisperModel
        from faster_whisper.transcribe import TranscriptionOptions

        params = inspect.signature(WhisperModel.transcribe).parameters
        generate = inspect.signature(WhisperModel.generate_segments).parameters
        defaults: dict[str, Any] = {}
        for f in dataclasses.fields(TranscriptionOptions):
            name = "temperature" if f.name == "temperatures" else f.name
            defaults[f.name] = params[name].default
    except (ImportError, KeyError, TypeError, AttributeError):
        log.warning("this faster-whisper is not the one Parley was built against: short encoder windows are off")
        return None
    if "encoder_output" not in generate:
        return None
    return defaults
