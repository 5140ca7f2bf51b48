"""`WhisperEngine`: faster-whisper loaded on the chosen device, partial passes (small beam,
text only, batched across speakers), finals (beam search, fallback ladder, aligned word
times), each bounded by its budget and cleaned of loops and credits; and language detection.
The pieces it uses live beside it (budget, hallucinations, words, models, options)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.asr.base import AsrCapabilities, AsrEngine, DecodeMode, Hypothesis
from parley.interpretation.asr.device import choose_device
from parley.interpretation.asr.whisper.budget import (
    FRAMES_PER_SECOND,
    SAMPLE_RATE,
    WINDOW_FRAMES,
    BudgetedWhisper,
    PassBudget,
    PassOver,
    encoder_frames,
    token_budget,
    transcription_defaults,
)
from parley.interpretation.asr.whisper.hallucinations import dropped_credit, looping, without_loop
from parley.interpretation.asr.whisper.models import find_model
from parley.interpretation.asr.whisper.options import WhisperOptions
from parley.interpretation.asr.whisper.words import Piece, spread, words_from_pieces
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.frames import Samples, Word
from parley.interpretation.scheduler import InferenceScheduler

log = logging.getLogger(__name__)

try:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    WHISPER_LANGUAGES = frozenset(_LANGUAGE_CODES)
except ImportError:  # pragma: no cover - the engine reports ModelMissing at start instead
    WHISPER_LANGUAGES = frozenset({"en", "fr", "es", "ar", "ru", "zh"})


class WhisperEngine(AsrEngine):
    name = "whisper"

    def __init__(self, models_dir: Path, *, scheduler: InferenceScheduler, clock: Clock,
                 options: WhisperOptions | None = None, retry: RetryPolicy | None = None) -> None:
        super().__init__(scheduler=scheduler, clock=clock, retry=retry)
        self.models_dir = models_dir
        self.options = options or WhisperOptions()
        self.capabilities = AsrCapabilities(languages=WHISPER_LANGUAGES, streaming=False, word_timestamps=True,
                                            language_detection=True, batched_partials=True)
        self.model_path: Path | None = None
        self.device = ""  # where the model runs once started: cpu or cuda
        self._model: Any = None
        self._defaults: dict[str, Any] | None = None  # None: only faster-whisper's own transcribe
        self._tokenizers: dict[str, Any] = {}

    async def _start(self) -> None:
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelMissing("faster-whisper is not installed: pip install 'parley[interpretation]'",
                               engine=self.name) from exc
        path = find_model(self.models_dir, self.options.model)
        device, compute_type = choose_device(self.options.device, self.options.compute_type)
        try:
            self._model = WhisperModel(str(path), device=device, compute_type=compute_type,
                                       cpu_threads=self.options.cpu_threads, num_workers=self.scheduler.threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelMissing(f"Whisper model in {path} does not load ({exc.__class__.__name__})",
                               engine=self.name) from exc
        self._model.model = BudgetedWhisper(self._model.model, self.clock)
        self.model_path = path
        self._defaults = transcription_defaults()
        self.device = device
        log.info("whisper model loaded from %s on %s (%s)", path, device, compute_type)

    def _recognize_sync(self, audio: Samples, language: str | None, mode: DecodeMode) -> Hypothesis:
        return self._recognize_hinted(audio, language, mode, "")

    def _recognize_hinted(self, audio: Samples, language: str | None, mode: DecodeMode, hotwords: str) -> Hypothesis:
        """Hotwords (glossary terms) bias finals only: partials stay cheap and unprompted."""
        final = mode is DecodeMode.FINAL
        hints = hotwords if final and hotwords else None
        beam = self.options.final_beam_size if final else self.options.partial_beam_size
        temperatures = list(self.options.final_temperatures) if final else [0.0]
        with self._budget(len(audio) / SAMPLE_RATE) as budget:
            if language is None or self._defaults is None:
                return self._transcribe_whole(audio, language, beam, temperatures, final, hints)
            model = self._model
            tokenizer = self._tokenizer(language)
            features = model.feature_extractor(audio)
            content = features.shape[-1] - 1
            window = encoder_frames(content, self.options.encoder_padding_s, self.options.encoder_min_s)
            words = self._decode(features, content, window, tokenizer, language, beam, temperatures, final, hints)
            if window < WINDOW_FRAMES and looping(words) and not budget.exhausted:
                log.info("whisper pass looped on a %d s window: decoding again over 30 s",
                         window // FRAMES_PER_SECOND)
                again = self._decode(features, content, WINDOW_FRAMES, tokenizer, language, beam, temperatures,
                                     final, hints)
                if not budget.exhausted:  # a retry cut short is worse than the loop, repeats dropped
                    words = again
            if budget.exhausted:
                log.info("whisper pass over %.1f s of audio cut at its budget (%d calls, %d tokens)",
                         len(audio) / SAMPLE_RATE, budget.calls, budget.spent)
        return Hypothesis(tuple(without_loop(words)), language, 1.0)

    def _budget(self, seconds: float) -> Any:
        """The bounds of one pass over ``seconds`` of audio (see the module's docstring)."""
        model = self._model.model
        tokens = int(self.options.pass_token_share * token_budget(seconds))
        rtf = self.options.pass_max_rtf
        limit = None if rtf is None else max(self.options.pass_min_s, rtf * seconds)
        if not isinstance(model, BudgetedWhisper):  # a test double standing in for the model
            return contextlib.nullcontext(PassBudget(tokens, math.inf))
        return model.budget(tokens, limit)

    def _pass_budget(self) -> PassBudget | None:
        model = self._model.model
        return model.current if isinstance(model, BudgetedWhisper) else None

    def _recognize_partials_sync(self, items: list[tuple[Samples, str | None]]) -> list[Hypothesis]:
        """Greedy text-only passes of several streams: each encoded on its own (a batched
        encoder is no faster here) over the longest of their windows (more padding changes
        little; equal lengths let one decoder call serve them all, and the decoder is where
        batching pays)."""
        results: list[Hypothesis | None] = [None] * len(items)
        if self._defaults is None or sum(language is not None for _, language in items) < 2:
            # nothing to decode together: one pass each
            return [self._recognize_hinted(audio, language, DecodeMode.PARTIAL, "") for audio, language in items]
        group: list[tuple[int, Any, int, str]] = []
        for i, (audio, language) in enumerate(items):
            if language is None:
                results[i] = self._recognize_hinted(audio, language, DecodeMode.PARTIAL, "")
                continue
            features = self._model.feature_extractor(audio)
            group.append((i, features, features.shape[-1] - 1, language))
        if group:
            window = max(encoder_frames(c, self.options.encoder_padding_s, self.options.encoder_min_s)
                         for _, _, c, _ in group)
            for (i, features, content, language), words in zip(group, self._decode_partials(group, window),
                                                               strict=True):
                if window < WINDOW_FRAMES and looping(words):
                    with self._budget(content / FRAMES_PER_SECOND) as budget:
                        again = self._decode(features, content, WINDOW_FRAMES, self._tokenizer(language), language,
                                             self.options.partial_beam_size, [0.0], False)
                    if not budget.exhausted:
                        words = again
                results[i] = Hypothesis(tuple(without_loop(words)), language, 1.0)
        return [r if r is not None else Hypothesis((), items[i][1] or "", 0.0) for i, r in enumerate(results)]

    def _decode_partials(self, group: list[tuple[int, Any, int, str]], window: int) -> list[list[Word]]:
        """What `_decode` does for a partial (no timestamps, no fallback, silence and subtitle
        credits dropped), for several buffers in one decoder call."""
        import ctranslate2
        import numpy as np
        from faster_whisper.transcribe import get_suppressed_tokens

        model = self._model
        encoded = [np.asarray(model.encode(self._pad(f[:, : min(c, WINDOW_FRAMES)], window))) for _, f, c, _ in group]
        tokenizers = [self._tokenizer(language) for *_, language in group]
        prompts = [[*t.sot_sequence, t.no_timestamps] for t in tokenizers]
        budgets = [token_budget(c / FRAMES_PER_SECOND) for _, _, c, _ in group]
        assert self._defaults is not None
        out = model.model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(np.concatenate(encoded))), prompts,
            beam_size=self.options.partial_beam_size,
            max_length=max(len(p) + b for p, b in zip(prompts, budgets, strict=True)),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizers[0], list(self._defaults["suppress_tokens"] or [])))
        decoded: list[list[Word]] = []
        for (_, _, content, language), tokenizer, budget, result in zip(group, tokenizers, budgets, out, strict=True):
            tokens = [t for t in result.sequences_ids[0][:budget] if t < tokenizer.eot]
            avg_logprob = result.scores[0] * len(result.sequences_ids[0]) / (len(result.sequences_ids[0]) + 1)
            silence = result.no_speech_prob > 0.6 and avg_logprob < -1.0  # faster-whisper's own rule
            if silence or not tokens or dropped_credit(tokenizer.decode(tokens)):
                decoded.append([])
                continue
            texts, _ = tokenizer.split_to_word_tokens(tokens)
            decoded.append(words_from_pieces(spread(texts, 0.0, content / FRAMES_PER_SECOND), language))
        return decoded

    def _decode(self, features: Any, content: int, window: int, tokenizer: Any, language: str, beam: int,
                temperatures: list[float], final: bool, hotwords: str | None = None) -> list[Word]:
        model = self._model
        encoder_output = model.encode(self._pad(features[:, : min(content, WINDOW_FRAMES)], window))
        options = self._transcription_options(
            tokenizer, beam_size=beam, best_of=beam, temperatures=temperatures, word_timestamps=final,
            without_timestamps=not final, max_new_tokens=token_budget(content / FRAMES_PER_SECOND), hotwords=hotwords)
        # the first window reuses the short encoding; any later one (past 30 s, or after an
        # unfinished segment) is encoded by faster-whisper as usual
        budget = self._pass_budget()
        pieces: list[Piece] = []
        try:
            for segment in model.generate_segments(features, tokenizer, options, False, encoder_output):
                if budget is not None:
                    budget.pending.clear()
                if dropped_credit(segment.text):
                    continue
                if final:
                    pieces.extend(Piece(w.word, float(w.start), float(w.end), float(w.probability))
                                  for w in segment.words or ())
                else:
                    tokens = [t for t in segment.tokens if t < tokenizer.eot]
                    texts, _ = tokenizer.split_to_word_tokens(tokens)
                    pieces.extend(spread(texts, float(segment.start), float(segment.end)))
        except PassOver:
            # the window being decoded when the budget ran out: its best try, spread over the
            # audio not covered yet (no time to align its words)
            best = budget.best_pending() if budget is not None else None
            tokens = [t for t in best.sequences_ids[0] if t < tokenizer.eot] if best is not None else []
            if tokens and not dropped_credit(tokenizer.decode(tokens)):
                texts, _ = tokenizer.split_to_word_tokens(tokens)
                pieces.extend(spread(texts, pieces[-1].end if pieces else 0.0, content / FRAMES_PER_SECOND))
        return words_from_pieces(pieces, language)

    def _transcribe_whole(self, audio: Samples, language: str | None, beam: int, temperatures: list[float],
                          final: bool, hotwords: str | None = None) -> Hypothesis:
        """faster-whisper's own path (30 s window, language detection when not given)."""
        segments, info = self._model.transcribe(
            audio, language=language, beam_size=beam, best_of=beam, temperature=temperatures,
            condition_on_previous_text=False, initial_prompt=None, word_timestamps=True, vad_filter=False,
            max_new_tokens=token_budget(len(audio) / SAMPLE_RATE), hotwords=hotwords,
        )
        lang = language or str(info.language)
        pieces: list[Piece] = []
        with contextlib.suppress(PassOver):  # what was decoded before the budget ran out
            for segment in segments:
                if not dropped_credit(segment.text):
                    pieces.extend(Piece(w.word, float(w.start), float(w.end), float(w.probability))
                                  for w in segment.words or ())
        return Hypothesis(tuple(without_loop(words_from_pieces(pieces, lang))), lang, float(info.language_probability))

    def _tokenizer(self, language: str) -> Any:
        tokenizer = self._tokenizers.get(language)
        if tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe",
                                  language=language)
            self._tokenizers[language] = tokenizer
        return tokenizer

    def _transcription_options(self, tokenizer: Any, **overrides: Any) -> Any:
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        assert self._defaults is not None
        values = {**self._defaults, "condition_on_previous_text": False, "initial_prompt": None, **overrides}
        values["suppress_tokens"] = get_suppressed_tokens(tokenizer, list(values["suppress_tokens"] or []))
        return TranscriptionOptions(**values)

    @staticmethod
    def _pad(features: Any, frames: int) -> Any:
        from faster_whisper.audio import pad_or_trim

        return pad_or_trim(features, frames)

    def _detect_language_sync(self, audio: Samples) -> list[tuple[str, float]]:
        # the full 30 s window: on a couple of seconds of speech a short one guesses worse
        _, _, ranked = self._model.detect_language(audio)
        return [(str(lang), float(p)) for lang, p in ranked]

    async def aclose(self) -> None:
        self._model = None
        await super().aclose()
