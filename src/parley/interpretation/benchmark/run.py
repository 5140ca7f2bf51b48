"""The whole benchmark: every clip (speakers at once, policies in turn), scored, then summarised."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
from collections.abc import Callable
from typing import Any

from parley.clock import Clock, SystemClock
from parley.interpretation.audio import OPUS_RATE
from parley.interpretation.benchmark.clips import chain_rows, load_rows, row_audio
from parley.interpretation.benchmark.options import BenchOptions
from parley.interpretation.benchmark.playback import Run, run_clip
from parley.interpretation.benchmark.scores import offline_pass, score_run
from parley.interpretation.benchmark.summary import aggregate
from parley.interpretation.benchmark.timing import latency_over_time
from parley.interpretation.pipeline import InterpreterEngines
from parley.interpretation.scheduler import InferenceScheduler


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


async def run_benchmark(options: BenchOptions, *, engines: InterpreterEngines | None = None,
                        clock: Clock | None = None, scheduler: InferenceScheduler | None = None,
                        progress: Callable[[dict[str, Any], bool], None] | None = None) -> dict[str, Any]:
    """Run every clip; returns the JSON report. Builds the default engines unless given."""
    clock = clock or SystemClock()
    rows = chain_rows(load_rows(options.manifests, options.languages, options.limit), options.chain)
    own_scheduler = scheduler is None
    if scheduler is None:
        scheduler = InferenceScheduler(clock=clock, workers=options.workers)
        await scheduler.start()
    if engines is None:
        from parley.interpretation.factory import EngineOptions, build_engines

        engines = await build_engines(EngineOptions(models_dir=options.models_dir, asr_threads=options.threads,
                                                    whisper=options.whisper, speech=False),
                                      clock=clock, scheduler=scheduler)
    asr = engines.asr
    if asr is None:
        raise RuntimeError("no speech recognition: " + "; ".join(h.message for h in engines.health
                                                                   if h.stage == "asr"))
    load_start = os.getloadavg()
    results: list[dict[str, Any]] = []
    try:
        for g in range(0, len(rows), options.speakers):
            group = list(enumerate(rows))[g:g + options.speakers]
            prepared = []
            for n, row in group:
                audio = row_audio(row)
                entry: dict[str, Any] = {"audio": row["audio"], "lang": row["lang"],
                                         "duration_s": round(len(audio) / OPUS_RATE, 2),
                                         "concurrent_speakers": len(group), "loadavg_1m_before": loadavg()}
                prepared.append((n, row, audio, None if options.detect else row["lang"], entry))
            # the speakers of a group talk at the same time, sharing the engines and the CPU; each
            # policy in turn, starting with a different one from group to group
            policies = (options.streaming, *options.compare)
            by_policy: dict[int, list[Run]] = {}
            for k in range(len(policies)):
                p = (k + g // options.speakers) % len(policies)
                by_policy[p] = list(await asyncio.gather(*(
                    run_clip(audio, engines=engines, clock=clock, language=language, targets=options.targets,
                             realtime=options.realtime, speaker=f"clip{n}-{p}", streaming=policies[p])
                    for n, _, audio, language, _ in prepared)))
            for i, (n, row, audio, language, entry) in enumerate(prepared):
                entry["stream"] = score_run(by_policy[0][i], row, options.targets, options.realtime)
                if options.compare:
                    entry["compare"] = [score_run(by_policy[p][i], row, options.targets, options.realtime)
                                        for p in range(1, len(policies))]
                if options.baseline:
                    base = await run_clip(audio, engines=engines, clock=clock, language=language, targets=(),
                                          realtime=options.realtime, speaker=f"base{n}",
                                          baseline_interval_s=options.baseline_interval_s)
                    entry["baseline"] = score_run(base, row, (), options.realtime)
                if options.offline:
                    entry["offline"] = await offline_pass(asr, row, language, entry["duration_s"])
                entry["loadavg_1m_after"] = loadavg()
                results.append(entry)
                if progress is not None:
                    progress(entry, len(results) == 1)
    finally:
        if own_scheduler:
            await engines.translator.aclose()
            await asr.aclose()
            await scheduler.stop()
    return {
        "config": {"manifests": [str(m) for m in options.manifests], "realtime": options.realtime,
                   "limit_per_language": options.limit, "targets": sorted(options.targets),
                   "detect_language": options.detect, "asr_threads": options.threads,
                   "inference_workers": scheduler.workers,
                   "concurrent_speakers": options.speakers, "chain": options.chain,
                   "streaming": _plain(options.streaming),
                   "whisper": _plain(options.whisper), "baseline_interval_s": options.baseline_interval_s,
                   "whisper_model": str(getattr(asr, "model_path", "")),
                   "translation_engines": [e.name for e in engines.translator.engines]},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_start": load_start,
                    "loadavg_end": os.getloadavg(), "note": "CPU cores shared with other work: numbers are noisy"},
        "health": [h.to_dict() for h in engines.health],
        "scheduler": scheduler.metrics.snapshot(),
        "clips": results,
        "summary": aggregate(results, options.realtime),
        **({"compare": [{"streaming": _plain(policy),
                         "summary": aggregate([{**e, "stream": e["compare"][k]} for e in results], options.realtime)}
                        for k, policy in enumerate(options.compare)]}
           if options.compare else {}),
        **({"latency_over_time": latency_over_time(results)} if options.realtime else {}),
    }


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj
