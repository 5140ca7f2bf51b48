"""Live interpretation measured on real recordings: accuracy, stability and word latency.

    .venv/bin/python -m bench.interpret ../shared/eval/speech/fleurs/manifest.jsonl --limit 3 --realtime
    .venv/bin/python bench/interpret.py MANIFEST.jsonl [MANIFEST ...] [--langs en,es] [--limit N]
                     [--realtime] [--speakers N] [--no-baseline] [--no-offline] [--detect] [--out FILE]

Each clip of a manifest (the ../shared/eval format: ``audio``, ``lang``, ``transcript``, optional
``ref_<flores code>`` translations) goes through the same pipeline a meeting uses:

* ``--realtime``: encoded to Opus and sent as RTP over loopback UDP at real-time pace to an
  `RtpReceiver` -> jitter buffer -> decoder -> VAD -> streaming Whisper -> translation. Word
  latencies are only meaningful here.
* otherwise: the same Opus/RTP depacketizing path, fed as fast as possible but letting every
  pass finish each second (a machine that keeps up): accuracy without waiting.

For every clip it records partials and finals with times, the detected language, WER (CER for
Chinese, Simplified via OpenCC) against ``transcript``, chrF/BLEU of each final translation
against the ``ref_*`` it has, and per word the latency from its end in the audio to its first
appearance in a partial, to its first *stable* appearance, and to the final. Side by side:
a baseline that re-transcribes the whole growing buffer every second (greedy, local
agreement, no VAD) and an offline whole-clip beam-search pass. Output: a table on stdout and
JSON (default bench/results/interpret.json). ``--limit`` counts clips per language;
``--speakers N`` streams N clips at once through the shared engines (capacity on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parley.clock import Clock, SystemClock
from parley.interpretation.adapters import StreamAdapter, StreamingOptions, common_prefix, normalize_word, tail_after
from parley.interpretation.asr.base import AsrEngine, AsrStream, DecodeMode
from parley.interpretation.audio import OPUS_RATE, OpusEncoder, load_audio, normalize_peak
from parley.interpretation.factory import EngineOptions, build_engines
from parley.interpretation.frames import (
    AudioChunk,
    Caption,
    EngineHealth,
    PipelineEvent,
    Samples,
    SpeechStart,
    Transcript,
    Word,
    join_words,
)
from parley.interpretation.pipeline import Interpreter, InterpreterEngines
from parley.interpretation.rtp import RtpAudioSource, RtpDepacketizer, RtpOpusSender, RtpPacketizer, RtpReceiver
from parley.interpretation.scheduler import InferenceScheduler, Superseded
from parley.interpretation.scoring import error_rate, translation_scores

FLORES = {"en": "eng_Latn", "fr": "fra_Latn", "es": "spa_Latn", "ar": "arb_Arab", "ru": "rus_Cyrl", "zh": "zho_Hans"}
UN = ("en", "fr", "es", "ar", "ru", "zh")
TRAILING_SILENCE_S = 1.0


# --- the baseline: re-transcribe everything every second ---------------------------------------


class GrowingBufferStream(AsrStream):
    """No VAD: every ``interval`` seconds of audio, a greedy pass over all audio so far; words
    two successive passes agree on are committed. At the end one more pass gives the rest."""

    def __init__(self, engine: AsrEngine, *, stream_id: str, clock: Clock, language: str | None,
                 interval: float = 1.0) -> None:
        super().__init__(stream_id=stream_id, sample_rate=16_000, clock=clock)
        self.engine = engine
        self.language = language
        self.interval = interval
        self._parts: list[Samples] = []
        self._total = 0
        self._arrivals: list[tuple[int, float]] = []
        self._committed: list[Word] = []
        self._prev_tail: list[str] | None = None
        self._pass: asyncio.Task[None] | None = None
        self._revision = 0

    async def _run(self) -> None:
        last = 0
        started = False
        while True:
            item = await self._next_input()
            try:
                if item == "end":
                    break
                if isinstance(item, AudioChunk):
                    if not started:
                        started = True
                        self._emit(SpeechStart(self.stream_id, f"{self.stream_id}-1", item.start))
                    self._parts.append(item.samples)
                    self._total += len(item.samples)
                    self._arrivals.append((self._total, item.captured_at))
                    busy = self._pass is not None and not self._pass.done()
                    if not busy and self._total - last >= self.interval * 16_000:
                        last = self._total
                        self._pass = self._tasks.spawn("pass", self._partial(self._audio(), item.captured_at))
            finally:
                self._unprocessed -= 1
        if self._pass is not None:
            with contextlib.suppress(Exception):
                await self._pass
        if self._total:
            hyp = await self.engine.recognize(self._audio(), stream_id=self.stream_id, language=self.language,
                                              mode=DecodeMode.PARTIAL)
            start = tail_after([normalize_word(w.text) for w in self._committed],
                               [normalize_word(w.text) for w in hyp.words])
            if start is None:  # the last pass disagrees with what was committed: continue by time
                cut = self._committed[-1].end - 0.1 if self._committed else 0.0
                start = next((i for i, w in enumerate(hyp.words) if w.start >= cut), len(hyp.words))
            words = tuple(self._committed) + tuple(hyp.words[start:])
            self._emit(self._transcript(words, len(words), True, self._arrivals[-1][1], hyp.language))

    def _audio(self) -> Samples:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)

    async def _partial(self, audio: Samples, arrived: float) -> None:
        try:
            hyp = await self.engine.recognize(audio, stream_id=self.stream_id, language=self.language,
                                              mode=DecodeMode.PARTIAL)
        except Superseded:
            return
        start = tail_after([normalize_word(w.text) for w in self._committed],
                           [normalize_word(w.text) for w in hyp.words])
        if start is None:
            self._prev_tail = None
            return
        tail_words = list(hyp.words[start:])
        tail = [normalize_word(w.text) for w in tail_words]
        if self._prev_tail is not None:
            n = min(common_prefix(self._prev_tail, tail), max(0, len(tail) - 1))
            self._committed.extend(tail_words[:n])
            tail_words, tail = tail_words[n:], tail[n:]
        self._prev_tail = tail
        words = tuple(self._committed) + tuple(tail_words)
        self._emit(self._transcript(words, len(self._committed), False, arrived, hyp.language))

    def _transcript(self, words: tuple[Word, ...], stable: int, final: bool, arrived: float,
                    language: str) -> Transcript:
        self._revision += 1
        return Transcript(stream_id=self.stream_id, utterance_id=f"{self.stream_id}-1", language=language,
                          words=words, is_final=final, stable_count=stable, start=0.0, end=self._total / 16_000,
                          audio_end_at=arrived, emitted_at=self.clock.monotonic(), revision=self._revision)

    async def settle(self) -> None:
        while True:
            await asyncio.sleep(0)
            if self._pass is not None and not self._pass.done():
                await asyncio.wait({self._pass})
                continue
            if self._unprocessed == 0:
                return
            await asyncio.sleep(0.001)


# --- one run of one clip -------------------------------------------------------------------------


@dataclass
class Run:
    transcripts: list[tuple[float, Transcript]] = field(default_factory=list)
    events: list[tuple[float, PipelineEvent]] = field(default_factory=list)
    t0: float = 0.0
    wall_s: float = 0.0
    stages: dict[str, Any] = field(default_factory=dict)


def opus_packets(audio48: Samples, ssrc: int) -> list[Any]:
    enc = OpusEncoder()
    pk = RtpPacketizer(ssrc=ssrc)
    return [pk.packetize(p, 960) for p in enc.encode(audio48) + enc.flush()]


async def run_clip(audio48: Samples, *, engines: InterpreterEngines, clock: Clock, language: str | None,
                   targets: set[str], realtime: bool, baseline: bool, speaker: str) -> Run:
    run = Run()
    asr = engines.asr
    assert asr is not None
    stream: AsrStream
    if baseline:
        stream = GrowingBufferStream(asr, stream_id=speaker, clock=clock, language=language)
    else:
        options = StreamingOptions() if realtime else StreamingOptions(idle_endpoint_s=None)
        stream = StreamAdapter(asr, vad=engines.vad_factory(), stream_id=speaker, clock=clock, language=language,
                               candidates=set(UN) if language is None else None, options=options)
    stream.add_observer(lambda e: run.transcripts.append((clock.monotonic(), e)) if isinstance(e, Transcript) else None)
    interpreter = Interpreter(engines, clock=clock, targets=targets | ({language} if language else set()),
                              on_event=lambda e: run.events.append((clock.monotonic(), e)))
    padded = np.concatenate([audio48, np.zeros(int(TRAILING_SILENCE_S * OPUS_RATE), np.float32)])
    started = time.monotonic()
    if realtime:
        receiver = RtpReceiver(clock=clock)
        host, port = await receiver.start()
        ssrc = 1000
        source = RtpAudioSource(receiver.subscribe(ssrc), clock=clock)
        await interpreter.add_speaker(speaker, language=language, source=source, asr_stream=stream)
        sender = RtpOpusSender(host, port, clock=clock, ssrc=ssrc)
        await sender.start()
        run.t0 = clock.monotonic()
        await sender.send(padded, OPUS_RATE)
        await sender.stop()
        await asyncio.sleep(0.1)  # the last datagrams
        receiver.unsubscribe(ssrc)
        await interpreter.remove_speaker(speaker, drain=True)
        await receiver.stop()
    else:
        pipeline = await interpreter.add_speaker(speaker, language=language, asr_stream=stream)
        depack = RtpDepacketizer()
        run.t0 = clock.monotonic()
        settle = getattr(stream, "settle", None)
        for i, packet in enumerate(opus_packets(padded, 1000)):
            for chunk in depack.push(packet, clock.monotonic()):
                pipeline.push_audio(chunk)
            if settle is not None and i % 50 == 49:
                await settle()
        for chunk in depack.flush(clock.monotonic()):
            pipeline.push_audio(chunk)
        await interpreter.remove_speaker(speaker, drain=True)
    run.stages = interpreter.metrics.snapshot()["stages"]
    await interpreter.stop()
    run.wall_s = time.monotonic() - started
    return run


# --- scoring --------------------------------------------------------------------------------------


def word_latencies(run: Run, language: str) -> dict[str, list[float]]:
    """Per final word: seconds from its end in the audio to first partial / first stable / final."""
    out: dict[str, list[float]] = {"first_partial": [], "first_stable": [], "final": []}
    by_utt: dict[str, list[tuple[float, Transcript]]] = defaultdict(list)
    for at, t in run.transcripts:
        by_utt[t.utterance_id].append((at, t))
    for items in by_utt.values():
        finals = [(at, t) for at, t in items if t.is_final]
        if not finals:
            continue
        final_at, final = finals[-1]
        fwords = [normalize_word(w.text) for w in final.words]
        first_seen: list[float | None] = [None] * len(fwords)
        first_stable: list[float | None] = [None] * len(fwords)
        for at, t in items:
            if t.is_final:
                continue
            for marks, words in ((first_seen, t.words), (first_stable, t.words[: t.stable_count])):
                m = difflib.SequenceMatcher(a=[normalize_word(w.text) for w in words], b=fwords, autojunk=False)
                for block in m.get_matching_blocks():
                    for j in range(block.b, block.b + block.size):
                        if marks[j] is None:
                            marks[j] = at
        for j, w in enumerate(final.words):
            spoken = run.t0 + w.end
            out["final"].append(final_at - spoken)
            out["first_partial"].append((first_seen[j] or final_at) - spoken)
            out["first_stable"].append((first_stable[j] or final_at) - spoken)
    return out


def summarize(values: Iterable[float]) -> dict[str, float | None]:
    v = sorted(values)
    if not v:
        return {"p50": None, "p90": None, "n": 0}
    return {"p50": round(statistics.median(v), 3), "p90": round(v[min(len(v) - 1, int(0.9 * len(v)))], 3),
            "n": len(v)}


def score_run(run: Run, row: dict[str, Any], targets: set[str], realtime: bool) -> dict[str, Any]:
    lang = row["lang"]
    finals = [t for _, t in run.transcripts if t.is_final]
    text = (" " if lang != "zh" else "").join(join_words(t.words, t.language) for t in finals)
    metric, rate = error_rate(row["transcript"], text, lang)
    detected = sorted({t.language for t in finals})
    result: dict[str, Any] = {
        "text": text, metric: round(rate, 4), "detected_language": detected,
        "partials": [{"at": round(at - run.t0, 3), "utterance": t.utterance_id, "stable": t.stable_text,
                      "text": t.text} for at, t in run.transcripts if not t.is_final],
        "finals": [{"at": round(at - run.t0, 3), "utterance": t.utterance_id, "start": round(t.start, 3),
                    "end": round(t.end, 3), "text": t.text,
                    "words": [[w.text, round(w.start, 3), round(w.end, 3)] for w in t.words]}
                   for at, t in run.transcripts if t.is_final],
        "wall_s": round(run.wall_s, 2),
        "stages": run.stages,
    }
    if realtime:
        lat = word_latencies(run, lang)
        result["latency"] = {k: summarize(v) for k, v in lat.items()}
    translations: dict[str, Any] = {}
    for target in sorted(targets - {lang}):
        caps = [e for _, e in run.events if isinstance(e, Caption) and e.role == "translation"
                and e.language == target and e.is_final]
        missing = [e.message for _, e in run.events if isinstance(e, EngineHealth) and e.target_language == target]
        hyp = (" " if target != "zh" else "").join(c.text for c in caps)
        entry: dict[str, Any] = {"text": hyp, "engine": caps[0].engine if caps else None}
        ref = row.get(f"ref_{FLORES.get(target, '')}")
        if caps and ref:
            entry.update(translation_scores(ref, hyp, target))
        if not caps:
            entry["missing"] = missing[0] if missing else "no translation produced"
        translations[target] = entry
    result["translations"] = translations
    return result


# --- main -----------------------------------------------------------------------------------------


def load_rows(manifests: list[Path], langs: set[str] | None, limit: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    per_lang: dict[str, int] = defaultdict(int)
    for manifest in manifests:
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if langs and row["lang"] not in langs:
                continue
            if limit is not None and per_lang[row["lang"]] >= limit:
                continue
            per_lang[row["lang"]] += 1
            row["path"] = str(manifest.parent / row["audio"])
            rows.append(row)
    return rows


def fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}%" if pct else f"{x:.2f}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    clock = SystemClock()
    manifests = [Path(m) for m in args.manifests]
    for m in manifests:
        if not m.exists():
            sys.exit(f"manifest not found: {m} (is ../shared/eval present?)")
    rows = load_rows(manifests, set(args.langs.split(",")) if args.langs else None, args.limit)
    targets = set(args.targets.split(","))
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    engines = await build_engines(EngineOptions(models_dir=Path(args.models_dir), asr_threads=args.threads,
                                                speech=False), clock=clock, scheduler=scheduler)
    if engines.asr is None:
        sys.exit("no speech recognition: " + "; ".join(h.message for h in engines.health if h.stage == "asr"))
    load_start = os.getloadavg()
    results = []
    for g in range(0, len(rows), args.speakers):
        group = list(enumerate(rows))[g:g + args.speakers]
        prepared = []
        for n, row in group:
            audio = normalize_peak(load_audio(row["path"], OPUS_RATE))  # FLEURS loudness varies: what AGC would do
            entry: dict[str, Any] = {"audio": row["audio"], "lang": row["lang"],
                                     "duration_s": round(len(audio) / OPUS_RATE, 2),
                                     "concurrent_speakers": len(group),
                                     "loadavg_1m_before": round(os.getloadavg()[0], 2)}
            prepared.append((n, row, audio, None if args.detect else row["lang"], entry))
        # the speakers of a group talk at the same time, sharing the engines and the CPU
        runs = await asyncio.gather(*(run_clip(audio, engines=engines, clock=clock, language=language,
                                               targets=targets, realtime=args.realtime, baseline=False,
                                               speaker=f"clip{n}")
                                      for n, _, audio, language, _ in prepared))
        for (n, row, audio, language, entry), run in zip(prepared, runs, strict=True):
            entry["stream"] = score_run(run, row, targets, args.realtime)
            if args.baseline:
                run = await run_clip(audio, engines=engines, clock=clock, language=language, targets=set(),
                                     realtime=args.realtime, baseline=True, speaker=f"base{n}")
                entry["baseline"] = score_run(run, row, set(), args.realtime)
            if args.offline:
                audio16 = normalize_peak(load_audio(row["path"]))
                t0 = time.monotonic()
                hyp = await engines.asr.recognize(audio16, stream_id="offline", language=language,
                                                  mode=DecodeMode.FINAL)
                spent = time.monotonic() - t0
                text = join_words(hyp.words, hyp.language)
                metric, rate = error_rate(row["transcript"], text, row["lang"])
                entry["offline"] = {"text": text, metric: round(rate, 4), "seconds": round(spent, 2),
                                    "rtf": round(spent / entry["duration_s"], 3), "language": hyp.language}
            entry["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
            results.append(entry)
            print_row(entry, args.realtime, header=(n == 0))
    load_end = os.getloadavg()
    scheduler_metrics = scheduler.metrics.snapshot()
    summary = aggregate(results, args.realtime)
    print_summary(summary, targets)
    await engines.translator.aclose()
    await engines.asr.aclose()
    await scheduler.stop()
    return {
        "config": {"manifests": args.manifests, "realtime": args.realtime, "limit_per_language": args.limit,
                   "targets": sorted(targets), "detect_language": args.detect, "asr_threads": args.threads,
                   "concurrent_speakers": args.speakers,
                   "whisper_model": str(getattr(engines.asr, "model_path", "")),
                   "translation_engines": [e.name for e in engines.translator.engines]},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "loadavg_start": load_start,
                    "loadavg_end": load_end, "note": "2 CPU cores shared with other work: numbers are noisy"},
        "health": [h.to_dict() for h in engines.health],
        "scheduler": scheduler_metrics,
        "clips": results,
        "summary": summary,
    }


def metric_of(d: dict[str, Any]) -> tuple[str, float | None]:
    for k in ("wer", "cer"):
        if k in d:
            return k, d[k]
    return "wer", None


def print_row(e: dict[str, Any], realtime: bool, header: bool) -> None:
    if header:
        cols = f"{'clip':<22}{'lang':>5}{'dur':>6}{'load':>6}{'err':>8}{'base':>8}{'offl':>8}"
        if realtime:
            cols += f"{'stab50':>8}{'stab90':>8}{'fin50':>8}{'b.stab50':>9}"
        print(cols)
    _, s = metric_of(e["stream"])
    _, b = metric_of(e.get("baseline", {}))
    _, o = metric_of(e.get("offline", {}))
    line = (f"{e['audio'][:21]:<22}{e['lang']:>5}{e['duration_s']:>6.1f}{e['loadavg_1m_before']:>6.1f}"
            f"{fmt(s, True):>8}{fmt(b, True):>8}{fmt(o, True):>8}")
    if realtime:
        lat = e["stream"].get("latency", {})
        blat = e.get("baseline", {}).get("latency", {})
        line += (f"{fmt(lat.get('first_stable', {}).get('p50')):>8}{fmt(lat.get('first_stable', {}).get('p90')):>8}"
                 f"{fmt(lat.get('final', {}).get('p50')):>8}{fmt(blat.get('first_stable', {}).get('p50')):>9}")
    print(line, flush=True)


def aggregate(results: list[dict[str, Any]], realtime: bool) -> dict[str, Any]:
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in results:
        by_lang[e["lang"]].append(e)
    summary: dict[str, Any] = {}
    for lang, items in sorted(by_lang.items()):
        s: dict[str, Any] = {"clips": len(items)}
        for part in ("stream", "baseline", "offline"):
            vals = [v for e in items if part in e and (v := metric_of(e[part])[1]) is not None]
            if vals:
                s[f"{part}_{metric_of(items[0][part])[0]}_mean"] = round(float(np.mean(vals)), 4)
        if realtime:
            for part in ("stream", "baseline"):
                lat: dict[str, list[float]] = defaultdict(list)
                for e in items:
                    for k, v in e.get(part, {}).get("latency", {}).items():
                        if v.get("p50") is not None:
                            lat[k].append(v["p50"])
                s[f"{part}_latency_p50_mean"] = {k: round(float(np.mean(v)), 3) for k, v in lat.items()}
        tr: dict[str, list[float]] = defaultdict(list)
        for e in items:
            for target, t in e["stream"]["translations"].items():
                if "chrf" in t:
                    tr[f"{target}_chrf"].append(t["chrf"])
                    tr[f"{target}_bleu"].append(t["bleu"])
                elif "missing" in t:
                    tr.setdefault(f"{target}_missing", [])
        s["translation_mean"] = {k: (round(float(np.mean(v)), 2) if v else "missing") for k, v in tr.items()}
        summary[lang] = s
    return summary


def print_summary(summary: dict[str, Any], targets: set[str]) -> None:
    print("\nper language (means over clips):")
    for lang, s in summary.items():
        errs = {k: v for k, v in s.items() if k.endswith("_mean") and isinstance(v, float)}
        print(f"  {lang}: clips={s['clips']} " + " ".join(f"{k}={100 * v:.1f}%" for k, v in errs.items()))
        for part in ("stream", "baseline"):
            if f"{part}_latency_p50_mean" in s:
                print(f"      {part} word latency p50 (s): {s[f'{part}_latency_p50_mean']}")
        if s.get("translation_mean"):
            print(f"      translation: {s['translation_mean']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifests", nargs="+")
    p.add_argument("--realtime", action="store_true", help="send RTP over loopback at real-time pace")
    p.add_argument("--limit", type=int, default=None, help="clips per language")
    p.add_argument("--langs", default="", help="comma-separated languages to keep")
    p.add_argument("--targets", default=",".join(UN), help="listener languages to translate into")
    p.add_argument("--detect", action="store_true", help="do not tell the pipeline the speaker's language")
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument("--no-offline", dest="offline", action="store_false")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for Whisper")
    p.add_argument("--speakers", type=int, default=1, help="clips streamed at the same time (capacity)")
    p.add_argument("--models-dir", default=os.environ.get("PARLEY_MODELS_DIR", "data/models"))
    p.add_argument("--out", default="bench/results/interpret.json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = asyncio.run(main_async(args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
