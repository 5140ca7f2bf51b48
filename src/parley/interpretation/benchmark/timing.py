"""Latency accounting: when each final word was first shown, first stable, and final, from
its end in the audio; for the source captions and for each translation."""

from __future__ import annotations

import difflib
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from parley.interpretation.adapters import normalize_word
from parley.interpretation.benchmark.playback import Run
from parley.interpretation.frames import Caption, Transcript, Word

LATENCY_KINDS = ("first_partial", "first_stable", "final")


def word_timeline(run: Run) -> list[dict[str, Any]]:
    """Each final word with the seconds from its end in the audio to its first appearance in a
    partial caption (any, then stable) and to its final caption. A word that no partial showed
    first appears with the final, so its partial latencies are the final's. A word first shown
    on an earlier line (a clause final ended that line before it, and it moved on to the next)
    counts from there: the partials of other lines are searched for the words in this line's
    time span."""
    out: list[dict[str, Any]] = []
    for final_at, final, partials in _lines(run):
        out.extend(_word_rows(run, final, final_at, partials))
    return out


Shown = tuple[float, Sequence[Word], Sequence[Word]]


def _word_rows(run: Run, final: Transcript, final_at: float, shown: Iterable[Shown]) -> list[dict[str, Any]]:
    """One row per word of ``final``: the seconds from its end in the audio to the first time
    ``shown`` (time, words shown, stable words) showed it, to the first time stable, and to the
    final at ``final_at`` (a word never shown before counts from the final)."""
    fwords = [normalize_word(w.text) for w in final.words]
    first: list[float | None] = [None] * len(fwords)
    stable: list[float | None] = [None] * len(fwords)
    for at, words_shown, words_stable in shown:
        for marks, words in ((first, words_shown), (stable, words_stable)):
            for j in _matched(words, fwords):
                if marks[j] is None:
                    marks[j] = at
    rows = []
    for j, w in enumerate(final.words):
        spoken = run.t0 + w.end
        rows.append({"word": w.text, "end": round(w.end, 3),
                     "first_partial": round((first[j] or final_at) - spoken, 3),
                     "first_stable": round((stable[j] or final_at) - spoken, 3),
                     "final": round(final_at - spoken, 3)})
    return rows


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
        out.extend(_word_rows(run, final, final_at, _translated_shown(final, final_at, captions, sources)))
    return out


def _translated_shown(final: Transcript, final_at: float, captions: list[tuple[float, Caption]],
                      sources: dict[tuple[str, float], Transcript]) -> Iterable[Shown]:
    """The source words each translated caption before ``final_at`` covered: the final's own
    words for its final translation, else the stable words of the partial it translated (of
    another line: only those in this line's time span)."""
    for at, c in captions:
        if at > final_at or not c.text:
            continue
        if c.utterance_id == final.utterance_id and c.is_final:
            yield at, final.words, final.words
        elif not c.is_final:
            source = sources.get((c.utterance_id, round(c.end, 4)))
            if source is None:
                continue
            shown = source.words[: source.stable_count]
            if c.utterance_id != final.utterance_id:
                shown = _within(shown, final.start, final.end)
            yield at, shown, shown


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


def latency_over_time(results: list[dict[str, Any]], window_s: float = 20.0) -> list[dict[str, Any]]:
    """First-caption latency of the words spoken in each ``window_s`` of the streams (pooled
    over clips): whether latency grows while people keep talking."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for e in results:
        for w in e.get("stream", {}).get("words", []):
            buckets[int(float(w["end"]) // window_s)].append(float(w["first_partial"]))
    return [{"from_s": k * window_s, "to_s": (k + 1) * window_s, **summarize(v)} for k, v in sorted(buckets.items())]
