"""``parley bench interpret MANIFEST.jsonl [--realtime] [--out FILE] ...``: live interpretation
measured on real recordings (see `parley.interpretation.benchmark` and bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from parley.config import Config

T = TypeVar("T")

UN_LANGUAGES = "en,fr,es,ar,ru,zh"


def add_parser(sub: Any) -> None:
    """Register ``bench`` and its ``interpret`` measure on the top-level subparsers."""
    bench = sub.add_parser("bench", help="benchmarks: live interpretation on recordings")
    measures = bench.add_subparsers(dest="bench_command", required=True)
    interpret = measures.add_parser(
        "interpret", help="stream recordings through the interpretation pipeline and score it",
        description="Streams each clip of a ../shared/eval manifest through the meeting pipeline and writes, per "
                    "clip, partial and final captions with times, the detected language, WER/CER, chrF/BLEU of "
                    "translations, and per-word latency; plus a growing-buffer baseline and an offline pass.")
    add_interpret_arguments(interpret)
    interpret.set_defaults(func=cmd_bench)


def add_interpret_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifests", nargs="+", type=Path, help="manifest.jsonl files (audio, lang, transcript, ref_*)")
    p.add_argument("--realtime", action="store_true", help="send RTP over loopback at real-time pace (latency)")
    p.add_argument("--out", type=Path, default=Path("bench/results/interpret.json"), help="JSON report")
    p.add_argument("--limit", type=int, default=None, help="clips per language")
    p.add_argument("--langs", default="", help="comma-separated spoken languages to keep (default: all)")
    p.add_argument("--targets", default=UN_LANGUAGES, help="listener languages to translate into")
    p.add_argument("--detect", action="store_true", help="do not tell the pipeline the speaker's language")
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the growing-buffer baseline")
    p.add_argument("--no-offline", dest="offline", action="store_false", help="skip the whole-clip offline pass")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per Whisper call")
    p.add_argument("--workers", type=int, default=2, help="Whisper calls at a time (inference scheduler threads)")
    p.add_argument("--speakers", type=int, default=1, help="clips streamed at the same time (capacity)")
    p.add_argument("--chain", type=int, default=1,
                   help="clips of a language each speaker says in a row, as one stream (sustained load)")
    p.add_argument("--models-dir", type=Path, default=None, help="default: the configured models folder")
    tuning = p.add_argument_group("streaming policy (defaults: what meetings use)")
    tuning.add_argument("--step", type=float, default=None, help="seconds of new audio between partial passes")
    tuning.add_argument("--first-partial-after", type=float, default=None,
                        help="seconds of utterance (pre-roll included) before the first partial pass")
    tuning.add_argument("--final-context", type=float, default=None,
                        help="seconds of audio before an utterance that its final pass also hears")
    tuning.add_argument("--sentence-pause", default=None,
                        help="seconds of silence that end an utterance whose words leave a sentence open, "
                             "or 'off' (every pause of the VAD ends one)")
    tuning.add_argument("--open-sentence-max", type=float, default=None,
                        help="seconds of utterance after which any pause ends it, sentence open or not")
    tuning.add_argument("--partial-overlap", default=None,
                        help="stable words a partial pass of a long utterance re-hears before the new ones, or "
                             "'off' (every pass hears the whole utterance)")
    tuning.add_argument("--clause-finals", choices=("on", "off"), default=None,
                        help="finals at clause boundaries of the stable words (default on)")
    tuning.add_argument("--set", dest="policy", default=None, metavar="FIELD=VALUE,...",
                        help="change any streaming setting (e.g. clause_min_s=1,clause_quiet=0.5)")
    tuning.add_argument("--compare", action="append", default=[], metavar="FIELD=VALUE,...",
                        help="also run every clip with this streaming policy changed (e.g. clause_finals=off):"
                             " before/after in one run; may be repeated")
    tuning.add_argument("--partial-beam", type=int, default=None, help="beam size of partial passes (default 2)")
    tuning.add_argument("--encoder-padding", default=None,
                        help="seconds of padding after the audio in Whisper's encoder window, or 'full' (30 s)")
    tuning.add_argument("--baseline-step", type=float, default=1.0, help="the baseline's re-transcription interval")


def unless(value: str, word: str, cast: Callable[[str], T]) -> T | None:
    """``value`` as a number, or None when it is ``word`` ("off", "full")."""
    return None if value == word else cast(value)


def bench_options(args: argparse.Namespace, models_dir: Path) -> Any:
    from parley.interpretation.adapters import StreamingOptions
    from parley.interpretation.asr.whisper import WhisperOptions
    from parley.interpretation.benchmark import BenchOptions

    streaming = StreamingOptions()
    if args.step is not None:
        streaming = dataclasses.replace(streaming, partial_interval_s=args.step)
    if args.first_partial_after is not None:
        streaming = dataclasses.replace(streaming, min_partial_audio_s=args.first_partial_after)
    if args.final_context is not None:
        streaming = dataclasses.replace(streaming, final_context_s=args.final_context)
    if args.sentence_pause is not None:
        streaming = dataclasses.replace(streaming, sentence_pause_s=unless(args.sentence_pause, "off", float))
    if args.open_sentence_max is not None:
        streaming = dataclasses.replace(streaming, open_sentence_max_s=args.open_sentence_max)
    if args.partial_overlap is not None:
        streaming = dataclasses.replace(streaming, partial_overlap_words=unless(args.partial_overlap, "off", int))
    if args.clause_finals is not None:
        streaming = dataclasses.replace(streaming, clause_finals=args.clause_finals == "on")
    if args.policy:
        streaming = policy_changes(streaming, args.policy)
    compare = tuple(policy_changes(streaming, spec) for spec in args.compare)
    whisper = WhisperOptions(cpu_threads=args.threads)
    if args.partial_beam is not None:
        whisper = dataclasses.replace(whisper, partial_beam_size=args.partial_beam)
    if args.encoder_padding is not None:
        whisper = dataclasses.replace(whisper, encoder_padding_s=unless(args.encoder_padding, "full", float))
    return BenchOptions(
        manifests=tuple(args.manifests), models_dir=args.models_dir or models_dir, realtime=args.realtime,
        limit=args.limit, languages=frozenset(filter(None, args.langs.split(","))),
        targets=frozenset(filter(None, args.targets.split(","))), detect=args.detect, baseline=args.baseline,
        offline=args.offline, threads=args.threads, workers=args.workers, speakers=args.speakers,
        chain=args.chain,
        baseline_interval_s=args.baseline_step, streaming=streaming, whisper=whisper, compare=compare)


def policy_changes(streaming: Any, spec: str) -> Any:
    """``streaming`` with the fields of ``spec`` ("clause_finals=off,partial_interval_s=1") changed:
    on/off for switches, off for "none", numbers otherwise."""
    changes: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        name, _, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not hasattr(streaming, name):
            raise SystemExit(f"error: --compare: no streaming setting {name!r}")
        current = getattr(streaming, name)
        if isinstance(current, bool):
            changes[name] = value.strip() in ("on", "true", "1")
        elif value.strip() in ("off", "none"):
            changes[name] = None
        else:
            changes[name] = int(value) if isinstance(current, int) else float(value)
    return dataclasses.replace(streaming, **changes)


def interpret(args: argparse.Namespace, models_dir: Path) -> int:
    from parley.interpretation.benchmark import clip_line, run_benchmark, summary_table

    for manifest in args.manifests:
        if not manifest.exists():
            print(f"error: manifest not found: {manifest} (is ../shared/eval present?)", file=sys.stderr)
            return 2
    options = bench_options(args, models_dir)
    try:
        report = asyncio.run(run_benchmark(
            options, progress=lambda entry, first: print(clip_line(entry, options.realtime, first), flush=True)))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print()
    print(summary_table(report["summary"], options.realtime))
    for spec, other in zip(args.compare, report.get("compare", []), strict=False):
        print(f"\nthe same clips with {spec}:\n")
        print(summary_table(other["summary"], options.realtime))
    drift = report.get("latency_over_time")
    if drift and len(drift) > 1:
        windows = (f"{b['from_s']:.0f}-{b['to_s']:.0f} s {b['p50']:.2f}/{b['p90']:.2f}"
                   for b in drift if b["p50"] is not None)
        print("\nfirst caption p50/p90 s by time into the streams: " + ", ".join(windows))
    machine = report["machine"]
    print(f"\nload average (1 min) at start {machine['loadavg_start'][0]:.2f}, at end {machine['loadavg_end'][0]:.2f}"
          f" on {machine['cpus']} CPUs")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    from parley.cli.models import models_dir

    return interpret(args, models_dir(config))


def main(argv: Sequence[str] | None = None) -> int:
    """bench/interpret.py: the same measure without loading Parley's configuration."""
    parser = argparse.ArgumentParser(prog="bench/interpret.py", description=__doc__)
    add_interpret_arguments(parser)
    args = parser.parse_args(argv)
    return interpret(args, Path(os.environ.get("PARLEY_MODELS_DIR", "data/models")))
