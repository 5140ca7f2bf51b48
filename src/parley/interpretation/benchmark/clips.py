"""Clip loading: manifest rows (the ../shared/eval format), chained into long turns, and their audio."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from parley.interpretation.audio import OPUS_RATE, load_audio, normalize_peak
from parley.interpretation.benchmark.options import REF_LANGUAGE
from parley.interpretation.frames import Samples


def separator(language: str) -> str:
    """What joins pieces of text in ``language`` (Chinese is written without spaces)."""
    return "" if language == "zh" else " "


def load_rows(manifests: Iterable[Path], languages: Collection[str] = (), limit: int | None = None
              ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    per_lang: dict[str, int] = defaultdict(int)
    for manifest in manifests:
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            if languages and row["lang"] not in languages:
                continue
            if limit is not None and per_lang[row["lang"]] >= limit:
                continue
            per_lang[row["lang"]] += 1
            row["path"] = str(manifest.parent / row["audio"])
            rows.append(row)
    return rows


CHAIN_GAP_S = 1.0  # silence between the chained clips of one speaker


def chain_rows(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Rows of the same language joined ``n`` at a time into one speaker's long turn: the audio
    one after the other (`CHAIN_GAP_S` apart), transcripts and references joined."""
    if n <= 1:
        return rows
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_lang[row["lang"]].append(row)
    chained: list[dict[str, Any]] = []
    for lang, items in by_lang.items():
        for i in range(0, len(items), n):
            part = items[i:i + n]
            row = {"audio": "+".join(r["audio"] for r in part), "lang": lang, "paths": [r["path"] for r in part],
                   "transcript": separator(lang).join(r["transcript"] for r in part)}
            for key in {k for r in part for k in r if k.startswith("ref_")}:
                if all(key in r for r in part):
                    row[key] = separator(REF_LANGUAGE.get(key, "")).join(r[key] for r in part)
            chained.append(row)
    return chained


def row_audio(row: dict[str, Any]) -> Samples:
    """A row's audio at the Opus rate, each clip peak-normalised (FLEURS loudness varies: as AGC would)."""
    first, *rest = [normalize_peak(load_audio(path, OPUS_RATE)) for path in row.get("paths") or [row["path"]]]
    gap = np.zeros(int(CHAIN_GAP_S * OPUS_RATE), np.float32)
    return np.concatenate([first, *(part for clip in rest for part in (gap, clip))])
