"""Voice activity: per-frame speech probabilities, and hysteresis that turns them into
utterance boundaries.

`SileroVad` runs the Silero v6 ONNX model bundled with faster-whisper incrementally (its
recurrent state and 64-sample context carried across calls give the same probabilities as
faster-whisper's whole-file pass). `EnergyVad` needs no model: a fallback and a test double.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from parley.errors import ModelMissing
from parley.interpretation.frames import Samples

VAD_RATE = 16_000
FRAME_SAMPLES = 512  # 32 ms at 16 kHz, what Silero expects


class Vad(ABC):
    """Speech probability for each complete 512-sample frame; keeps the remainder."""

    frame_samples = FRAME_SAMPLES
    sample_rate = VAD_RATE

    def __init__(self) -> None:
        self._rest = np.zeros(0, np.float32)

    def probabilities(self, samples: Samples) -> list[float]:
        data = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n = len(data) // self.frame_samples * self.frame_samples
        self._rest = data[n:].copy()
        if n == 0:
            return []
        return self._frames(data[:n].reshape(-1, self.frame_samples))

    @abstractmethod
    def _frames(self, frames: np.ndarray[Any, np.dtype[np.float32]]) -> list[float]:
        """Probabilities for a (n, 512) batch of consecutive frames."""

    def reset(self) -> None:
        self._rest = np.zeros(0, np.float32)


class SileroVad(Vad):
    CONTEXT = 64

    def __init__(self) -> None:
        super().__init__()
        try:
            from faster_whisper.vad import get_vad_model
        except ImportError as exc:
            raise ModelMissing("Silero VAD needs faster-whisper and onnxruntime: pip install "
                               "'parley[interpretation]'", engine="silero-vad") from exc
        self._session = get_vad_model().session
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(self.CONTEXT, np.float32)

    def _frames(self, frames: np.ndarray[Any, np.dtype[np.float32]]) -> list[float]:
        contexts = np.concatenate([self._context[None, :], frames[:-1, -self.CONTEXT :]], axis=0)
        batch = np.concatenate([contexts, frames], axis=1).astype(np.float32)
        self._context = frames[-1, -self.CONTEXT :].copy()
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return [float(p) for p in np.asarray(out).reshape(-1)]


class EnergyVad(Vad):
    """Probability from frame RMS: 0 at ``floor_db`` and below, 1 at ``speech_db`` and above."""

    def __init__(self, *, floor_db: float = -50.0, speech_db: float = -35.0) -> None:
        super().__init__()
        self.floor_db = floor_db
        self.speech_db = speech_db

    def _frames(self, frames: np.ndarray[Any, np.dtype[np.float32]]) -> list[float]:
        rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)) + 1e-12
        db = 20 * np.log10(rms)
        p = (db - self.floor_db) / (self.speech_db - self.floor_db)
        return [float(x) for x in np.clip(p, 0.0, 1.0)]


@dataclass(frozen=True)
class SegmenterOptions:
    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_silence_s: float = 0.5
    pad_s: float = 0.25


@dataclass(frozen=True, slots=True)
class Boundary:
    kind: Literal["start", "end"]
    frame: int  # index of the first speech frame ("start") or first frame after speech ("end")


class Segmenter:
    """Hysteresis over frame probabilities: speech starts at ``threshold`` and ends after
    ``min_silence_s`` below ``neg_threshold``. Frame indices count from the first frame pushed.
    """

    def __init__(self, options: SegmenterOptions | None = None, *, frame_s: float = FRAME_SAMPLES / VAD_RATE) -> None:
        self.options = options or SegmenterOptions()
        self.frame_s = frame_s
        self.in_speech = False
        self._index = 0
        self._pause_start: int | None = None
        self.last_probability = 0.0

    def push(self, probabilities: list[float]) -> list[Boundary]:
        out: list[Boundary] = []
        silence_frames = max(1, round(self.options.min_silence_s / self.frame_s))
        for p in probabilities:
            self.last_probability = p
            if not self.in_speech:
                if p >= self.options.threshold:
                    self.in_speech = True
                    self._pause_start = None
                    out.append(Boundary("start", self._index))
            elif p >= self.options.threshold:
                self._pause_start = None
            elif p < self.options.neg_threshold:
                # like Silero: the pause runs from its first quiet frame, whatever follows it
                if self._pause_start is None:
                    self._pause_start = self._index
                if self._index + 1 - self._pause_start >= silence_frames:
                    self.in_speech = False
                    out.append(Boundary("end", self._pause_start))
                    self._pause_start = None
            self._index += 1
        return out

    def force_end(self) -> Boundary | None:
        if not self.in_speech:
            return None
        self.in_speech = False
        self._pause_start = None
        return Boundary("end", self._index)

    @property
    def frames_seen(self) -> int:
        return self._index
