"""Live interpretation measured on real recordings: accuracy, stability and word latency.

    .venv/bin/parley bench interpret ../shared/eval/speech/fleurs/manifest.jsonl --limit 3 --realtime
    .venv/bin/python bench/interpret.py MANIFEST.jsonl [MANIFEST ...] [--langs en,es] [--limit N]
                     [--realtime] [--speakers N] [--no-baseline] [--no-offline] [--detect] [--out FILE]

The same as ``parley bench interpret`` (src/parley/cli/bench.py; the measure itself is
`parley.interpretation.benchmark`), without loading Parley's configuration: the models folder
is $PARLEY_MODELS_DIR or data/models.
"""

from __future__ import annotations

import sys

from parley.cli.bench import main

if __name__ == "__main__":
    sys.exit(main())
