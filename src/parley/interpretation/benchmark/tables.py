"""The report as text: a line per clip as the run goes, then Markdown summary tables."""

from __future__ import annotations

from typing import Any

from parley.interpretation.benchmark.summary import metric_of
from parley.interpretation.benchmark.timing import LATENCY_KINDS


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
