"""Festival with the MSU Russian voice (Debian ``festvox-ru``): a far more intelligible
Russian than espeak-ng (read back by Whisper base at ~18 % WER).

``text2wave`` writes nothing when a punctuation mark stands alone or it meets quotes and
dashes it has no rule for, so text is reduced to words, digits and attached ``.,!?`` first.
It runs through temporary files (its pipe output has an unusable header).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
from pathlib import Path

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.audio import parse_wav
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import Samples, SynthesizedSpeech
from parley.interpretation.tts.base import TtsCapabilities, TtsEngine

VOICES = {"ru": "voice_msu_ru_nsh_clunits"}


def clean_text(text: str) -> str:
    """Keep letters, digits and sentence punctuation attached to a word."""
    text = re.sub(r"[^\w\s.,!?]", " ", text).replace("_", " ")
    text = re.sub(r"\s+([.,!?])", r"\1", text)  # "word ," -> "word,"
    text = re.sub(r"(^|\s)[.,!?]+", " ", text)  # punctuation left alone at the start
    text = re.sub(r"([.,!?])[.,!?]+", r"\1", text)
    return " ".join(text.split())


class FestivalEngine(TtsEngine):
    name = "festival"

    def __init__(self, *, clock: Clock, binary: str = "text2wave", voices: dict[str, str] | None = None,
                 timeout_s: float = 30.0, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.binary = binary
        self.voices = dict(voices or VOICES)
        self.timeout_s = timeout_s
        self.capabilities = TtsCapabilities(languages=frozenset(), sample_rate=16_000)

    async def _start(self) -> None:
        path = shutil.which(self.binary)
        if path is None:
            raise ModelMissing("festival is not installed: apt-get install festival festvox-ru", engine=self.name)
        self.binary = path
        usable = {}
        for lang, voice in self.voices.items():
            try:
                await self._render("1", voice)
            except EngineError:
                continue
            usable[lang] = voice
        if not usable:
            raise ModelMissing("festival has none of its voices (apt-get install festvox-ru)", engine=self.name)
        self.voices = usable
        self.capabilities = TtsCapabilities(languages=frozenset(usable), sample_rate=16_000)

    async def _synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        cleaned = clean_text(text)
        if not cleaned:
            raise EngineError("nothing speakable in the text", retryable=False, engine=self.name)
        samples, rate = await self._render(cleaned, self.voices[language])
        return SynthesizedSpeech(samples, rate, language, self.name)

    async def _render(self, text: str, voice: str) -> tuple[Samples, int]:
        with tempfile.TemporaryDirectory(prefix="parley-tts-") as tmp:
            src, dst = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
            await asyncio.to_thread(src.write_text, text + "\n", "utf-8")
            proc = await asyncio.create_subprocess_exec(self.binary, "-eval", f"({voice})", "-o", str(dst), str(src),
                                                        stdin=asyncio.subprocess.DEVNULL,
                                                        stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=asyncio.subprocess.DEVNULL)
            try:
                await asyncio.wait_for(proc.wait(), self.timeout_s)
            except TimeoutError as exc:
                raise EngineError("festival timed out", retryable=True, engine=self.name) from exc
            finally:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
            try:
                data = await asyncio.to_thread(dst.read_bytes)
            except FileNotFoundError:
                data = b""
        if proc.returncode != 0 or len(data) <= 44:
            raise EngineError("festival wrote no audio", retryable=False, engine=self.name)
        try:
            return parse_wav(data)
        except ValueError as exc:
            raise EngineError("festival wrote an unreadable WAV", retryable=False, engine=self.name) from exc
