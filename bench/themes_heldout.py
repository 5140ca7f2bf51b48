"""Theme coders compared on held-out FLORES lines in nine languages, and the fit of what ships.

    .venv/bin/python bench/themes_heldout.py              # compare coders, print tables, write JSON
    .venv/bin/python bench/themes_heldout.py fit          # re-fit the packaged language alignment

The labelled FLORES lines (bench/data/flores_labelled.jsonl, see bench/data/README.md) are
split once, by ``crc32("parley-flores-split/<line>") % 2``: 1 is **held out** (never used to
fit or choose anything), 0 is the **tuning** part. Everything fitted or chosen here uses only
the tuning part and FLORES devtest lines nobody labelled:

* the language alignment (`parley.consultation.analysis.alignment`): each language's mean
  embedding over every FLORES devtest line except the held-out labelled ones;
* the per-theme thresholds and margin (``fitted_thresholds``): fitted on the tuning lines in
  all nine languages plus the Pol.is "dev" half;
* the nearest-labelled-examples coders: their examples are the tuning lines (nine languages);
* the theme probes (session 10, `themes_probe`): trained on the tuning lines (nine languages) and the
  Pol.is dev half, settings and cuts chosen out of fold on them; language directions from
  unlabelled lines. `fit` packages the best out of fold of the blended ones.

Reported per coder and language, on the held-out lines: micro-F1 against the labels, the share
of lines whose theme set equals the English line's, the "other" rate and its gap to English,
and calibration (how often the best theme is right per confidence band); plus the Pol.is
"test" half (real consultation statements, en/de/zh-Hant), which no step here looks at.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from themes import DEFAULT_EVAL, load_labelled, theme_metrics  # noqa: E402
from themes_multilingual import FLORES_LABELS, FLORES_LANGS, NearestExamples, cached_embedder  # noqa: E402

ALIGNMENT_DIR = ROOT / "src" / "parley" / "consultation" / "analysis" / "data"
# FLORES language -> the code Parley's language identifier gives it (both Chinese scripts: zh)
CODE = {"en": "en", "de": "de", "fr": "fr", "es": "es", "pt": "pt", "ru": "ru", "ar": "ar", "zh": "zh",
        "zh-Hant": "zh"}


def held_out(line: int) -> bool:
    return zlib.crc32(f"parley-flores-split/{line}".encode()) % 2 == 1


def flores_lines(eval_dir: Path) -> dict[str, list[str]]:
    folder = eval_dir / "mt" / "flores200_devtest"
    return {lang: [" ".join(x.split()) for x in (folder / f"{code}.devtest").read_text(encoding="utf-8").splitlines()]
            for lang, code in FLORES_LANGS.items()}


def labelled(eval_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [json.loads(x) for x in FLORES_LABELS.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if not held_out(r["line"])], [r for r in rows if held_out(r["line"])]


def make_embedder(threads: int) -> Any:
    from parley.consultation.analysis import E5Embedder

    inner = E5Embedder(threads=threads, batch_size=32)
    return cached_embedder(inner, HERE / "results" / f"embeddings-{inner.info.name}.npz")


def fit_alignment(embedder: Any, lines: dict[str, list[str]], exclude: set[int]) -> Any:
    """Each language's mean over every devtest line but the excluded (held-out) ones."""
    from parley.consultation.analysis.alignment import LanguageAlignment

    keep = [i for i in range(len(lines["en"])) if i + 1 not in exclude]
    parallel: dict[str, list[Any]] = {}
    for lang, texts in lines.items():
        parallel.setdefault(CODE[lang], []).append(embedder.embed([texts[i] for i in keep]))
    return LanguageAlignment.fit(embedder.info.name, {k: np.concatenate(v) for k, v in parallel.items()})


# --- thresholds fitted on the tuning part ---------------------------------------------------


def fit_thresholds(scores: np.ndarray, truth: np.ndarray, theme_ids: list[str], max_themes: int,
                   min_support: int = 10, max_shift: float = 0.1, grid: np.ndarray | None = None,
                   margins: Sequence[float] = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 1.0), per_theme: bool = True,
                   ) -> tuple[float, float, dict[str, float], float]:
    """Global threshold and margin, then a threshold per theme with ``min_support`` positives
    (coordinate ascent, kept where micro-F1 gains); like `ThemeCoder.calibrate`."""
    from parley.consultation.analysis.scoring import _micro_f1, _predict

    grid = np.arange(-0.05, 0.4001, 0.005) if grid is None else grid
    n = len(theme_ids)
    best = (-1.0, 0.1, 0.04)
    for margin in margins:
        for threshold in grid:
            f1 = _micro_f1(_predict(scores, np.full(n, threshold, np.float32), margin, max_themes), truth)
            if f1 > best[0] + 1e-9:
                best = (f1, float(threshold), margin)
    f1, threshold, margin = best
    per = np.full(n, threshold, np.float32)
    for _ in range(2 if per_theme else 0):
        for j in range(n):
            if int(truth[:, j].sum()) < min_support:
                continue
            for candidate in grid[np.abs(grid - threshold) <= max_shift + 1e-9]:
                trial = per.copy()
                trial[j] = candidate
                trial_f1 = _micro_f1(_predict(scores, trial, margin, max_themes), truth)
                if trial_f1 > f1 + 1e-3:
                    f1, per = trial_f1, trial
    thresholds = {t: round(float(per[j]), 3) for j, t in enumerate(theme_ids) if abs(per[j] - threshold) > 1e-9}
    return round(threshold, 3), margin, thresholds, f1


# --- coders under comparison ----------------------------------------------------------------

# texts, their languages -> (themes, confidence, best-scoring theme) per text
Coder = Callable[[Sequence[str], Sequence[str]], tuple[list[list[str]], list[float], list[str]]]


def theme_coder(embedder: Any, options: Any, alignment: Any, corrections: Sequence[Any] = (),
                curve: Any = None, probe: Any = None) -> Coder:
    from parley.consultation.analysis import ThemeCoder

    coder = ThemeCoder(embedder, options=options, alignment=alignment, confidence=curve, probe=probe)
    coder.prepare()
    if corrections:
        coder.add_corrections(corrections)

    def run(texts: Sequence[str], languages: Sequence[str]) -> tuple[list[list[str]], list[float], list[str]]:
        out = coder.code(list(texts))
        return ([list(c.themes) for c in out], [c.confidence for c in out],
                [c.best.theme if c.best else "" for c in out])

    run.coder = coder  # type: ignore[attr-defined]
    return run


def nearest_examples(embedder: Any, alignment: Any, texts: list[str], languages: list[str],
                     themes: list[list[str]]) -> Coder:
    """k-NN over the tuning lines (nine languages), on aligned vectors when given."""
    knn = NearestExamples(embedder, texts, themes, ["neutral"] * len(texts))
    if alignment is not None:
        knn.vectors = alignment.apply(knn.vectors, languages)

    def run(items: Sequence[str], langs: Sequence[str]) -> tuple[list[list[str]], list[float], list[str]]:
        vectors = embedder.embed(list(items))
        if alignment is not None:
            vectors = alignment.apply(vectors, list(langs))
        original = knn.embedder
        knn.embedder = _Fixed(vectors)
        try:
            found, _ = knn.code(items)
        finally:
            knn.embedder = original
        return found, [1.0 if f else 0.0 for f in found], [f[0] if f else "" for f in found]

    return run


class _Fixed:
    def __init__(self, vectors: Any) -> None:
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> Any:
        return self.vectors


# --- evaluation ------------------------------------------------------------------------------


def calibration_bands(confidence: Sequence[float], correct: Sequence[bool], bins: int = 4) -> list[dict[str, Any]]:
    order = np.argsort(np.asarray(confidence), kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"from": round(float(confidence[part[0]]), 3), "to": round(float(confidence[part[-1]]), 3),
                        "n": len(part), "right": round(float(np.mean([correct[i] for i in part])), 3)})
    return out


def expected_calibration_error(confidence: Sequence[float], right: Sequence[bool], bins: int = 5) -> float:
    """Mean |confidence - share right| over equal-count bands, weighted by size (confidence
    clipped to [0, 1]: a raw score is not a probability, which is the point)."""
    c = np.clip(np.asarray(confidence, np.float64), 0, 1)
    r = np.asarray(right, np.float64)
    order = np.argsort(c, kind="stable")
    return round(float(sum(len(p) * abs(c[p].mean() - r[p].mean()) for p in np.array_split(order, bins) if len(p))
                       / len(c)), 3)


def evaluate(coder: Coder, rows: list[dict[str, Any]], texts: dict[str, list[str]], theme_ids: list[str]
             ) -> dict[str, Any]:
    gold = [r["themes"] for r in rows]
    coded = {lang: coder([texts[lang][r["line"] - 1] for r in rows], [CODE[lang]] * len(rows)) for lang in texts}
    en = coded["en"][0]
    out: dict[str, Any] = {}
    for lang, (themes, confidence, top) in coded.items():
        m = theme_metrics(gold, themes, theme_ids)
        right = [t in g for t, g in zip(top, gold, strict=True)]
        out[lang] = {
            "micro_f1": round(m["micro_f1"], 3), "micro_precision": round(m["micro_precision"], 3),
            "micro_recall": round(m["micro_recall"], 3), "macro_f1": round(m["macro_f1"], 3),
            "same_set_as_en": round(sum(set(a) == set(b) for a, b in zip(themes, en, strict=True)) / len(rows), 3),
            "other_rate": round(sum(not t for t in themes) / len(rows), 3),
            "other_gap_to_en": round((sum(not t for t in themes) - sum(not t for t in en)) / len(rows), 3),
            # how often the best-scoring theme is right, per band of the coding's confidence
            "calibration": calibration_bands(confidence, right),
            "expected_calibration_error": expected_calibration_error(confidence, right),
            "per_theme": {t: {k: round(v, 3) for k, v in x.items()} for t, x in m["per_theme"].items()},
        }
    return out


def summary(result: dict[str, Any]) -> dict[str, Any]:
    langs = [k for k in result if k != "en"]
    return {
        "mean_micro_f1": round(float(np.mean([result[k]["micro_f1"] for k in result])), 3),
        "min_micro_f1": round(min(result[k]["micro_f1"] for k in result), 3),
        "mean_same_set": round(float(np.mean([result[k]["same_set_as_en"] for k in langs])), 3),
        "min_same_set": round(min(result[k]["same_set_as_en"] for k in langs), 3),
        "max_other_gap": round(max(abs(result[k]["other_gap_to_en"]) for k in langs), 3),
        "mean_calibration_error": round(float(np.mean([result[k]["expected_calibration_error"] for k in result])), 3),
    }


def print_table(name: str, result: dict[str, Any]) -> None:
    s = summary(result)
    print(f"\n{name}: mean micro-F1 {s['mean_micro_f1']:.3f} (min {s['min_micro_f1']:.3f}), same set as en "
          f"{s['mean_same_set']:.3f} (min {s['min_same_set']:.3f}), largest 'other' gap {s['max_other_gap']:.2f}, "
          f"calibration error {s['mean_calibration_error']:.3f}")
    print(f"{'lang':<9}{'micro F1':>9}{'P':>7}{'R':>7}{'same as en':>11}{'other':>7}{'gap':>7}{'ECE':>7}"
          f"   confidence band: share right")
    for lang, m in result.items():
        cal = " ".join(f"{b['from']:.2f}-{b['to']:.2f}:{b['right']:.2f}" for b in m["calibration"])
        print(f"{lang:<9}{m['micro_f1']:>9.3f}{m['micro_precision']:>7.3f}{m['micro_recall']:>7.3f}"
              f"{m['same_set_as_en']:>11.3f}{m['other_rate']:>7.2f}{m['other_gap_to_en']:>+7.2f}"
              f"{m['expected_calibration_error']:>7.3f}   {cal}")


def fit_all(embedder: Any, lines: dict[str, list[str]], tune: list[dict[str, Any]], held: list[dict[str, Any]],
            polis_dev: list[dict[str, Any]], theme_ids: list[str]) -> tuple[Any, Any, Any, float]:
    """What ships, from the tuning part and unlabelled lines only: the alignment (language
    means, then score scales), the cut fitted on aligned scores, the confidence curve.
    Returns (alignment, alignment without scales or cut, curve, tuning micro-F1)."""
    from parley.consultation.analysis import CoderOptions
    from parley.consultation.analysis.alignment import OperatingPoint
    from parley.consultation.analysis.confidence import ConfidenceCurve

    def scores_of(coder: Any, texts: list[str]) -> tuple[np.ndarray, list[Any]]:
        codings = coder.code(texts)
        return np.array([[{s.theme: s.score for s in c.scores}[t] for t in theme_ids] for c in codings],
                        np.float32), codings

    probe_options = CoderOptions(threshold=-1.0, margin=1.0, thresholds={})
    means_only = fit_alignment(embedder, lines, {r["line"] for r in held})
    # 1. how widely each language's scores spread against English on the same sentences
    coder = theme_coder(embedder, probe_options, means_only).coder  # type: ignore[attr-defined]
    excluded = {r["line"] for r in held}
    keep = [i for i in range(len(lines["en"])) if i + 1 not in excluded]
    squares: dict[str, list[np.ndarray]] = {}
    for lang, texts in lines.items():
        squares.setdefault(CODE[lang], []).append(scores_of(coder, [texts[i] for i in keep])[0] ** 2)
    rms = {code: float(np.sqrt(np.concatenate(v).mean())) for code, v in squares.items()}
    scaled = dataclasses.replace(means_only, scales={code: round(rms["en"] / r, 4) for code, r in rms.items()})
    # 2. the cut, on the tuning lines (nine languages) and the Pol.is dev half
    coder = theme_coder(embedder, probe_options, scaled).coder  # type: ignore[attr-defined]
    # Pol.is dev statements (real consultation answers, few "other") weigh as much as the FLORES
    # lines of all nine languages together, so the cut suits answers, not encyclopaedic text
    weight = int(os.environ.get("PARLEY_POLIS_WEIGHT", len(lines)))
    texts = [lines[lang][r["line"] - 1] for lang in lines for r in tune] + [r["text"] for r in polis_dev] * weight
    gold = [r["themes"] for _ in lines for r in tune] + [r["themes"] for r in polis_dev] * weight
    scores, codings = scores_of(coder, texts)
    truth = np.array([[t in g for t in theme_ids] for g in gold])
    threshold, margin, thresholds, f1 = fit_thresholds(scores, truth, theme_ids, CoderOptions().max_themes)
    alignment = dataclasses.replace(scaled, cut=OperatingPoint(threshold, margin, thresholds))
    # 3. how often the best theme is right, by its score
    curve = ConfidenceCurve.fit(embedder.info.name, [c.best.score for c in codings],
                                [c.best.theme in g for c, g in zip(codings, gold, strict=True)])
    print(f"fitted: scales {dict(alignment.scales)}; on {len(texts)} tuning texts threshold {threshold}, margin "
          f"{margin}, per theme {thresholds} (tuning micro-F1 {f1:.3f}); confidence curve "
          f"{list(zip(curve.scores, curve.chances, strict=True))}")
    return alignment, means_only, curve, f1


def fit_probes(embedder: Any, shipped: Coder, lines: dict[str, list[str]], tune: list[dict[str, Any]],
               held: list[dict[str, Any]], polis_dev: list[dict[str, Any]], theme_ids: list[str],
               report: dict[str, Any]) -> list[Any]:
    """Session 10: linear probes on the coder's vectors without a probe (see `themes_probe`),
    trained and chosen on the tuning lines (nine languages) and the Pol.is dev half, out of fold."""
    import themes_probe as tp
    from parley.consultation.analysis import CoderOptions
    from parley.consultation.analysis.confidence import ConfidenceCurve

    base = shipped.coder  # type: ignore[attr-defined]
    texts = [lines[lang][r["line"] - 1] for lang in lines for r in tune] + [r["text"] for r in polis_dev]
    gold = [r["themes"] for _ in lines for r in tune] + [r["themes"] for r in polis_dev]
    queries, seeds, factors = tp.view(base, texts)
    data = tp.Tuning(queries=queries, seed_scores=seeds, truth=np.array([[t in g for t in theme_ids] for g in gold]),
                     fold=tp.folds_of([r["line"] for _ in lines for r in tune], [r["fold"] for r in polis_dev]),
                     polis=np.array([False] * (len(texts) - len(polis_dev)) + [True] * len(polis_dev)),
                     language=[CODE[lang] for lang in lines for _ in tune] + [r["lang"][:2] for r in polis_dev],
                     factors=factors)
    excluded = {r["line"] for r in held}
    keep = [i for i in range(len(lines["en"])) if i + 1 not in excluded]
    parallel = [tp.view(base, [texts_[i] for i in keep])[0] for texts_ in lines.values()]
    max_themes = CoderOptions().max_themes
    variants, trials = tp.select(data, parallel, theme_ids, fit_thresholds, max_themes,
                                 lambda s, r: ConfidenceCurve.fit(embedder.info.name, s, r), embedder.info.name)
    report["trials"] = trials
    report["chosen"] = {v.name: {**v.settings, "cut": [v.threshold, v.margin, v.thresholds]} for v in variants}
    report["shipped"] = shipped_probe(variants).name
    return variants


def shipped_probe(variants: list[Any]) -> Any:
    """What ships: the blended variant with the best out-of-fold micro-F1 on the tuning part."""
    return max((v for v in variants if v.blend is not None), key=lambda v: v.settings["oof_micro_f1_per_theme_cuts"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from parley.consultation.analysis import CoderOptions, Correction, seed_themes
    from parley.consultation.analysis.alignment import LanguageAlignment

    embedder = make_embedder(args.threads)
    lines = flores_lines(args.eval_dir)
    tune, held = labelled(args.eval_dir)
    theme_ids = [t.id for t in seed_themes()]
    polis = load_labelled(args.eval_dir / "consultation" / "polis")
    polis_dev = [r for r in polis if r["half"] == "dev"]
    polis_test = [r for r in polis if r["half"] == "test"]
    alignment, means_only, curve, fit_f1 = fit_all(embedder, lines, tune, held, polis_dev, theme_ids)
    one_cut = CoderOptions(threshold=0.1, margin=0.04, thresholds={})
    before = CoderOptions(threshold=0.1, margin=0.04, language_offset=0.5, align_languages=False, thresholds={})
    assert alignment.cut is not None
    fitted = CoderOptions(threshold=alignment.cut.threshold, margin=alignment.cut.margin,
                          thresholds=dict(alignment.cut.thresholds))
    unscaled = dataclasses.replace(alignment, scales={})

    examples_texts = [lines[lang][r["line"] - 1] for lang in lines for r in tune]
    examples_langs = [CODE[lang] for lang in lines for r in tune]
    examples_themes = [list(r["themes"]) for _ in lines for r in tune]
    corrections = [Correction(text=t, themes=tuple(th), considered=tuple(theme_ids), language=lang, id=f"tune-{i}")
                   for i, (t, th, lang) in enumerate(zip(examples_texts, examples_themes, examples_langs,
                                                         strict=True))]
    coders: dict[str, Coder] = {
        "before (main: seeds, language offset 0.5, one cut 0.10)": theme_coder(embedder, before, None, curve=None),
        "centred per language, one cut 0.10": theme_coder(embedder, one_cut, means_only, curve=None),
        "centred + fitted cut (no score scales)": theme_coder(embedder, fitted, unscaled, curve=curve),
        "centred + score scales + fitted cut + confidence curve": theme_coder(embedder, fitted, alignment,
                                                                             curve=curve),
        "k-NN over tuning lines, raw": nearest_examples(embedder, None, examples_texts, examples_langs,
                                                        examples_themes),
        "k-NN over tuning lines, aligned": nearest_examples(embedder, alignment, examples_texts, examples_langs,
                                                            examples_themes),
        "aligned + thresholds + tuning lines as corrections": theme_coder(embedder, fitted, alignment, corrections,
                                                                          curve=curve),
    }
    probe_report: dict[str, Any] = {}
    if not args.no_probe:
        import themes_probe as tp

        base = coders["centred + score scales + fitted cut + confidence curve"]
        for v in fit_probes(embedder, base, lines, tune, held, polis_dev, theme_ids, probe_report):
            coders[f"probe: {v.name}"] = tp.coder_of(base.coder, v, theme_ids,  # type: ignore[attr-defined]
                                                     CoderOptions().max_themes)
    packaged = LanguageAlignment.packaged(embedder.info.name)
    if packaged is not None:
        coders["shipped defaults (packaged alignment, probe, cut and curve)"] = theme_coder(
            embedder, None, packaged, curve="packaged", probe="packaged")
    result: dict[str, Any] = {"bench": "themes_heldout", "embedder": embedder.info.name,
                              "split": {"tuning_lines": len(tune), "held_out_lines": len(held)},
                              "fitted": {"threshold": fitted.threshold, "margin": fitted.margin,
                                         "thresholds": dict(fitted.thresholds), "tuning_micro_f1": round(fit_f1, 3),
                                         "scales": dict(alignment.scales),
                                         "confidence_curve": [curve.scores, curve.chances]},
                              "probe": probe_report, "held_out": {}, "tuning": {}, "polis_test": {}}
    for name, c in coders.items():
        result["held_out"][name] = evaluate(c, held, lines, theme_ids)
        result["tuning"][name] = summary(evaluate(c, tune, lines, theme_ids))
        polis_themes, _, _ = c([r["text"] for r in polis_test], [r["lang"][:2] for r in polis_test])
        pm = theme_metrics([r["themes"] for r in polis_test], polis_themes, theme_ids)
        result["polis_test"][name] = {"micro_f1": round(pm["micro_f1"], 3), "macro_f1": round(pm["macro_f1"], 3),
                                      "statements": len(polis_test)}
        print_table(name, result["held_out"][name])
        print(f"  tuning part: {result['tuning'][name]};  Pol.is test half micro-F1 "
              f"{result['polis_test'][name]['micro_f1']:.3f}")
    if hasattr(embedder, "save"):
        embedder.save()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="measure", choices=["measure", "fit"])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-probe", action="store_true", help="leave out session 10's linear probes")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "themes_heldout.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    if not (args.eval_dir / "mt" / "flores200_devtest").is_dir():
        print(f"FLORES not found under {args.eval_dir}", file=sys.stderr)
        return 2
    if args.command == "fit":
        from parley.consultation.analysis import seed_themes
        from parley.consultation.analysis.alignment import file_name
        from parley.consultation.analysis.confidence import file_name as curve_file

        embedder = make_embedder(args.threads)
        tune, held = labelled(args.eval_dir)
        polis = load_labelled(args.eval_dir / "consultation" / "polis")
        from parley.consultation.analysis import CoderOptions
        from parley.consultation.analysis.probe import file_name as probe_file

        lines = flores_lines(args.eval_dir)
        polis_dev = [r for r in polis if r["half"] == "dev"]
        theme_ids = [t.id for t in seed_themes()]
        alignment, _, curve, _ = fit_all(embedder, lines, tune, held, polis_dev, theme_ids)
        assert alignment.cut is not None
        fitted = CoderOptions(threshold=alignment.cut.threshold, margin=alignment.cut.margin,
                              thresholds=dict(alignment.cut.thresholds))
        probe = shipped_probe(fit_probes(embedder, theme_coder(embedder, fitted, alignment, curve=curve), lines, tune,
                                         held, polis_dev, theme_ids, {})).probe
        ALIGNMENT_DIR.mkdir(exist_ok=True)
        alignment.save(ALIGNMENT_DIR / file_name(alignment.model))
        curve.save(ALIGNMENT_DIR / curve_file(curve.model))
        probe.save(ALIGNMENT_DIR / probe_file(probe.model))
        embedder.save()
        print(f"wrote {ALIGNMENT_DIR.relative_to(ROOT)}: alignment {alignment.languages} ({alignment.sentences} "
              f"sentences each, with its score scales and cut), confidence curve ({curve.examples} examples), "
              f"probe (blend {probe.blend}, {len(probe.directions)} directions out, scaled {probe.scaled}, "
              f"with its own cut and curve)")
        return 0
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
