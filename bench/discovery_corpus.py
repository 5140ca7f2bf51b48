"""The corpus bench/discovery.py measures on: real Pol.is statements from ../shared/eval.

One consultation-like mix where most statements share one topic (climate, as the 1,733 answers
of the issue all shared AI): two Austrian climate-council conversations (German), four
Scoop Hivemind ones (English: biodiversity, freshwater, housing, taxes) and vTaiwan
(Traditional Chinese). Accepted statements (moderated == 1) of 20-300 characters, in file order.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

CONVERSATIONS = (
    "austria-climate.9xnndurbfm.2022-07-07", "austria-climate.2vkxcncppn.2022-07-07",
    "scoop-hivemind.biodiversity", "scoop-hivemind.freshwater", "scoop-hivemind.affordable-housing",
    "scoop-hivemind.taxes", "vtaiwan.uberx",
)


def load_corpus(eval_dir: Path) -> list[dict[str, Any]]:
    """[{conversation, comment_id, text}]; texts stay in memory only (never written out)."""
    rows = []
    for conversation in CONVERSATIONS:
        with open(eval_dir / "consultation" / "polis" / conversation / "comments.csv", encoding="utf-8",
                  newline="") as f:
            for r in csv.DictReader(f):
                text = " ".join(r["comment-body"].split())
                if r["moderated"] == "1" and 20 <= len(text) <= 300:
                    rows.append({"conversation": conversation, "comment_id": int(r["comment-id"]), "text": text})
    return rows
