"""Scoring recognition and translation against references (benchmarks and slow tests).

WER on words after case and punctuation folding; CER (on characters, spaces removed) for
languages written without spaces, after converting Chinese to Simplified with OpenCC when it
is installed (Whisper often writes Traditional characters for Mandarin). Arabic is compared
without its optional vowel marks and tatweel (references write some, Whisper seldom does).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from typing import Any

from parley.interpretation.frames import UNSPACED_LANGUAGES

_ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0653), 0x0670, 0x0640])


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC_MARKS)
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)
    return " ".join(text.split())


@functools.lru_cache(maxsize=1)
def _opencc() -> str | None:
    return shutil.which("opencc")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese through the opencc CLI; unchanged if it is absent."""
    tool = _opencc()
    if tool is None or not text:
        return text
    done = subprocess.run([tool, "-c", "t2s"], input=text.encode(), capture_output=True, timeout=30, check=False)
    return done.stdout.decode().strip() if done.returncode == 0 else text


def error_rate(reference: str, hypothesis: str, language: str) -> tuple[str, float]:
    """("cer" | "wer", rate) for the language; 1.0 when the hypothesis is empty."""
    import jiwer

    unspaced = language in UNSPACED_LANGUAGES
    if language == "zh":
        reference, hypothesis = to_simplified(reference), to_simplified(hypothesis)
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if unspaced:
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
        if not ref:
            return "cer", 0.0 if not hyp else 1.0
        return "cer", float(jiwer.cer(ref, hyp)) if hyp else 1.0
    if not ref:
        return "wer", 0.0 if not hyp else 1.0
    return "wer", float(jiwer.wer(ref, hyp)) if hyp else 1.0


def translation_scores(reference: str, hypothesis: str, language: str) -> dict[str, Any]:
    """chrF and BLEU (sacrebleu; BLEU with the zh tokenizer for Chinese)."""
    import sacrebleu

    tokenize = "zh" if language == "zh" else "13a"
    chrf = sacrebleu.sentence_chrf(hypothesis, [reference]).score
    bleu = sacrebleu.sentence_bleu(hypothesis, [reference], tokenize=tokenize).score
    return {"chrf": round(float(chrf), 2), "bleu": round(float(bleu), 2)}
