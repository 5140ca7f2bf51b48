"""Translation quality and speed of every route Parley can take for a language pair.

For each pair, every route the installed engines offer (each direct engine, each one-pivot
route) translates FLORES devtest lines and is scored with chrF against the reference; the
route Parley picks is marked. Writes ``bench/results/mt_routes_<time>.json``.

    taskset -c 0 .venv/bin/python bench/mt_routes.py --pairs en-pt,pt-en,pt-es,es-pt --lines 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import sacrebleu

from parley.clock import SystemClock
from parley.interpretation.mt.apertium import ApertiumEngine
from parley.interpretation.mt.base import MtEngine
from parley.interpretation.mt.bergamot import BergamotEngine
from parley.interpretation.mt.ctranslate2 import FLORES, CTranslate2Engine
from parley.interpretation.mt.registry import Translator
from parley.interpretation.scheduler import InferenceScheduler

DEFAULT_FLORES = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "mt" / "flores200_devtest"


def flores_lines(folder: Path, language: str, count: int) -> list[str]:
    text = (folder / f"{FLORES[language]}.devtest").read_text(encoding="utf-8")
    return text.splitlines()[:count]


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    engines: list[MtEngine] = [CTranslate2Engine(args.models_dir, scheduler=scheduler, clock=clock),
                               BergamotEngine(args.models_dir, scheduler=scheduler, clock=clock),
                               ApertiumEngine(clock=clock)]
    translator = Translator(engines)
    await translator.start()
    rows: list[dict[str, Any]] = []
    try:
        for pair in args.pairs.split(","):
            source, target = pair.split("-")
            sources = flores_lines(args.flores, source, args.lines)
            refs = flores_lines(args.flores, target, args.lines)
            chosen = translator.route(source, target)
            for route in translator.routes(source, target):
                await translator.translate_by(route, sources[:2])  # warm-up: load models, start pipelines
                started = time.perf_counter()
                out: list[str] = []
                for i in range(0, len(sources), args.batch):
                    out += (await translator.translate_by(route, sources[i : i + args.batch])).texts
                elapsed = time.perf_counter() - started
                rows.append({"pair": pair, "route": route.engine, "chosen": route == chosen,
                             "chrf": round(sacrebleu.corpus_chrf(out, [refs]).score, 1),
                             "bleu": round(sacrebleu.corpus_bleu(out, [refs]).score, 1),
                             "ms_per_sentence": round(1000 * elapsed / len(sources), 1), "lines": len(sources)})
                print(f"{pair:6} {route.engine:28} {'*' if rows[-1]['chosen'] else ' '} chrF {rows[-1]['chrf']:5.1f}  "
                      f"BLEU {rows[-1]['bleu']:5.1f}  {rows[-1]['ms_per_sentence']:7.1f} ms/sentence", flush=True)
    finally:
        await translator.aclose()
        await scheduler.stop()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", default="en-pt,pt-en,pt-es,es-pt,pt-fr,fr-pt")
    p.add_argument("--lines", type=int, default=100, help="FLORES devtest lines 1..N")
    p.add_argument("--batch", type=int, default=1, help="sentences per call (1: as live captions arrive)")
    p.add_argument("--flores", type=Path, default=DEFAULT_FLORES)
    p.add_argument("--models-dir", type=Path, default=Path("data/models"))
    args = p.parse_args()
    rows = asyncio.run(run(args))
    out = Path(__file__).resolve().parent / "results" / f"mt_routes_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
