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

    options.py   BenchOptions; the UN languages and their FLORES codes
    clips.py     manifest rows, chained into long turns, and their audio
    playback.py  one clip through a meeting's Interpreter (Run); baseline.py: the growing buffer
    timing.py    per word: first caption, first stable, final (source and translations)
    scores.py    one run scored; the offline pass
    summary.py   clips pooled per language; tables.py: the report as text
    run.py       run_benchmark: every clip, every policy, the JSON report
"""

from parley.interpretation.benchmark.baseline import GrowingBufferStream
from parley.interpretation.benchmark.clips import CHAIN_GAP_S, chain_rows, load_rows, row_audio, separator
from parley.interpretation.benchmark.options import FLORES, REF_LANGUAGE, UN, BenchOptions
from parley.interpretation.benchmark.playback import TRAILING_SILENCE_S, Run, opus_packets, run_clip
from parley.interpretation.benchmark.run import loadavg, run_benchmark
from parley.interpretation.benchmark.scores import offline_pass, score_run
from parley.interpretation.benchmark.summary import aggregate, metric_of, translation_latency
from parley.interpretation.benchmark.tables import clip_line, summary_table, translation_latency_table
from parley.interpretation.benchmark.timing import (
    LATENCY_KINDS,
    latency_over_time,
    percentile,
    summarize,
    translation_timeline,
    word_latencies,
    word_timeline,
)

__all__ = [
    "CHAIN_GAP_S",
    "FLORES",
    "LATENCY_KINDS",
    "REF_LANGUAGE",
    "TRAILING_SILENCE_S",
    "UN",
    "BenchOptions",
    "GrowingBufferStream",
    "Run",
    "aggregate",
    "chain_rows",
    "clip_line",
    "latency_over_time",
    "load_rows",
    "loadavg",
    "metric_of",
    "offline_pass",
    "opus_packets",
    "percentile",
    "row_audio",
    "run_benchmark",
    "run_clip",
    "score_run",
    "separator",
    "summarize",
    "summary_table",
    "translation_latency",
    "translation_latency_table",
    "translation_timeline",
    "word_latencies",
    "word_timeline",
]
