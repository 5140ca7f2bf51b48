"""The meeting page shows each final caption line once: a line a new interpretation owner (or a
worker's late re-send) broadcasts again is dropped by the page, even once it left the list,
while a real final still replaces a forced one. Runs the page's own module
(`frontend/src/meeting/caption_finals.js`, no DOM) under node, which builds the bundles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from parley.handlers.interpretation.caption_line import FIELDS

pytestmark = pytest.mark.unit

MODULE = Path(__file__).resolve().parents[2] / "frontend" / "src" / "meeting" / "caption_finals.js"
NODE = shutil.which("node")


def line(utterance: str, *, revision: int, final: bool = True, forced: bool = False, role: str = "original",
         language: str = "fr") -> dict[str, Any]:
    return {"speaker_id": "p7", "speaker_name": "Amina", "utterance_id": utterance, "revision": revision,
            "role": role, "language": language, "source_language": "fr", "text": "…", "stable_text": "",
            "is_final": final, "latency": 0.4, "forced": forced}


def shown(captions: list[dict[str, Any]], *, kept: int = 1000) -> list[bool]:
    """Which of ``captions``, in order, the page shows (the rest it drops as repeats)."""
    assert NODE is not None
    script = f"""
import {{ finalsShown }} from {json.dumps(MODULE.as_uri())};
const finals = finalsShown({kept});
const out = [];
for (const c of {json.dumps(captions)}) {{
  const repeats = finals.repeats(c);
  if (!repeats) finals.shown(c);
  out.push(!repeats);
}}
console.log(JSON.stringify(out));
"""
    done = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                          check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


needs_node = pytest.mark.skipif(NODE is None, reason="node (needed to build the frontend) is not installed")


@needs_node
def test_a_final_broadcast_again_is_dropped_and_partials_before_it_are_shown() -> None:
    assert shown([
        line("u1", revision=1, final=False), line("u1", revision=2),  # the line, then its final
        line("u1", revision=2),                                       # the new owner's copy
        line("u1", revision=1, final=False),                          # a partial late after it
        line("u1", revision=2, role="translation", language="en"),    # its translation: a line of its own
        line("u1", revision=2, role="translation", language="en"),
    ]) == [True, True, False, False, True, False]


@needs_node
def test_a_real_final_replaces_a_forced_one_but_not_the_other_way_round() -> None:
    assert shown([
        line("u1", revision=2, forced=True),  # closed by the hub: the worker's final could not come
        line("u1", revision=2),               # ...but it came (re-sent after a reconnect)
        line("u1", revision=3, forced=True),  # a new owner closing what it thought open
        line("u1", revision=3),               # a later revision of the final
    ]) == [True, True, False, True]


@needs_node
def test_the_finals_remembered_are_bounded_oldest_first() -> None:
    assert shown([line("u1", revision=2), line("u2", revision=2), line("u3", revision=2),
                  line("u3", revision=2), line("u1", revision=2)], kept=2) == [True, True, True, False, True]


def test_the_module_reads_only_fields_a_caption_line_carries() -> None:
    read = set(re.findall(r"\bc\.(\w+)", MODULE.read_text(encoding="utf-8")))
    assert {"utterance_id", "role", "language", "revision", "is_final", "forced"} <= read <= set(FIELDS)
