"""Accuracy of one run: WER/CER of the finals, chrF/BLEU of each translation, and with real
time the word latencies; the offline whole-clip pass the stream is held to."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from parley.interpretation.asr.base import AsrEngine, DecodeMode
from parley.interpretation.audio import load_audio, normalize_peak
from parley.interpretation.benchmark.clips import separator
from parley.interpretation.benchmark.options import FLORES
from parley.interpretation.benchmark.playback import Run
from parley.interpretation.benchmark.timing import LATENCY_KINDS, summarize, translation_timeline, word_timeline
from parley.interpretation.frames import Caption, EngineHealth, join_words
from parley.interpretation.scoring import error_rate, translation_scores


def score_run(run: Run, row: dict[str, Any], targets: Collection[str], realtime: bool) -> dict[str, Any]:
    lang = row["lang"]
    finals = [t for _, t in run.transcripts if t.is_final]
    text = separator(lang).join(join_words(t.words, t.language) for t in finals)
    metric, rate = error_rate(row["transcript"], text, lang)
    result: dict[str, Any] = {
        "text": text, metric: round(rate, 4), "detected_language": sorted({t.language for t in finals}),
        "partials": [{"at": round(at - run.t0, 3), "utterance": t.utterance_id, "stable": t.stable_text,
                      "text": t.text} for at, t in run.transcripts if not t.is_final],
        "finals": [{"at": round(at - run.t0, 3), "utterance": t.utterance_id, "start": round(t.start, 3),
                    "end": round(t.end, 3), "text": t.text,
                    "words": [[w.text, round(w.start, 3), round(w.end, 3)] for w in t.words]}
                   for at, t in run.transcripts if t.is_final],
        "wall_s": round(run.wall_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "stages": run.stages,
    }
    if realtime:
        timeline = word_timeline(run)
        result["words"] = timeline
        result["latency"] = {k: summarize(float(w[k]) for w in timeline) for k in LATENCY_KINDS}
    translations: dict[str, Any] = {}
    for target in sorted(set(targets) - {lang}):
        caps = [e for _, e in run.events if isinstance(e, Caption) and e.role == "translation"
                and e.language == target and e.is_final]
        missing = [e.message for _, e in run.events if isinstance(e, EngineHealth) and e.target_language == target]
        hyp = separator(target).join(c.text for c in caps)
        entry: dict[str, Any] = {"text": hyp, "engine": caps[0].engine if caps else None}
        ref = row.get(f"ref_{FLORES.get(target, '')}")
        if caps and ref:
            entry.update(translation_scores(ref, hyp, target))
        if caps and realtime:
            timeline = translation_timeline(run, target)
            entry["words"] = timeline
            entry["latency"] = {k: summarize(float(w[k]) for w in timeline) for k in LATENCY_KINDS}
        if not caps:
            entry["missing"] = missing[0] if missing else "no translation produced"
        translations[target] = entry
    result["translations"] = translations
    return result


async def offline_pass(asr: AsrEngine, row: dict[str, Any], language: str | None, duration_s: float
                       ) -> dict[str, Any]:
    """The whole clip in one careful pass (each clip of a chain on its own): the accuracy the
    stream is held to."""
    texts, detected, spent = [], "", 0.0
    for path in row.get("paths") or [row["path"]]:
        audio16 = normalize_peak(load_audio(path))
        t0 = time.monotonic()
        hyp = await asr.recognize(audio16, stream_id="offline", language=language, mode=DecodeMode.FINAL)
        spent += time.monotonic() - t0
        texts.append(join_words(hyp.words, hyp.language))
        detected = detected or hyp.language
    text = separator(row["lang"]).join(texts)
    metric, rate = error_rate(row["transcript"], text, row["lang"])
    return {"text": text, metric: round(rate, 4), "seconds": round(spent, 2),
            "rtf": round(spent / duration_s, 3) if duration_s else None, "language": detected}
