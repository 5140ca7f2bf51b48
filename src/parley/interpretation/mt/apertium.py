"""Apertium (Debian packages, rule-based) through its command-line pipeline.

Each mode runs as one long-running null-flush pipeline (what ``apertium-wblank-mode -z``
prints for the pair's ``.mode`` file, started once): a batch goes in as escaped lines ending
in ``\n\0`` and comes back when the ``\0`` does, in 2-6 ms. Starting ``apertium`` for every
batch costs ~0.25 s and ~0.4 CPU-seconds (a dozen processes each loading its dictionaries),
which on a 2-core machine took CPU from recognition while four people spoke. ``apertium -z``
itself hangs (``apertium-destxt`` buffers its output), and a request without the final line
break never comes back (the analyser waits for more input), hence the escaping and framing here.
A pipeline that times out, dies or answers with the wrong number of lines is killed and
restarted; that batch, and every batch once a mode has failed three times, goes through a
one-shot ``apertium -u`` process instead. ``-n`` in the generator keeps unknown words
unmarked (no ``*``), as ``apertium -u`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
from pathlib import Path

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


_SPECIAL = re.compile(r"([\\^$@\[\]{}/<>])")
_ESCAPED = re.compile(r"\\(.)|\[\]")


def escape(text: str) -> str:
    """Plain text -> Apertium stream format (what ``apertium-destxt`` does for one line)."""
    return _SPECIAL.sub(r"\\\1", text)


def unescape(text: str) -> str:
    """Apertium stream format -> plain text, with runs of blanks made one space."""
    return " ".join(_ESCAPED.sub(lambda m: m.group(1) or "", text).split())


class NullFlushPipe:
    """One mode's pipeline kept running; one batch at a time."""

    MAX_FAILURES = 3

    def __init__(self, command: str, *, name: str, timeout_s: float) -> None:
        self.command = command
        self.name = name
        self.timeout_s = timeout_s
        self.failures = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def usable(self) -> bool:
        return self.failures < self.MAX_FAILURES

    async def translate(self, texts: list[str]) -> list[str] | None:
        """The lines translated, or None when the pipeline failed (it is restarted next time)."""
        async with self._lock:
            try:
                proc = await self._running()
                assert proc.stdin is not None and proc.stdout is not None
                # lines joined as ``apertium-destxt -n`` joins them (superblanks), so the tagger
                # sees what a one-shot ``apertium`` call sees
                proc.stdin.write(("[\n]".join(escape(t) for t in texts) + "[][\n]\n").encode("utf-8") + b"\0")
                await proc.stdin.drain()
                out = await asyncio.wait_for(proc.stdout.readuntil(b"\0"), self.timeout_s)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self._fail(f"{exc.__class__.__name__}")
                return None
            text = out[:-1].decode("utf-8", "replace").rstrip("\n").removesuffix("[][\n]")
            lines = text.split("[\n]")
            if len(lines) != len(texts):
                self._fail(f"{len(lines)} lines back for {len(texts)}")
                return None
            return [unescape(line) for line in lines]

    async def _running(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            # its own process group, so that stopping it stops every stage of the pipe
            self._proc = await asyncio.create_subprocess_exec(
                "bash", "-c", self.command, "apertium", "-n", "", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
                limit=1 << 22)
        return self._proc

    def _fail(self, why: str) -> None:
        self.failures += 1
        log.warning("apertium %s pipeline failed (%s, %d/%d): restarting it", self.name, why, self.failures,
                    self.MAX_FAILURES)
        self.kill()

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    async def aclose(self) -> None:
        """End of input lets every stage finish and be reaped by the shell; kill if it does not."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            self._proc = proc
            self.kill()
            await proc.wait()


class ApertiumEngine(MtEngine):
    name = "apertium"

    def __init__(self, *, clock: Clock, binary: str = "apertium", timeout_s: float = 20.0,
                 persistent: bool = True, data_dir: Path | None = None, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self.binary = binary
        self.timeout_s = timeout_s
        self.persistent = persistent
        self.data_dir = data_dir or Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium"))
        self.modes: dict[tuple[str, str], str] = {}
        self._pipes: dict[str, NullFlushPipe | None] = {}  # None: this mode runs one-shot
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
        pipe = await self._pipe(mode)
        if pipe is not None and pipe.usable:
            lines = await pipe.translate(texts)
            if lines is not None:
                return lines
        return await self._one_shot(texts, mode)

    async def _pipe(self, mode: str) -> NullFlushPipe | None:
        if not self.persistent:
            return None
        if mode not in self._pipes:
            self._pipes[mode] = None
            tool = shutil.which("apertium-wblank-mode")
            mode_file = self.data_dir / "modes" / f"{mode}.mode"
            if tool is not None and mode_file.is_file():
                with contextlib.suppress(EngineError):
                    command = (await self._run([tool, "-z", str(mode_file)], b"")).decode().strip()
                    if command:
                        self._pipes[mode] = NullFlushPipe(command, name=mode, timeout_s=self.timeout_s)
            if self._pipes[mode] is None:
                log.info("apertium %s: no null-flush pipeline (apertium-wblank-mode or %s missing): one "
                         "process per batch", mode, mode_file)
        return self._pipes[mode]

    async def _one_shot(self, texts: list[str], mode: str) -> list[str]:
        data = "\n".join(texts).encode("utf-8") + b"\n"
        out = (await self._run([self.binary, "-u", mode], data)).decode("utf-8", "replace")
        lines = out.rstrip("\n").split("\n")
        if len(lines) != len(texts):
            # the line structure did not survive (should not happen); one call per sentence is slower but exact
            log.warning("apertium %s: %d lines back for %d, retranslating one by one", mode, len(lines), len(texts))
            lines = [(await self._run([self.binary, "-u", mode], t.encode() + b"\n")).decode("utf-8", "replace")
                     for t in texts]
        return [" ".join(line.split()) for line in lines]

    async def aclose(self) -> None:
        for pipe in self._pipes.values():
            if pipe is not None:
                await pipe.aclose()
        self._pipes.clear()
        await super().aclose()

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
