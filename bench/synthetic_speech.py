"""A speech manifest synthesized from FLORES sentences, for languages ../shared/eval has no
recordings of (Arabic): Parley's own voices (espeak-ng, festival for Russian) read them.

    .venv/bin/python bench/synthetic_speech.py --lang ar --count 5 --out bench/results/synthetic-ar
    .venv/bin/parley bench interpret bench/results/synthetic-ar/manifest.jsonl --realtime --no-baseline

Synthetic speech is not speech people make: recognition numbers on it say whether the
pipeline runs for the language and how Whisper copes with a robot voice, never how it does
on a real speaker. Every row says ``"synthetic": true``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from parley.clock import SystemClock
from parley.interpretation.audio import write_wav
from parley.interpretation.benchmark import FLORES as UN_FLORES
from parley.interpretation.frames import SynthesizedSpeech
from parley.interpretation.tts.base import Voices
from parley.interpretation.tts.espeak import EspeakEngine
from parley.interpretation.tts.festival import FestivalEngine

FLORES = {**UN_FLORES, "de": "deu_Latn", "pt": "por_Latn"}  # the languages ../shared/eval has FLORES text for
DEFAULT_FLORES = Path(__file__).resolve().parents[2] / "shared" / "eval" / "mt" / "flores200_devtest"


def load(lang: str, flores: Path, first: int, count: int) -> tuple[list[str], dict[str, list[str]]]:
    """The sentences to read and, per FLORES code, their translations (the ``ref_*`` fields)."""
    lines = (flores / f"{FLORES[lang]}.devtest").read_text(encoding="utf-8").splitlines()
    refs = {code: (flores / f"{code}.devtest").read_text(encoding="utf-8").splitlines()
            for code in FLORES.values() if code != FLORES[lang] and (flores / f"{code}.devtest").is_file()}
    return lines[first:first + count], {code: text[first:first + count] for code, text in refs.items()}


async def synthesize(texts: list[str], lang: str) -> list[SynthesizedSpeech]:
    voices = Voices([FestivalEngine(clock=SystemClock()), EspeakEngine(clock=SystemClock())])
    await voices.start()
    try:
        if voices.engine_for(lang) is None:
            raise RuntimeError(f"no voice speaks {lang!r} here: {voices.unavailable}")
        return [await voices.synthesize(text, lang) for text in texts]
    finally:
        await voices.aclose()


def write(out: Path, lang: str, first: int, texts: list[str], refs: dict[str, list[str]],
          speeches: list[SynthesizedSpeech]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for i, (text, speech) in enumerate(zip(texts, speeches, strict=True)):
            name = f"synthetic-{lang}-{first + i:04d}.wav"
            (out / name).write_bytes(write_wav(speech.samples, speech.sample_rate))
            row = {"audio": name, "lang": lang, "duration_s": round(speech.duration, 2), "transcript": text,
                   "synthetic": True, "voice": speech.engine, "flores200_devtest_line": first + i,
                   **{f"ref_{code}": lines[i] for code, lines in refs.items()}}
            manifest.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"{name}: {speech.duration:.1f} s ({speech.engine})")
    print(f"wrote {out / 'manifest.jsonl'} ({len(texts)} clips)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lang", required=True, choices=sorted(FLORES))
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--first", type=int, default=0, help="first FLORES devtest line")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--flores", type=Path, default=DEFAULT_FLORES)
    args = p.parse_args()
    if not (args.flores / f"{FLORES[args.lang]}.devtest").is_file():
        print(f"error: no FLORES devtest for {args.lang} in {args.flores} (is ../shared/eval present?)",
              file=sys.stderr)
        return 2
    texts, refs = load(args.lang, args.flores, args.first, args.count)
    try:
        speeches = asyncio.run(synthesize(texts, args.lang))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(args.out, args.lang, args.first, texts, refs, speeches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
