"""Machine translation engines.

An `MtEngine` translates batches of sentences for the language pairs its capabilities list.
Requests for one pair that arrive while a call for that pair is running wait and go out
together as the next batch (batching without timers: the busier the engine, the bigger the
batches). The base owns retries, metrics and that batching; engines implement
`_translate_batch`.

`Glossary` keeps terms that must be translated a fixed way: they are swapped for
placeholders the engines pass through untouched, then for the fixed translation.
"""

from __future__ import annotations

import asyncio
import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from parley.clock import Clock
from parley.errors import EngineError
from parley.interpretation.engine import EngineBase, RetryPolicy
from parley.tasks import TaskOwner

Pair = tuple[str, str]


class PairUnavailable(EngineError):
    """No installed engine translates this language pair (not even through a pivot)."""

    def __init__(self, source: str, target: str, engine: str = "") -> None:
        super().__init__(f"no translation engine for {source}->{target}", retryable=False, engine=engine)
        self.source = source
        self.target = target


@dataclass(frozen=True)
class MtCapabilities:
    pairs: frozenset[Pair]
    max_batch: int = 64
    kind: str = "neural"  # or "rule-based"; shown to organisers next to the pair


@dataclass(eq=False)
class _PairQueue:
    pending: list[tuple[list[str], asyncio.Future[list[str]]]] = field(default_factory=list)
    running: bool = False


class MtEngine(EngineBase, ABC):
    stage = "mt"
    capabilities: MtCapabilities

    def __init__(self, *, clock: Clock, retry: RetryPolicy | None = None) -> None:
        super().__init__(clock=clock, retry=retry)
        self._queues: dict[Pair, _PairQueue] = {}
        self._tasks = TaskOwner(f"mt:{self.name}")
        self.batches = 0

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.capabilities.pairs

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if not self.supports(source, target):
            raise PairUnavailable(source, target, self.name)
        if not texts:
            return []
        if not self.started:
            await self.start()
        queue = self._queues.setdefault((source, target), _PairQueue())
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        queue.pending.append(([" ".join(t.split()) for t in texts], future))
        if not queue.running:
            queue.running = True
            self._tasks.spawn(f"batch:{source}-{target}", self._drain(queue, source, target))
        return await future

    async def _drain(self, queue: _PairQueue, source: str, target: str) -> None:
        try:
            while queue.pending:
                batch: list[tuple[list[str], asyncio.Future[list[str]]]] = []
                size = 0
                while queue.pending and (not batch or size + len(queue.pending[0][0]) <= self.capabilities.max_batch):
                    item = queue.pending.pop(0)
                    batch.append(item)
                    size += len(item[0])
                flat = [t for texts, _ in batch for t in texts]
                try:
                    out = await self.call("translate", functools.partial(self._checked, flat, source, target))
                except EngineError as exc:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                self.batches += 1
                i = 0
                for texts, fut in batch:
                    if not fut.done():
                        fut.set_result(out[i : i + len(texts)])
                    i += len(texts)
        finally:
            queue.running = False
            for _, fut in queue.pending:  # only left when this task was cancelled
                fut.cancel()
            queue.pending.clear()

    async def _checked(self, texts: list[str], source: str, target: str) -> list[str]:
        nonempty = [i for i, t in enumerate(texts) if t]
        out = [""] * len(texts)
        if nonempty:
            got = await self._translate_batch([texts[i] for i in nonempty], source, target)
            if len(got) != len(nonempty):
                raise EngineError(f"{self.name} returned {len(got)} lines for {len(nonempty)}", retryable=False,
                                  engine=self.name)
            for i, t in zip(nonempty, got, strict=True):
                out[i] = t.strip()
        return out

    @abstractmethod
    async def _translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate non-empty single-line texts; same length and order out."""

    async def aclose(self) -> None:
        await self._tasks.stop()
        await super().aclose()


class Glossary:
    """Fixed translations of terms (names, programme titles), per language pair.

    Matching is case-insensitive on whole words; the placeholder is a letters-and-digits token
    (``ZXQ0Z``) that rule-based and neural engines copy through.
    """

    def __init__(self, entries: Mapping[Pair, Mapping[str, str]] | None = None) -> None:
        self._entries: dict[Pair, dict[str, str]] = {}
        for pair, terms in (entries or {}).items():
            for term, translation in terms.items():
                self.add(pair[0], pair[1], term, translation)

    def add(self, source: str, target: str, term: str, translation: str) -> None:
        self._entries.setdefault((source, target), {})[term] = translation

    def __bool__(self) -> bool:
        return bool(self._entries)

    def items(self) -> list[tuple[Pair, str, str]]:
        """Every ((source, target), term, translation), e.g. to send to a worker."""
        return [(pair, term, translation) for pair, terms in self._entries.items()
                for term, translation in terms.items()]

    def protect(self, text: str, source: str, target: str) -> tuple[str, dict[str, str]]:
        terms = self._entries.get((source, target))
        if not terms:
            return text, {}
        mapping: dict[str, str] = {}
        for term in sorted(terms, key=len, reverse=True):
            pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
            if pattern.search(text):
                token = f"ZXQ{len(mapping)}Z"
                mapping[token] = terms[term]
                text = pattern.sub(token, text)
        return text, mapping

    @staticmethod
    def restore(text: str, mapping: Mapping[str, str]) -> str:
        for token, translation in mapping.items():
            text = re.sub(rf"{token}", translation, text, flags=re.IGNORECASE)
        return text
