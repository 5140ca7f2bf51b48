"""What a benchmark run measures: which clips, which pipeline settings, which load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parley.interpretation.adapters import StreamingOptions
from parley.interpretation.asr.whisper import WhisperOptions

FLORES = {"en": "eng_Latn", "fr": "fra_Latn", "es": "spa_Latn", "ar": "arb_Arab", "ru": "rus_Cyrl", "zh": "zho_Hans"}
REF_LANGUAGE = {f"ref_{code}": lang for lang, code in FLORES.items()}
UN = ("en", "fr", "es", "ar", "ru", "zh")


@dataclass(frozen=True)
class BenchOptions:
    manifests: tuple[Path, ...]
    models_dir: Path = Path("data/models")
    realtime: bool = False
    limit: int | None = None  # clips per language
    languages: frozenset[str] = frozenset()  # empty: all
    targets: frozenset[str] = frozenset(UN)
    detect: bool = False  # do not tell the pipeline the speaker's language
    baseline: bool = True
    offline: bool = True
    threads: int = 1  # CPU threads per Whisper call
    workers: int = 2  # inference threads of the shared scheduler (Whisper calls at a time)
    speakers: int = 1  # clips streamed at the same time (capacity)
    chain: int = 1  # clips of a language one speaker says in a row, as one stream (sustained load)
    baseline_interval_s: float = 1.0
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    whisper: WhisperOptions = field(default_factory=WhisperOptions)
    # other streaming policies run on every clip beside the first (before/after in one run, on
    # the same clips and the same load; the order rotates from clip to clip): their scores go
    # under "compare", one per policy
    compare: tuple[StreamingOptions, ...] = ()
