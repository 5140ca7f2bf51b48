"""espeak-ng: formant synthesis, every UN language, ~1000x faster than real time.

Intelligibility is modest (read back by Whisper base: English/Spanish ~13 % WER, French
worse, Arabic, Russian and Mandarin poor), but it is always there. Mandarin uses the
``cmn-latn-pinyin`` voice (the plain ``cmn`` voice reads Latin letters as English).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.audio import parse_wav
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import SynthesizedSpeech
from parley.interpretation.tts.base import TtsCapabilities, TtsEngine

DEFAULT_VOICES = {"en": "en-gb", "fr": "fr", "es": "es", "ar": "ar", "ru": "ru", "zh": "cmn-latn-pinyin",
                  "de": "de", "pt": "pt"}


class EspeakEngine(TtsEngine):
    name = "espeak-ng"

    def __init__(self, *, clock: Clock, binary: str = "espeak-ng", voices: dict[str, str] | None = None,
                 speed_wpm: int = 165, timeout_s: float = 20.0, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.binary = binary
        self.voices = dict(voices or DEFAULT_VOICES)
        self.speed_wpm = speed_wpm
        self.timeout_s = timeout_s
        self.capabilities = TtsCapabilities(languages=frozenset(), sample_rate=22_050)

    async def _start(self) -> None:
        path = shutil.which(self.binary)
        if path is None:
            raise ModelMissing("espeak-ng is not installed: apt-get install espeak-ng", engine=self.name)
        self.binary = path
        usable = {}
        for lang, voice in self.voices.items():
            try:  # -q: resolve the voice without synthesising (exit 1 when it does not exist)
                await self._run([path, "-v", voice, "-q", "a"], b"")
            except EngineError:
                continue
            usable[lang] = voice
        self.voices = usable
        if not self.voices:
            raise ModelMissing("espeak-ng has none of the configured voices", engine=self.name)
        self.capabilities = TtsCapabilities(languages=frozenset(self.voices), sample_rate=22_050)

    async def _synthesize(self, text: str, language: str) -> SynthesizedSpeech:
        argv = [self.binary, "-v", self.voices[language], "-s", str(self.speed_wpm), "--stdin", "--stdout"]
        wav = await self._run(argv, " ".join(text.split()).encode("utf-8"))
        try:
            samples, rate = parse_wav(wav)
        except ValueError as exc:
            raise EngineError("espeak-ng wrote no usable audio", retryable=False, engine=self.name) from exc
        return SynthesizedSpeech(samples, rate, language, self.name)

    async def _run(self, argv: list[str], data: bytes) -> bytes:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(data), self.timeout_s)
        except TimeoutError as exc:
            raise EngineError("espeak-ng timed out", retryable=True, engine=self.name) from exc
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise EngineError(f"espeak-ng exited with {proc.returncode}", retryable=False, engine=self.name)
        return out
