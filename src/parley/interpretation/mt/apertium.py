"""Apertium (Debian packages, rule-based) through its command-line pipeline.

One subprocess per batch: sentences go in one per line and come back one per line (the
plain-text format keeps line breaks). A long-running pipe would save ~0.1 s of start-up per
batch but Apertium's null-flush mode has been seen to hang, and batching already amortises
the start-up, so each call is a short-lived process with a timeout, killed if it overruns.
``-u`` keeps unknown words unmarked (no ``*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

from parley.clock import Clock
from parley.errors import EngineError, ModelMissing
from parley.interpretation.engine import RetryPolicy
from parley.interpretation.mt.base import MtCapabilities, MtEngine

log = logging.getLogger(__name__)

# Apertium names languages with ISO 639-3 or 639-1 codes; Parley uses 639-1.
ISO3 = {"eng": "en", "spa": "es", "fra": "fr", "cat": "ca", "por": "pt", "deu": "de", "ita": "it",
        "ara": "ar", "rus": "ru", "zho": "zh", "cmn": "zh", "glg": "gl", "oci": "oc", "eus": "eu",
        "nld": "nl", "ron": "ro", "ukr": "uk", "pol": "pl"}


def parse_modes(listing: str) -> dict[tuple[str, str], str]:
    """``apertium -l`` output -> {(src, tgt): mode}; variants (``spa-eng_US``) are skipped."""
    modes: dict[tuple[str, str], str] = {}
    for line in listing.split():
        parts = line.strip().split("-")
        if len(parts) != 2 or "_" in line:
            continue
        src, tgt = (ISO3.get(p, p) for p in parts)
        if len(src) == 2 and len(tgt) == 2:
            modes.setdefault((src, tgt), line.strip())
    return modes


class ApertiumEngine(MtEngine):
    name = "apertium"

    def __init__(self, *, clock: Clock, binary: str = "apertium", timeout_s: float = 20.0,
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.binary = binary
        self.timeout_s = timeout_s
        self.modes: dict[tuple[str, str], str] = {}
        self.capabilities = MtCapabilities(pairs=frozenset(), max_batch=256, kind="rule-based")

    async def _start(self) -> None:
        path = shutil.which(self.binary)
        if path is None:
            raise ModelMissing("apertium is not installed: apt-get install apertium apertium-eng-spa "
                               "apertium-fr-es", engine=self.name)
        out = await self._run([path, "-l"], b"")
        self.modes = parse_modes(out.decode("utf-8", "replace"))
        if not self.modes:
            raise ModelMissing("apertium has no language pairs installed (e.g. apt-get install apertium-eng-spa)",
                               engine=self.name)
        self.binary = path
        self.capabilities = MtCapabilities(pairs=frozenset(self.modes), max_batch=256, kind="rule-based")
        log.info("apertium pairs: %s", ", ".join(f"{s}-{t}" for s, t in sorted(self.modes)))

    async def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        mode = self.modes[(source, target)]
        data = "\n".join(texts).encode("utf-8") + b"\n"
        out = (await self._run([self.binary, "-u", mode], data)).decode("utf-8", "replace")
        lines = out.rstrip("\n").split("\n")
        if len(lines) != len(texts):
            # the line structure did not survive (should not happen); one call per sentence is slower but exact
            log.warning("apertium %s: %d lines back for %d, retranslating one by one", mode, len(lines), len(texts))
            lines = [(await self._run([self.binary, "-u", mode], t.encode() + b"\n")).decode("utf-8", "replace")
                     for t in texts]
        return [line.strip() for line in lines]

    async def _run(self, argv: list[str], data: bytes) -> bytes:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(data), self.timeout_s)
        except TimeoutError as exc:
            raise EngineError(f"apertium timed out after {self.timeout_s:.0f}s", retryable=True,
                              engine=self.name) from exc
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise EngineError(f"apertium exited with {proc.returncode}", retryable=False, engine=self.name)
        return out
