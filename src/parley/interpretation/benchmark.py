"""Live interpretation measured on real recordings: accuracy, stability and word latency.

`parley bench interpret MANIFEST.jsonl [--realtime]` (src/parley/cli/bench.py) and
bench/interpret.py run this. Each clip of a manifest (the ../shared/eval format: ``audio``,
``lang``, ``transcript``, optional ``ref_<flores code>`` translations) goes through the
pipeline a meeting uses:

* realtime: encoded to Opus and sent as RTP over loopback UDP at real-time pace to an
  `RtpReceiver` -> jitter buffer -> decoder -> VAD -> streaming Whisper -> translation. Word
  latencies are only meaningful here.
* otherwise: the same Opus/RTP depacketizing path, fed as fast as possible but letting every
  pass finish each second (a machine that keeps up): accuracy without waiting.

Per clip: partials and finals with times, the detected language, WER (CER for Chinese, in
Simplified characters) against ``transcript``, chrF/BLEU of each final translation against the
``ref_*`` it has, and per word the latency from its end in the audio to its first appearance
in a partial caption (stable or not), to its first *stable* appearance, and to the final.
Side by side: the simplest baseline (no VAD; re-transcribe the whole growing buffer every
second, commit what two passes agree on) and an offline whole-clip beam-search pass; the
summary table gives the baseline/stream latency ratio. Load averages are recorded with every
clip: on a shared machine they say how much to trust a number.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import difflib
import json
import os
import platform
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parley.clock import Clock, SystemClock
from parley.interpretation.adapters import StreamAdapter, StreamingOptions, common_prefix, normalize_word, tail_after
from parley.interpretation.asr.base import AsrEngine, AsrStream, DecodeMode
from parley.interpretation.asr.whisper import WhisperOptions
from parley.interpretation.audio import OPUS_RATE, OpusEncoder, load_audio, normalize_peak
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
from parley.interpretation.rtp import (
    RtpAudioSource,
    RtpDepacketizer,
    RtpOpusSender,
    RtpPacket,
    RtpPacketizer,
    RtpReceiver,
)
from parley.interpretation.scheduler import InferenceScheduler, Superseded
from parley.interpretation.scoring import error_rate, translation_scores

FLORES = {"en": "eng_Latn", "fr": "fra_Latn", "es": "spa_Latn", "ar": "arb_Arab", "ru": "rus_Cyrl", "zh": "zho_Hans"}
REF_LANGUAGE = {f"ref_{code}": lang for lang, code in FLORES.items()}
UN = ("en", "fr", "es", "ar", "ru", "zh")
TRAILING_SILENCE_S = 1.0
LATENCY_KINDS = ("first_partial", "first_stable", "final")


@dataclass(frozen=True)
class BenchOptions:
    manifests: tuple[Path, ...]
    models_dir: Path = Path("data/models")
    realtime: bool = False
    limit: int | None = None  # clips per language
    languages: frozenset[str] = frozenset()  # empty: all
    targets: frozenset[str] = frozenset(UN)
    detect: bool = False  # do not tell the pipeline the speaker's language
    baseline: bool = True
    offline: bool = True
    threads: int = 1  # CPU threads per Whisper call
    workers: int = 2  # inference threads of the shared scheduler (Whisper calls at a time)
    speakers: int = 1  # clips streamed at the same time (capacity)
    chain: int = 1  # clips of a language one speaker says in a row, as one stream (sustained load)
    baseline_interval_s: float = 1.0
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    whisper: WhisperOptions = field(default_factory=WhisperOptions)
    # other streaming policies run on every clip beside the first (before/after in one run, on
    # the same clips and the same load; the order rotates from clip to clip): their scores go
    # under "compare", one per policy
    compare: tuple[StreamingOptions, ...] = ()


# --- the baseline: re-transcribe everything every second ---------------------------------------


class GrowingBufferStream(AsrStream):
    """No VAD: every ``interval`` seconds of audio, a greedy pass over all audio so far; words
    two successive passes agree on are committed. At the end one more pass gives the rest."""

    def __init__(self, engine: AsrEngine, *, stream_id: str, clock: Clock, language: str | None,
                 interval: float = 1.0) -> None:
        super().__init__(stream_id=stream_id, sample_rate=engine.capabilities.sample_rate, clock=clock)
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
                    if not busy and self._total - last >= self.interval * self.sample_rate:
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
                          words=words, is_final=final, stable_count=stable, start=0.0,
                          end=self._total / self.sample_rate, audio_end_at=arrived,
                          emitted_at=self.clock.monotonic(), revision=self._revision)

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
    cpu_s: float = 0.0  # this process's CPU time during the run (all its threads)
    stages: dict[str, Any] = field(default_factory=dict)


def opus_packets(audio48: Samples, ssrc: int) -> list[RtpPacket]:
    enc = OpusEncoder()
    pk = RtpPacketizer(ssrc=ssrc)
    return [pk.packetize(p, 960) for p in enc.encode(audio48) + enc.flush()]


async def run_clip(audio48: Samples, *, engines: InterpreterEngines, clock: Clock, language: str | None,
                   targets: Collection[str], realtime: bool, speaker: str,
                   streaming: StreamingOptions | None = None, baseline_interval_s: float | None = None) -> Run:
    """Stream one clip (48 kHz mono) through a meeting's `Interpreter`; with
    ``baseline_interval_s`` the recogniser is the growing-buffer baseline instead."""
    run = Run()
    asr = engines.asr
    if asr is None:
        raise RuntimeError("no speech recognition engine")
    stream: AsrStream
    if baseline_interval_s is not None:
        stream = GrowingBufferStream(asr, stream_id=speaker, clock=clock, language=language,
                                     interval=baseline_interval_s)
    else:
        options = streaming or StreamingOptions()
        if not realtime:  # audio comes in bursts: never end an utterance by the wall clock
            options = dataclasses.replace(options, idle_endpoint_s=None)
        stream = StreamAdapter(asr, vad=engines.vad_factory(), stream_id=speaker, clock=clock, language=language,
                               candidates=set(UN) if language is None else None, options=options)

    def observe(event: object) -> None:
        if isinstance(event, Transcript):
            run.transcripts.append((clock.monotonic(), event))

    stream.add_observer(observe)
    interpreter = Interpreter(engines, clock=clock, targets=set(targets) | ({language} if language else set()),
                              on_event=lambda e: run.events.append((clock.monotonic(), e)))
    padded = np.concatenate([audio48, np.zeros(int(TRAILING_SILENCE_S * OPUS_RATE), np.float32)])
    started, cpu_started = time.monotonic(), time.process_time()
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
        settle: Callable[[], Any] | None = getattr(stream, "settle", None)
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
    run.cpu_s = time.process_time() - cpu_started
    return run


# --- scoring --------------------------------------------------------------------------------------


def word_timeline(run: Run) -> list[dict[str, Any]]:
    """Each final word with the seconds from its end in the audio to its first appearance in a
    partial caption (any, then stable) and to its final caption. A word that no partial showed
    first appears with the final, so its partial latencies are the final's. A word first shown
    on an earlier line (a clause final ended that line before it, and it moved on to the next)
    counts from there: the partials of other lines are searched for the words in this line's
    time span."""
    out: list[dict[str, Any]] = []
    for final_at, final, partials in _lines(run):
        fwords = [normalize_word(w.text) for w in final.words]
        first_seen: list[float | None] = [None] * len(fwords)
        first_stable: list[float | None] = [None] * len(fwords)
        for at, shown, stable in partials:
            for marks, words in ((first_seen, shown), (first_stable, stable)):
                for j in _matched(words, fwords):
                    if marks[j] is None:
                        marks[j] = at
        for j, w in enumerate(final.words):
            spoken = run.t0 + w.end
            out.append({"word": w.text, "end": round(w.end, 3),
                        "first_partial": round((first_seen[j] or final_at) - spoken, 3),
                        "first_stable": round((first_stable[j] or final_at) - spoken, 3),
                        "final": round(final_at - spoken, 3)})
    return out


def _within(words: Iterable[Word], start: float, end: float) -> tuple[Word, ...]:
    return tuple(w for w in words if start <= (w.start + w.end) / 2 < end)


def _lines(run: Run) -> list[tuple[float, Transcript, list[tuple[float, tuple[Word, ...], tuple[Word, ...]]]]]:
    """Each final line with the partials shown before it that may hold its words: (time, words
    shown, stable words), from its own partials and from other lines' in its time span."""
    finals: dict[str, tuple[float, Transcript]] = {}
    for at, t in run.transcripts:
        if t.is_final:
            finals[t.utterance_id] = (at, t)
    out = []
    for utterance_id, (final_at, final) in finals.items():
        partials = []
        for at, t in run.transcripts:
            if t.is_final or at > final_at:
                continue
            if t.utterance_id == utterance_id:
                partials.append((at, t.words, t.words[: t.stable_count]))
            elif t.start < final.end and t.end > final.start:
                partials.append((at, _within(t.words, final.start, final.end),
                                 _within(t.words[: t.stable_count], final.start, final.end)))
        out.append((final_at, final, partials))
    return out


def _matched(words: Iterable[Word], fwords: list[str]) -> Iterable[int]:
    """Indices in ``fwords`` (normalised final words) that ``words`` shows, in order."""
    m = difflib.SequenceMatcher(a=[normalize_word(w.text) for w in words], b=fwords, autojunk=False)
    for block in m.get_matching_blocks():
        yield from range(block.b, block.b + block.size)


def translation_timeline(run: Run, target: str) -> list[dict[str, Any]]:
    """Each final source word with the seconds from its end in the audio to the first caption in
    ``target`` that translates it (a translated partial whose source showed the word), the first
    whose source showed it stable, and the final translation of its line.

    A translated caption is tied to the source it translates by line and audio end (the
    pipeline gives a translation its source's times); as in `word_timeline`, a translated
    partial of an earlier line counts for the words of this line's time span it covered. The
    pipeline translates only the stable words of a partial, so today "first" and "stable"
    coincide. Lines without a translated final count nowhere (the pair is missing)."""
    sources: dict[tuple[str, float], Transcript] = {}
    for _, t in run.transcripts:
        if not t.is_final:
            sources.setdefault((t.utterance_id, round(t.end, 4)), t)
    captions = [(at, e) for at, e in run.events
                if isinstance(e, Caption) and e.role == "translation" and e.language == target]
    out: list[dict[str, Any]] = []
    for _, final, _ in _lines(run):
        closing = [at for at, c in captions if c.utterance_id == final.utterance_id and c.is_final and c.text]
        if not closing or not final.words:
            continue
        final_at = closing[-1]
        fwords = [normalize_word(w.text) for w in final.words]
        first: list[float | None] = [None] * len(fwords)
        stable: list[float | None] = [None] * len(fwords)
        for at, c in captions:
            if at > final_at or not c.text:
                continue
            if c.utterance_id == final.utterance_id and c.is_final:
                shown: tuple[Word, ...] = final.words
                steady = final.words
            elif c.is_final:
                continue
            else:
                source = sources.get((c.utterance_id, round(c.end, 4)))
                if source is None:
                    continue
                shown, steady = source.words[: source.stable_count], source.words[: source.stable_count]
                if c.utterance_id != final.utterance_id:
                    shown, steady = _within(shown, final.start, final.end), _within(steady, final.start, final.end)
            for marks, words in ((first, shown), (stable, steady)):
                for j in _matched(words, fwords):
                    if marks[j] is None:
                        marks[j] = at
        for j, w in enumerate(final.words):
            spoken = run.t0 + w.end
            out.append({"word": w.text, "end": round(w.end, 3),
                        "first_partial": round((first[j] or final_at) - spoken, 3),
                        "first_stable": round((stable[j] or final_at) - spoken, 3),
                        "final": round(final_at - spoken, 3)})
    return out


def word_latencies(run: Run) -> dict[str, list[float]]:
    """Per kind (first_partial, first_stable, final): every final word's latency in seconds."""
    timeline = word_timeline(run)
    return {kind: [float(w[kind]) for w in timeline] for kind in LATENCY_KINDS}


def percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    v = list(values)
    if not v:
        return {"p50": None, "p90": None, "n": 0}
    return {"p50": round(statistics.median(v), 3), "p90": round(percentile(v, 0.9), 3), "n": len(v)}


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


# --- the run ---------------------------------------------------------------------------------------


def separator(language: str) -> str:
    """What joins pieces of text in ``language`` (Chinese is written without spaces)."""
    return "" if language == "zh" else " "


def load_rows(manifests: Iterable[Path], languages: Collection[str] = (), limit: int | None = None
              ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    per_lang: dict[str, int] = defaultdict(int)
    for manifest in manifests:
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            if languages and row["lang"] not in languages:
                continue
            if limit is not None and per_lang[row["lang"]] >= limit:
                continue
            per_lang[row["lang"]] += 1
            row["path"] = str(manifest.parent / row["audio"])
            rows.append(row)
    return rows


CHAIN_GAP_S = 1.0  # silence between the chained clips of one speaker


def chain_rows(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Rows of the same language joined ``n`` at a time into one speaker's long turn: the audio
    one after the other (`CHAIN_GAP_S` apart), transcripts and references joined."""
    if n <= 1:
        return rows
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_lang[row["lang"]].append(row)
    chained: list[dict[str, Any]] = []
    for lang, items in by_lang.items():
        for i in range(0, len(items), n):
            part = items[i:i + n]
            row = {"audio": "+".join(r["audio"] for r in part), "lang": lang, "paths": [r["path"] for r in part],
                   "transcript": separator(lang).join(r["transcript"] for r in part)}
            for key in {k for r in part for k in r if k.startswith("ref_")}:
                if all(key in r for r in part):
                    row[key] = separator(REF_LANGUAGE.get(key, "")).join(r[key] for r in part)
            chained.append(row)
    return chained


def row_audio(row: dict[str, Any]) -> Samples:
    """A row's audio at the Opus rate, each clip peak-normalised (FLEURS loudness varies: as AGC would)."""
    first, *rest = [normalize_peak(load_audio(path, OPUS_RATE)) for path in row.get("paths") or [row["path"]]]
    gap = np.zeros(int(CHAIN_GAP_S * OPUS_RATE), np.float32)
    return np.concatenate([first, *(part for clip in rest for part in (gap, clip))])


def latency_over_time(results: list[dict[str, Any]], window_s: float = 20.0) -> list[dict[str, Any]]:
    """First-caption latency of the words spoken in each ``window_s`` of the streams (pooled
    over clips): whether latency grows while people keep talking."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for e in results:
        for w in e.get("stream", {}).get("words", []):
            buckets[int(float(w["end"]) // window_s)].append(float(w["first_partial"]))
    return [{"from_s": k * window_s, "to_s": (k + 1) * window_s, **summarize(v)} for k, v in sorted(buckets.items())]


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


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_plain(v) for v in obj]
    return obj


# --- summary ---------------------------------------------------------------------------------------


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


def translation_latency_table(summary: dict[str, Any]) -> str:
    """Per pair, the translated captions' latencies beside the source captions' for the same words."""
    head = ["pair", "engine", "words", "source 1st / stable / final p50 s", "translated 1st p50/p90 s",
            "translated stable p50/p90 s", "translated final p50/p90 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = summary.get("all", next(iter(summary.values()), {})).get("translation_latency", {})
    if not rows:
        return ""

    def pair_(v: dict[str, Any]) -> str:
        return f"{_f(v.get('p50'))} / {_f(v.get('p90'))}"

    for pair, v in sorted(rows.items(), key=lambda kv: (kv[0] == "all translated", kv[0])):
        if "missing" in v:
            lines.append(f"| {pair} | no translation engine | - | - | - | - | - |")
            continue
        source = " / ".join(_f(v.get(f"source_{k}", {}).get("p50")) for k in LATENCY_KINDS)
        lines.append(f"| {pair} | {v['engine']} | {v['final']['n']} | {source} | {pair_(v['first_partial'])} | "
                     f"{pair_(v['first_stable'])} | {pair_(v['final'])} |")
    return "\n".join(lines)


def _f(x: Any, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}%" if pct else f"{x:.2f}"


def clip_line(e: dict[str, Any], realtime: bool, header: bool) -> str:
    """One row per clip, as the run goes."""
    lines = []
    if header:
        cols = f"{'clip':<22}{'lang':>5}{'dur':>6}{'load':>6}{'err':>8}{'base':>8}{'offl':>8}"
        if realtime:
            cols += f"{'part50':>8}{'part90':>8}{'stab50':>8}{'fin50':>8}{'b.part50':>9}"
        lines.append(cols)
    _, s = metric_of(e["stream"])
    _, b = metric_of(e.get("baseline", {}))
    _, o = metric_of(e.get("offline", {}))
    line = (f"{e['audio'][:21]:<22}{e['lang']:>5}{e['duration_s']:>6.1f}{e['loadavg_1m_before']:>6.1f}"
            f"{_f(s, True):>8}{_f(b, True):>8}{_f(o, True):>8}")
    if realtime:
        lat = e["stream"].get("latency", {})
        blat = e.get("baseline", {}).get("latency", {})
        line += (f"{_f(lat.get('first_partial', {}).get('p50')):>8}{_f(lat.get('first_partial', {}).get('p90')):>8}"
                 f"{_f(lat.get('first_stable', {}).get('p50')):>8}{_f(lat.get('final', {}).get('p50')):>8}"
                 f"{_f(blat.get('first_partial', {}).get('p50')):>9}")
    lines.append(line)
    return "\n".join(lines)


def summary_table(summary: dict[str, Any], realtime: bool) -> str:
    """The summary as a Markdown table (stream vs baseline vs offline), then translations."""
    head = ["lang", "clips", "load", "err stream", "err baseline", "err offline"]
    if realtime:
        head += ["1st caption p50/p90 s", "stable p50/p90 s", "final p50/p90 s",
                 "baseline 1st caption p50/p90 s", "baseline final p50 s", "baseline/stream (1st, final)",
                 "CPU cores stream / baseline"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lang, s in summary.items():
        err = [next((v for k, v in s.items() if k.startswith(f"{part}_") and isinstance(v, float)), None)
               for part in ("stream", "baseline", "offline")]
        cells = [lang, str(s["clips"]), f"{s['loadavg_1m']:.1f}"] + [_f(v, True) for v in err]
        if realtime:
            st, bl = s.get("stream_latency", {}), s.get("baseline_latency", {})

            def pair(d: dict[str, Any], kind: str) -> str:
                v = d.get(kind, {})
                return f"{_f(v.get('p50'))} / {_f(v.get('p90'))}"

            ratio = s.get("baseline_over_stream", {})
            cells += [pair(st, "first_partial"), pair(st, "first_stable"), pair(st, "final"),
                      pair(bl, "first_partial"), _f(bl.get("final", {}).get("p50")),
                      f"{_f(ratio.get('first_partial'))}x, {_f(ratio.get('final'))}x" if ratio else "-",
                      f"{_f(s.get('stream_cpu_cores'))} / {_f(s.get('baseline_cpu_cores'))}"]
        lines.append("| " + " | ".join(cells) + " |")
    translations = [(lang, k, v) for lang, s in summary.items() if lang != "all"
                    for k, v in s.get("translation", {}).items()]
    if translations:
        lines += ["", "| pair | chrF | BLEU |", "|---|---|---|"]
        pairs = sorted({k.rsplit(" ", 1)[0] for _, k, _ in translations})
        values = {k: v for _, k, v in translations}
        lines += [f"| {p} | {_f(values.get(f'{p} chrf'))} | {_f(values.get(f'{p} bleu'))} |" for p in pairs]
    missing = {k for lang, s in summary.items() if lang != "all" for k in s.get("translation_missing", {})}
    if missing:
        lines += ["", "no translation: " + ", ".join(sorted(missing))]
    latency = translation_latency_table(summary) if realtime else ""
    if latency:
        lines += ["", latency]
    return "\n".join(lines)
