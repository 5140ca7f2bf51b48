"""Theme discovery on real answers: clusters per granularity, and what adopting the top
proposal would change (before/after, from which themes), with the adoption guard.

    PYTHONPATH=src .venv/bin/python bench/discovery.py [--eval-dir ../shared/eval]

Reads the corpus of ``discovery_corpus.py`` (1,805 real Pol.is statements: de, en, zh),
codes it with the seed themes, explores it at each granularity, previews adopting the
largest cluster of each (threshold calibrated on that cluster), then adopts the medium one
and re-codes everything to check the preview said what happens. Prints a table and writes
``bench/results/discovery.json`` (identifiers and counts only, no statement text).
Embeddings are cached in ``bench/results/embeddings-discovery.npz``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from discovery_corpus import load_corpus  # noqa: E402


def counts(codings: Any) -> dict[str, int]:
    return dict(Counter(t for themes in codings for t in (themes or ("(other)",))).most_common())


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from parley.consultation.analysis import MAX_SHARE, E5Embedder, Theme, ThemeCoder, check_share
    from parley.errors import Conflict
    from themes_multilingual import cached_embedder

    rows = load_corpus(args.eval_dir)
    texts = [r["text"] for r in rows]
    embedder = cached_embedder(E5Embedder(threads=args.threads, batch_size=32),
                               HERE / "results" / "embeddings-discovery.npz")
    coder = ThemeCoder(embedder)
    coder.prepare()
    codings = coder.code(texts)
    embedder.save()
    out: dict[str, Any] = {"answers": len(texts),
                           "languages": dict(Counter(c.language.code for c in codings).most_common()),
                           "codings_before": counts([c.themes for c in codings]), "levels": {}}
    for scope in ("all", "uncovered"):
        for level in ("coarse", "medium", "fine"):
            t0 = time.perf_counter()
            found = coder.explore(texts, granularity=level, scope=scope, codings=codings)
            seconds = time.perf_counter() - t0
            entry: dict[str, Any] = {
                "clusters": len(found.clusters), "sizes": [len(d.members) for d in found.clusters],
                "clustered": len(found.clustered), "not_grouped": len(found.not_grouped),
                "silhouette": found.silhouette, "seconds": round(seconds, 2),
                "languages_per_cluster": [dict(d.languages) for d in found.clusters],
                "languages_with_examples": [sorted(d.examples_by_language) for d in found.clusters],
                "keywords_en": [list(d.keywords_by_language.get("en", ())) for d in found.clusters],
                "keywords_de": [list(d.keywords_by_language.get("de", ())) for d in found.clusters],
                "conversations": [dict(Counter(rows[m]["conversation"].split(".")[0] for m in d.members))
                                  for d in found.clusters],
            }
            if found.clusters:
                top = found.clusters[0]
                theme = Theme(id="candidate", name=top.name, origin="discovered",
                              examples=tuple(texts[m] for m in top.members[:20]))
                p = coder.preview(theme, texts, members=top.members)
                try:
                    check_share(p, max_share=MAX_SHARE)
                    guard = "allowed"
                except Conflict:
                    guard = "needs confirmation"
                entry["adopt_top"] = {
                    "name": top.name, "members": len(top.members), "threshold": p.threshold,
                    "taken": len(p.taken), "share": round(p.share, 3), "members_taken": p.members_taken,
                    "outside": p.outside, "from_other": len(p.from_other), "alongside": len(p.alongside),
                    "moved": len(p.moved), "from_themes": dict(p.from_themes), "other_changes": len(p.other_changes),
                    "guard": guard,
                }
            out["levels"][f"{scope}/{level}"] = entry
    # Adopt the medium level's top proposal for real and check the preview against re-coding.
    found = coder.explore(texts, granularity="medium", scope="all", codings=codings)
    top = found.clusters[0]
    theme = Theme(id="candidate", name=top.name, origin="discovered",
                  examples=tuple(texts[m] for m in top.members[:20]))
    p = coder.preview(theme, texts, members=top.members)
    coder.add_theme(Theme(id="candidate", name=top.name, origin="discovered", examples=theme.examples,
                          threshold=p.threshold))
    after = coder.code(texts)
    got = [i for i, c in enumerate(after) if "candidate" in c.themes]
    out["adopted_medium_top"] = {
        "members": len(top.members), "threshold": p.threshold, "coded_with_it": len(got),
        "share": round(len(got) / len(texts), 3), "preview_said": len(p.taken),
        "preview_matches": [tuple(c.themes) for c in after] == list(p.after),
        "codings_after": counts([c.themes for c in after]),
    }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['answers']} answers {result['languages']}",
             f"{'scope/level':<18} {'k':>3} {'sizes':<40} {'not grouped':>11} {'sil':>6}  adopt top: taken (share) "
             "members taken / outside  guard"]
    for key, e in result["levels"].items():
        a = e.get("adopt_top", {})
        sizes = ",".join(map(str, e["sizes"]))
        lines.append(f"{key:<18} {e['clusters']:>3} {sizes[:40]:<40} {e['not_grouped']:>11} {e['silhouette']:>6.3f}  "
                     f"{a.get('taken', '-')} ({a.get('share', '-')}) "
                     f"{a.get('members_taken', '-')}/{a.get('members', '-')} / {a.get('outside', '-')}  "
                     f"{a.get('guard', '')}")
    m = result["adopted_medium_top"]
    lines.append(f"adopted medium top: {m['coded_with_it']} of {result['answers']} ({m['share']}), preview said "
                 f"{m['preview_said']}, preview matches re-coding: {m['preview_matches']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path(os.environ.get("PARLEY_EVAL_DIR",
                                                                           ROOT.parent / "shared" / "eval")))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "discovery.json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not (args.eval_dir / "consultation" / "polis").exists():
        print(f"evaluation data not found at {args.eval_dir} (see ../shared/eval/README.md)", file=sys.stderr)
        sys.exit(2)
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
