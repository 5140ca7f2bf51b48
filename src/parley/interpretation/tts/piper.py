"""Piper (neural VITS voices, ONNX) for the voices an operator installed.

`piper-tts` (PyPI, GPL-3.0-or-later, like Parley's AGPL compatible) phonemizes with the
espeak-ng it bundles and runs the voice with onnxruntime; nothing is downloaded. Voices
live in ``<models_dir>/piper/<voice>/`` as ``<voice>.onnx`` plus ``<voice>.onnx.json`` (what
``parley models install piper-fr`` puts there); the language comes from the JSON
(``language.code``, e.g. ``fr_FR``) or the file name. No Piper voice ships in any package,
so espeak-ng and festival stay the default; an installed voice takes its language over.
Voices that need a phonemizer which downloads its own model (Mandarin ``pinyin`` voices use
g2pW) are skipped and logged. Each voice runs on ``threads`` CPU threads, one sentence at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import SynthesizedSpeech
from parley.interpretation.tts.base import TtsCapabilities, TtsEngine

log = logging.getLogger(__name__)

SUPPORTED_PHONEMES = ("espeak", "text")


def voice_language(model: Path, config: dict[str, Any]) -> str:
    """``fr`` for a voice whose JSON says ``fr_FR`` (or named ``fr_FR-siwis-medium.onnx``)."""
    code = str((config.get("language") or {}).get("code") or model.name.split("-", 1)[0])
    return code.split("_", 1)[0].lower()


def find_voices(models_dir: Path) -> dict[str, Path]:
    """Language -> the first voice model (by folder name) that speaks it."""
    root = models_dir / "piper"
    found: dict[str, Path] = {}
    for model in sorted(root.glob("*/*.onnx")) if root.is_dir() else []:
        config_file = model.with_name(model.name + ".json")
        if not config_file.is_file():
            continue
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("phoneme_type", "espeak") not in SUPPORTED_PHONEMES:
            log.warning("piper voice %s uses %s phonemes, which need a downloaded model; skipped", model.name,
                        config.get("phoneme_type"))
            continue
        found.setdefault(voice_language(model, config), model)
    return found


class PiperEngine(TtsEngine):
    name = "piper"

    def __init__(self, models_dir: Path, *, clock: Clock, threads: int = 1, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.models_dir = models_dir
        self.threads = threads
        self.voices: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.capabilities = TtsCapabilities(languages=frozenset(), sample_rate=22_050)

    async def _start(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        found = find_voices(self.models_dir)
        if not found:
            raise ModelMissing(f"no Piper voices in {self.models_dir / 'piper'} "
                               "(parley models install piper-fr ...)", engine=self.name)
        try:
            import onnxruntime
            from piper.config import PiperConfig
            from piper.voice import PiperVoice
        except ImportError as exc:
            raise ModelMissing("piper-tts is not installed: pip install 'parley[interpretation]'",
                               engine=self.name) from exc
        for language, model in found.items():
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            try:
                config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
                session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                                       providers=["CPUExecutionProvider"])
                self.voices[language] = PiperVoice(config=PiperConfig.from_dict(config), session=session)
            except (KeyError, ValueError, OSError, RuntimeError) as exc:
                log.warning("piper voice %s does not load (%s); skipped", model.name, exc.__class__.__name__)
                continue
            self._locks[language] = asyncio.Lock()
        if not self.voices:
            raise ModelMissing(f"no Piper voice in {self.models_dir / 'piper'} loads", engine=self.name)
        rates = {v.config.sample_rate for v in self.voices.values()}
        self.capabilities = TtsCapabilities(languages=frozenset(self.voices), sample_rate=max(rates))

    async def _synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        voice = self.voices[language]
        async with self._locks[language]:
            chunks = await asyncio.to_thread(lambda: [c.audio_float_array for c in voice.synthesize(text)])
        if not chunks:
            raise EngineError("piper wrote no audio", retryable=False, engine=self.name)
        samples = np.concatenate(chunks).astype(np.float32)
        return SynthesizedSpeech(samples, voice.config.sample_rate, language, self.name)
