"""The data that flows between interpretation stages.

Two clocks appear here and must not be mixed up:

* media time: seconds since a stream began, derived from RTP timestamps (``start``/``end``);
  it says *when in the speech* something was said.
* arrival time: `Clock.monotonic()` seconds when the audio reached the worker
  (``captured_at``, ``audio_end_at``, ``emitted_at``); it says how long the machine took.

Events are immutable and JSON-able through `to_dict` so the meeting layer can put them on
the bus unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] with its place in the stream and its arrival time."""

    samples: Samples
    sample_rate: int
    start: float
    captured_at: float

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised unit (a word, or a character for scripts written without spaces)."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class SpeechStart:
    stream_id: str
    utterance_id: str
    at: float
    kind: Literal["speech_start"] = "speech_start"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    stream_id: str
    utterance_id: str
    at: float
    kind: Literal["speech_end"] = "speech_end"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A recognition result for one utterance.

    Partials carry the whole current hypothesis; its first ``stable_count`` words were agreed
    on by two successive passes and will not change until the final. The final comes from a
    separate, more careful pass and replaces the partials (it may revise stable words).
    """

    stream_id: str
    utterance_id: str
    language: str
    words: tuple[Word, ...]
    is_final: bool
    stable_count: int
    start: float
    end: float
    audio_end_at: float
    emitted_at: float
    language_probability: float = 1.0
    revision: int = 0
    kind: Literal["transcript"] = "transcript"

    @property
    def text(self) -> str:
        return join_words(self.words, self.language)

    @property
    def stable_text(self) -> str:
        return join_words(self.words[: self.stable_count], self.language)

    @property
    def unstable_text(self) -> str:
        return join_words(self.words[self.stable_count :], self.language)

    def to_dict(self) -> dict[str, Any]:
        data = _as_dict(self)
        data["text"] = self.text
        data["stable_text"] = self.stable_text
        return data


@dataclass(frozen=True, slots=True)
class Translation:
    stream_id: str
    utterance_id: str
    source_language: str
    target_language: str
    source_text: str
    text: str
    is_final: bool
    engine: str
    emitted_at: float
    kind: Literal["translation"] = "translation"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class Caption:
    """What a listener sees: original speech or its translation, for one utterance.

    ``revision`` grows with every update of (utterance, language) so a client can drop stale
    ones; ``latency`` is seconds from the arrival of the last audio it covers to its emission.
    ``forced``: a final made from the newest partial because the real one cannot come (the
    speaker left, the worker stopped, a time bound passed); for a translation it may cover only
    the start of the line, so it is shown but not kept as the line's translation.
    """

    speaker_id: str
    utterance_id: str
    revision: int
    role: Literal["original", "translation"]
    language: str
    source_language: str
    text: str
    stable_text: str
    is_final: bool
    start: float
    end: float
    emitted_at: float
    latency: float
    engine: str = ""
    forced: bool = False
    kind: Literal["caption"] = "caption"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Caption:
        """The caption a worker sent (its `to_dict`); ValueError names the first bad field."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "kind":
                continue
            if f.name not in data:
                if f.default is dataclasses.MISSING:
                    raise ValueError(f"caption: {f.name!r} is missing")
                continue
            value = data[f.name]
            want = _CAPTION_TYPES[f.name]
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise ValueError(f"caption: {f.name!r} must be {want.__name__}")
            values[f.name] = value
        if values["role"] not in ("original", "translation"):
            raise ValueError("caption: 'role' must be 'original' or 'translation'")
        return cls(**values)


_CAPTION_TYPES: dict[str, type] = {
    "speaker_id": str, "utterance_id": str, "revision": int, "role": str, "language": str,
    "source_language": str, "text": str, "stable_text": str, "is_final": bool, "start": float, "end": float,
    "emitted_at": float, "latency": float, "engine": str, "forced": bool,
}


class HealthStatus(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"
    FAILING = "failing"


@dataclass(frozen=True, slots=True)
class EngineHealth:
    """An engine's state changed, or a capability the meeting needs does not exist.

    Emitted on change only (not per call), so it can be shown to organisers as is.
    """

    stage: Literal["asr", "mt", "tts", "rtp"]
    engine: str
    status: HealthStatus
    message: str
    retryable: bool = False
    source_language: str = ""
    target_language: str = ""
    speaker_id: str = ""
    kind: Literal["engine_health"] = "engine_health"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class SynthesizedSpeech:
    samples: Samples
    sample_rate: int
    language: str
    engine: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


AsrEvent = SpeechStart | SpeechEnd | Transcript | EngineHealth
PipelineEvent = SpeechStart | SpeechEnd | Caption | EngineHealth


# Scripts written without spaces between words: units are characters, joined without spaces.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "yue", "bo"})


def join_words(words: Sequence[Word], language: str) -> str:
    if language in UNSPACED_LANGUAGES:
        return "".join(w.text.strip() for w in words)
    return " ".join(w.text.strip() for w in words if w.text.strip())


def _as_dict(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, tuple) and value and isinstance(value[0], Word):
            value = [dataclasses.asdict(w) for w in value]
        elif isinstance(value, enum.Enum):
            value = value.value
        data[f.name] = value
    return data

