"""`parley bench interpret`: what it measures and how it reports, on fake engines and made-up
recordings (the real run is in bench/README.md)."""

from __future__ import annotations

import json
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from parley.cli.__main__ import build_parser
from parley.cli.bench import bench_options
from parley.clock import SystemClock
from parley.interpretation.adapters import StreamingOptions
from parley.interpretation.asr.base import DecodeMode
from parley.interpretation.benchmark import (
    CHAIN_GAP_S,
    BenchOptions,
    Run,
    aggregate,
    chain_rows,
    load_rows,
    row_audio,
    run_benchmark,
    summary_table,
    translation_latency,
    translation_timeline,
    word_timeline,
)
from parley.interpretation.frames import Caption, Transcript, Word
from parley.interpretation.mt.registry import Translator
from parley.interpretation.pipeline import InterpreterEngines
from parley.interpretation.scheduler import InferenceScheduler
from parley.interpretation.scoring import error_rate
from parley.interpretation.vad import EnergyVad
from tests.fakes.engines import FakeMt, ScriptedAsr, silence, tone

pytestmark = pytest.mark.unit


def transcript(words: list[tuple[str, float, float]], *, final: bool, stable: int = 0) -> Transcript:
    return Transcript(stream_id="s", utterance_id="s-1", language="en",
                      words=tuple(Word(t, a, b) for t, a, b in words), is_final=final,
                      stable_count=len(words) if final else stable, start=0.0, end=3.0, audio_end_at=0.0,
                      emitted_at=0.0)


def test_each_word_is_timed_from_its_end_to_its_first_partial_stable_and_final_caption() -> None:
    run = Run(t0=100.0)
    run.transcripts = [
        (101.0, transcript([("the", 0.1, 0.4), ("cap", 0.5, 0.8)], final=False)),  # "cap": wrong, not counted
        (101.5, transcript([("the", 0.1, 0.4), ("cat", 0.5, 0.8), ("sat", 0.9, 1.2)], final=False, stable=1)),
        (102.5, transcript([("The", 0.1, 0.4), ("cat", 0.5, 0.8), ("sat.", 0.9, 1.2), ("Down", 1.3, 1.6)],
                           final=True)),
    ]
    timeline = word_timeline(run)
    assert [w["word"] for w in timeline] == ["The", "cat", "sat.", "Down"]
    assert [w["first_partial"] for w in timeline] == [0.6, 0.7, 0.3, 0.9]  # "Down" first came with the final
    assert [w["first_stable"] for w in timeline] == [1.1, 1.7, 1.3, 0.9]
    assert [w["final"] for w in timeline] == [2.1, 1.7, 1.3, 0.9]


def line(utterance: str, words: list[tuple[str, float, float]], *, final: bool, stable: int = 0, start: float = 0.0,
         end: float = 3.0) -> Transcript:
    return Transcript(stream_id="s", utterance_id=utterance, language="en",
                      words=tuple(Word(t, a, b) for t, a, b in words), is_final=final,
                      stable_count=len(words) if final else stable, start=start, end=end, audio_end_at=0.0,
                      emitted_at=0.0)


def translated(utterance: str, text: str, *, final: bool, end: float) -> Caption:
    return Caption(speaker_id="s", utterance_id=utterance, revision=1, role="translation", language="es",
                   source_language="en", text=text, stable_text=text if final else "", is_final=final, start=0.0,
                   end=end, emitted_at=0.0, latency=0.0, engine="fake")


def test_each_word_is_timed_to_its_first_stable_and_final_translated_caption() -> None:
    run = Run(t0=100.0)
    run.transcripts = [
        (101.0, line("u1", [("the", 0.1, 0.4), ("cat", 0.5, 0.8), ("sat", 0.9, 1.2)], final=False, stable=1,
                     end=1.3)),
        (101.5, line("u1", [("the", 0.1, 0.4), ("cat", 0.5, 0.8), ("sat", 0.9, 1.2)], final=False, stable=2,
                     end=1.8)),
        (102.5, line("u1", [("The", 0.1, 0.4), ("cat", 0.5, 0.8), ("sat.", 0.9, 1.2)], final=True, end=2.0)),
    ]
    run.events = [(101.1, translated("u1", "el", final=False, end=1.3)),
                  (101.6, translated("u1", "el gato", final=False, end=1.8)),
                  (102.6, translated("u1", "El gato se sentó.", final=True, end=2.0)),
                  (102.7, translated("u2", "otro", final=True, end=3.0))]  # a line with no source final
    timeline = translation_timeline(run, "es")
    assert [w["word"] for w in timeline] == ["The", "cat", "sat."]
    # only stable words are translated in a partial: "sat" first comes translated with the final
    assert [w["first_partial"] for w in timeline] == [0.7, 0.8, 1.4]
    assert [w["first_stable"] for w in timeline] == [0.7, 0.8, 1.4]
    assert [w["final"] for w in timeline] == [2.2, 1.8, 1.4]
    assert translation_timeline(run, "fr") == []


def test_a_word_shown_on_an_earlier_line_counts_from_there() -> None:
    """A clause final ended line u1 after "well,"; "we" was shown on u1 and moved to u2."""
    run = Run(t0=0.0)
    run.transcripts = [
        (2.0, line("u1", [("well,", 0.2, 1.0), ("we", 1.3, 1.6)], final=False, stable=2, end=1.8)),
        (2.5, line("u2", [("we", 1.3, 1.6), ("went", 1.7, 2.2)], final=False, stable=1, start=1.1, end=2.4)),
        (3.0, line("u1", [("Well,", 0.2, 1.0)], final=True, end=1.1)),
        (4.0, line("u2", [("We", 1.3, 1.6), ("went.", 1.7, 2.2)], final=True, start=1.1, end=2.6)),
    ]
    by_word = {w["word"]: w for w in word_timeline(run)}
    assert by_word["We"]["first_partial"] == 0.4 and by_word["We"]["first_stable"] == 0.4
    assert by_word["Well,"]["first_stable"] == 1.0 and by_word["Well,"]["final"] == 2.0


def test_translation_latency_is_pooled_per_pair_beside_the_source_and_missing_pairs_are_listed() -> None:
    words = [{"end": 1.0, "first_partial": 0.5, "first_stable": 1.0, "final": 2.0},
             {"end": 2.0, "first_partial": 0.7, "first_stable": 1.2, "final": 1.0}]
    e = {"lang": "en", "stream": {"words": words, "translations": {
        "es": {"engine": "apertium", "words": [dict(w, first_partial=w["first_partial"] + 1,
                                                    first_stable=w["first_stable"] + 1, final=w["final"] + 1)
                                               for w in words]},
        "ru": {"missing": "no translation engine for en->ru"}}}}
    pairs = translation_latency([e])
    assert pairs["en->es"]["engine"] == "apertium" and pairs["en->es"]["final"] == {"p50": 2.5, "p90": 3.0, "n": 2}
    assert pairs["en->es"]["source_final"]["p50"] == 1.5
    assert pairs["en->ru"] == {"missing": "no translation engine for en->ru"}
    table = summary_table({"en": {"clips": 1, "loadavg_1m": 0.0, "translation_latency": pairs}}, realtime=True)
    assert "| en->es | apertium | 2 | 0.60 / 1.10 / 1.50 | 1.60 / 1.70 | 2.10 / 2.20 | 2.50 / 3.00 |" in table
    assert "| en->ru | no translation engine |" in table


def entry(lang: str, err: float, base_err: float, first: list[float], base_first: list[float]) -> dict[str, object]:
    def words(values: list[float]) -> list[dict[str, float]]:
        return [{"first_partial": v, "first_stable": v + 1, "final": v + 2} for v in values]

    return {"audio": f"{lang}.ogg", "lang": lang, "duration_s": 10.0, "loadavg_1m_before": 1.0,
            "stream": {"wer": err, "words": words(first),
                       "translations": {"es": {"chrf": 50.0, "bleu": 20.0}, "ar": {"missing": "no engine"}}},
            "baseline": {"wer": base_err, "words": words(base_first), "translations": {}},
            "offline": {"wer": err}}


def test_the_summary_pools_words_per_language_and_shows_the_baseline_ratio() -> None:
    results = [entry("en", 0.10, 0.20, [0.5, 1.0, 1.5], [2.0, 3.0, 4.0]),
               entry("en", 0.20, 0.30, [1.0], [2.0]),
               entry("fr", 0.30, 0.40, [2.0], [4.0])]
    summary = aggregate(results, realtime=True)
    assert list(summary) == ["en", "fr", "all"]
    en = summary["en"]
    assert en["clips"] == 2 and en["stream_wer"] == pytest.approx(0.15) and en["baseline_wer"] == pytest.approx(0.25)
    assert en["stream_latency"]["first_partial"] == {"p50": 1.0, "p90": 1.5, "n": 4}
    assert en["baseline_over_stream"]["first_partial"] == 2.5
    assert en["translation"] == {"en->es bleu": 20.0, "en->es chrf": 50.0}
    assert en["translation_missing"] == {"en->ar": "no engine"}
    assert summary["all"]["stream_latency"]["first_partial"]["n"] == 5
    table = summary_table(summary, realtime=True)
    assert "| en | 2 |" in table and "1.00 / 1.50" in table and "2.50x" in table
    assert "| en->es | 50.00 | 20.00 |" in table and "no translation: en->ar, fr->ar" in table


def write_clip(folder: Path, name: str, audio: np.ndarray) -> None:
    with wave.open(str(folder / name), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes((audio * 32767).astype("<i2").tobytes())


@pytest.fixture
async def scheduler() -> AsyncIterator[InferenceScheduler]:
    s = InferenceScheduler(clock=SystemClock(), workers=1)
    await s.start()
    yield s
    await s.stop()


async def test_a_manifest_is_streamed_scored_and_compared(tmp_path: Path, scheduler: InferenceScheduler) -> None:
    clock = SystemClock()
    write_clip(tmp_path, "a.wav", np.concatenate([silence(0.5), tone(2.0), silence(0.8)]))
    rows = [{"audio": "a.wav", "lang": "en", "transcript": "good morning everyone",
             "ref_spa_Latn": "buenos días a todos"},
            {"audio": "a.wav", "lang": "en", "transcript": "ignored by the limit"}]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert len(load_rows([manifest], (), limit=1)) == 1 and not load_rows([manifest], {"fr"})

    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return "good morning everyone" if mode is DecodeMode.FINAL or seconds > 2.0 else "good morning"

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    engines = InterpreterEngines(asr=asr, translator=Translator([FakeMt(clock=clock, pairs=[("en", "es")])]),
                                 voices=None, vad_factory=lambda: EnergyVad())
    report = await run_benchmark(BenchOptions(manifests=(manifest,), limit=1, targets=frozenset({"es", "ru"}),
                                              compare=(StreamingOptions(clause_finals=False),)),
                                 engines=engines, clock=clock, scheduler=scheduler)
    [clip] = report["clips"]
    assert clip["stream"]["wer"] == 0.0 and clip["stream"]["detected_language"] == ["en"]
    assert clip["stream"]["finals"][0]["text"] == "good morning everyone"
    assert clip["stream"]["partials"], "partial captions are recorded with their times"
    assert clip["stream"]["translations"]["es"]["text"] == "[es] good morning everyone"
    assert "chrf" in clip["stream"]["translations"]["es"] and "bleu" in clip["stream"]["translations"]["es"]
    assert clip["stream"]["translations"]["ru"]["missing"]
    assert clip["baseline"]["wer"] == 0.0 and clip["offline"]["wer"] == 0.0
    assert "loadavg_1m_after" in clip and report["summary"]["en"]["clips"] == 1
    # the second policy ran on the same clip, scored alike
    assert clip["compare"][0]["finals"][0]["text"] == "good morning everyone"
    assert report["compare"][0]["streaming"]["clause_finals"] is False
    assert report["compare"][0]["summary"]["en"]["stream_wer"] == 0.0
    json.dumps(report)  # the report is plain JSON


async def test_chained_clips_make_one_long_turn_per_speaker(tmp_path: Path, scheduler: InferenceScheduler) -> None:
    clock = SystemClock()
    write_clip(tmp_path, "a.wav", np.concatenate([silence(0.3), tone(1.5), silence(0.6)]))
    rows = [{"audio": "a.wav", "lang": "en", "transcript": f"part {i}", "ref_spa_Latn": f"parte {i}"} for i in range(3)]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    [chained, rest] = chain_rows(load_rows([manifest]), 2)
    assert chained["transcript"] == "part 0 part 1" and chained["ref_spa_Latn"] == "parte 0 parte 1"
    assert len(chained["paths"]) == 2 and rest["transcript"] == "part 2"
    assert abs(len(row_audio(chained)) / 48_000 - (2 * 2.4 + CHAIN_GAP_S)) < 0.05

    finals = iter(["part 0", "part 1", "part 2"])

    def script(mode: DecodeMode, seconds: float, n: int) -> str:
        return next(finals) if mode is DecodeMode.FINAL else "part."

    asr = ScriptedAsr(scheduler=scheduler, clock=clock, script=script)
    engines = InterpreterEngines(asr=asr, translator=Translator([]), voices=None, vad_factory=lambda: EnergyVad())
    report = await run_benchmark(BenchOptions(manifests=(manifest,), limit=2, chain=2, targets=frozenset(),
                                              baseline=False, offline=False, realtime=True),
                                 engines=engines, clock=clock, scheduler=scheduler)
    [clip] = report["clips"]
    assert clip["stream"]["wer"] == 0.0 and len(clip["stream"]["finals"]) == 2
    windows = report["latency_over_time"]
    assert windows and windows[0]["from_s"] == 0.0 and sum(w["n"] for w in windows) == 4


def test_the_command_line_maps_onto_the_streaming_policy(tmp_path: Path) -> None:
    args = build_parser().parse_args(["bench", "interpret", "m.jsonl", "--realtime", "--step", "0.7",
                                      "--first-partial-after", "0.5", "--encoder-padding", "full",
                                      "--langs", "en,zh", "--targets", "es", "--sentence-pause", "off"])
    options = bench_options(args, tmp_path)
    assert options.streaming.sentence_pause_s is None
    assert options.realtime and options.manifests == (Path("m.jsonl"),) and options.models_dir == tmp_path
    assert options.streaming.partial_interval_s == 0.7 and options.streaming.min_partial_audio_s == 0.5
    assert options.whisper.encoder_padding_s is None
    assert options.languages == {"en", "zh"} and options.targets == {"es"}
    default = bench_options(build_parser().parse_args(["bench", "interpret", "m.jsonl"]), tmp_path)
    assert default.whisper.encoder_padding_s == 3.0 and not default.realtime
    assert default.streaming.sentence_pause_s == 1.0
    assert default.streaming.clause_finals and default.compare == ()


def test_a_second_policy_runs_beside_the_first_from_the_command_line(tmp_path: Path) -> None:
    args = build_parser().parse_args(["bench", "interpret", "m.jsonl", "--set", "clause_force_s=2.5,clause_min_s=1",
                                      "--compare", "clause_finals=off,clause_force_s=off",
                                      "--compare", "clause_min_s=2"])
    options = bench_options(args, tmp_path)
    assert options.streaming.clause_force_s == 2.5 and options.streaming.clause_min_s == 1.0
    before, other = options.compare
    assert not before.clause_finals and before.clause_force_s is None and before.clause_min_s == 1.0
    assert other.clause_finals and other.clause_min_s == 2.0
    with pytest.raises(SystemExit):
        bench_options(build_parser().parse_args(["bench", "interpret", "m.jsonl", "--compare", "nonsense=1"]),
                      tmp_path)


def test_arabic_is_scored_without_its_optional_vowel_marks() -> None:
    assert error_rate("قد يصيب الشخص المُصاب", "قد يصيب الشخص المصاب", "ar") == ("wer", 0.0)
    assert error_rate("Hello, world!", "hello world", "en") == ("wer", 0.0)
    assert error_rate("我们希望和平", "我們希望和平", "zh")[0] == "cer"
