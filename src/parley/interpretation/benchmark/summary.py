"""Clips pooled per language and over all: mean error rates, latency percentiles, translation scores."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from parley.interpretation.benchmark.playback import TRAILING_SILENCE_S
from parley.interpretation.benchmark.timing import LATENCY_KINDS, summarize


def metric_of(d: dict[str, Any]) -> tuple[str, float | None]:
    for k in ("wer", "cer"):
        if k in d:
            return k, d[k]
    return "wer", None


def aggregate(results: list[dict[str, Any]], realtime: bool) -> dict[str, Any]:
    """Per language and over all clips: mean error rates; word latencies pooled over every
    word (p50/p90), baseline/stream latency ratios; mean chrF/BLEU per target language."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in results:
        groups[e["lang"]].append(e)
    if len(groups) > 1:
        groups["all"] = list(results)
    summary: dict[str, Any] = {}
    for lang, items in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        s: dict[str, Any] = {"clips": len(items), "audio_s": round(sum(e["duration_s"] for e in items), 1),
                             "loadavg_1m": round(float(np.mean([e["loadavg_1m_before"] for e in items])), 2)}
        for part in ("stream", "baseline", "offline"):
            vals = [(k, v) for e in items if part in e for k, v in [metric_of(e[part])] if v is not None]
            if vals:
                s[f"{part}_{vals[0][0] if lang != 'all' else 'error'}"] = round(float(np.mean([v for _, v in vals])), 4)
        for part in ("stream", "baseline"):
            cpu = [e[part]["cpu_s"] for e in items if "cpu_s" in e.get(part, {})]
            if cpu and realtime:  # cores kept busy while the audio played (1.0 = one whole core)
                s[f"{part}_cpu_cores"] = round(sum(cpu) / sum(e["duration_s"] + TRAILING_SILENCE_S for e in items), 3)
        if realtime:
            for part in ("stream", "baseline"):
                pooled: dict[str, list[float]] = defaultdict(list)
                for e in items:
                    for w in e.get(part, {}).get("words", []):
                        for kind in LATENCY_KINDS:
                            pooled[kind].append(float(w[kind]))
                if pooled:
                    s[f"{part}_latency"] = {kind: summarize(pooled[kind]) for kind in LATENCY_KINDS}
            stream_lat, base_lat = s.get("stream_latency"), s.get("baseline_latency")
            if stream_lat and base_lat:
                s["baseline_over_stream"] = {
                    kind: round(base_lat[kind]["p50"] / stream_lat[kind]["p50"], 2)
                    for kind in LATENCY_KINDS
                    if stream_lat[kind]["p50"] and base_lat[kind]["p50"] is not None}
        tr: dict[str, list[float]] = defaultdict(list)
        missing: dict[str, str] = {}
        for e in items:
            for target, t in e["stream"]["translations"].items():
                if "chrf" in t:
                    tr[f"{e['lang']}->{target} chrf"].append(t["chrf"])
                    tr[f"{e['lang']}->{target} bleu"].append(t["bleu"])
                elif "missing" in t:
                    missing[f"{e['lang']}->{target}"] = t["missing"]
        s["translation"] = {k: round(float(np.mean(v)), 2) for k, v in sorted(tr.items())}
        if realtime:
            s["translation_latency"] = translation_latency(items)
        if missing:
            s["translation_missing"] = dict(sorted(missing.items()))
        summary[lang] = s
    return summary


def translation_latency(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Per pair (source->target): the words of its translated lines pooled, with the same
    words' source caption latencies beside them, the engine that translated, and the pairs
    with no translation at all (``missing``: why)."""
    pooled: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    engines: dict[str, set[str]] = defaultdict(set)
    missing: dict[str, str] = {}
    for e in items:
        source_words = e["stream"].get("words", [])
        for target, t in e["stream"]["translations"].items():
            pair = f"{e['lang']}->{target}"
            if "missing" in t:
                missing.setdefault(pair, t["missing"])
                continue
            if t.get("engine"):
                engines[pair].add(t["engine"])
            for w in t.get("words", []):
                for kind in LATENCY_KINDS:
                    pooled[pair][kind].append(float(w[kind]))
            # the source figures over the same lines: those with a translated final
            translated_ends = {w.get("end") for w in t.get("words", [])}
            for w in source_words:
                if w.get("end") in translated_ends:
                    for kind in LATENCY_KINDS:
                        pooled[pair][f"source_{kind}"].append(float(w[kind]))
    out: dict[str, Any] = {}
    if len(pooled) > 1:  # every translated pair together
        every: dict[str, list[float]] = defaultdict(list)
        for values in pooled.values():
            for kind, v in values.items():
                every[kind].extend(v)
        pooled["all translated"] = every
        engines["all translated"] = {"-"}
    for pair in sorted(set(pooled) | set(missing)):
        if pair in pooled and pooled[pair].get("final"):
            out[pair] = {"engine": ", ".join(sorted(engines[pair])),
                         **{kind: summarize(v) for kind, v in pooled[pair].items()}}
        elif pair in missing:
            out[pair] = {"missing": missing[pair]}
    return out
